"""What PyTorch keeps alive while a built network runs: the check of the plan's memory rule."""

from __future__ import annotations

from archlab.ir.plan import Plan


def measure_peak(module, plan: Plan, batch: int = 1, threads: int | None = 1) -> int:
    """Peak bytes of live tensors seen at each layer's forward hook when PyTorch runs ``module``.

    Counts the input (held by the caller) and every layer output while a Python reference to it exists,
    once per storage (views share). Comparable with ``memory(plan, batch, keep_input=True).peak_bytes``.
    ``threads``: torch intra-op threads for the pass (restored after; None keeps the current setting).
    """
    import weakref

    import torch

    refs: dict[int, int] = {}
    sizes: dict[int, int] = {}
    peak = [0]

    def release(ptr: int) -> None:
        refs[ptr] -= 1
        if not refs[ptr]:
            del refs[ptr], sizes[ptr]

    def track(t) -> None:
        st = t.untyped_storage()
        ptr = st.data_ptr()
        refs[ptr] = refs.get(ptr, 0) + 1
        sizes[ptr] = st.nbytes()
        weakref.finalize(t, release, ptr)

    def hook(_module, _inputs, output) -> None:
        for t in output if isinstance(output, (tuple, list)) else (output,):
            track(t)
        peak[0] = max(peak[0], sum(sizes.values()))

    names = {layer.name for layer in plan.layers}
    handles = [m.register_forward_hook(hook) for n, m in module.named_modules() if n in names]
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    try:
        x = torch.zeros(batch, *plan.input)
        track(x)
        peak[0] = sizes[x.untyped_storage().data_ptr()]
        with torch.no_grad():
            out = module(x)
        del out
    finally:
        torch.set_num_threads(previous)
        for h in handles:
            h.remove()
    return peak[0]
