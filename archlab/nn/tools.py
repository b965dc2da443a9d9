"""Running fvcore and thop on a built network, and the whole cross-check (build, run, explain, memory).

The join of their results to the plan and the rule for every difference: :mod:`archlab.static.crosscheck`.
"""

from __future__ import annotations

from archlab.ir.plan import Plan
from archlab.static.crosscheck import CheckReport, explain
from archlab.timing.progress import Progress

CHECK_STEPS = 5  # build, fvcore FLOPs, fvcore activations, thop, PyTorch memory


def tool_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("fvcore", "ultralytics-thop", "thop", "torch"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def _leaf_thop(info: dict, prefix: str = "") -> dict[str, tuple[float, float]]:
    out = {}
    for name, (ops, params, sub) in info.items():
        full = f"{prefix}{name}"
        if sub:
            out.update(_leaf_thop(sub, full + "."))
        else:
            out[full] = (ops, params)
    return out


def _int(v) -> int:
    return int(round(float(v)))


def run_tools(module, plan: Plan, batch: int = 1, progress: Progress | None = None) -> dict:
    """Run fvcore and thop on a built network; per-module results keyed by module path.
    ``progress``: steps 2-4 of the cross-check (:data:`CHECK_STEPS`)."""
    say = progress or (lambda done, total, what: None)
    import logging
    import warnings

    import torch

    with warnings.catch_warnings():  # fvcore's import touches torch.jit.script, deprecated in recent torch
        warnings.simplefilter("ignore", DeprecationWarning)
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis, parameter_count
    from thop import profile as thop_profile

    module.eval()
    x = torch.zeros(batch, *plan.input)
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        say(1, CHECK_STEPS, "cross-check: fvcore FlopCountAnalysis")
        fa = FlopCountAnalysis(module, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        fa.tracer_warnings("none")
        flops = fa.by_module()
        unsupported = {layer.name: dict(fa.unsupported_ops(layer.name)) for layer in plan.layers}
        say(2, CHECK_STEPS, "cross-check: fvcore ActivationCountAnalysis")
        aa = ActivationCountAnalysis(module, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        aa.tracer_warnings("none")
        acts = aa.by_module()
        params = parameter_count(module)
        say(3, CHECK_STEPS, "cross-check: thop profile")
        ops, total_params, info = thop_profile(module, (x,), verbose=False, ret_layer_info=True)
    return {
        "fvcore": {
            "flops": {k: int(v) for k, v in flops.items()},
            "activations": {k: int(v) for k, v in acts.items()},
            "params": dict(params),
            "unsupported": unsupported,
            "unsupported_total": dict(fa.unsupported_ops()),
            "total": int(fa.total()),
            "activations_total": int(aa.total()),
        },
        "thop": {
            "layers": {k: (_int(o), _int(p)) for k, (o, p) in _leaf_thop(info).items()},
            "total": _int(ops),
            "params": _int(total_params),
        },
    }


def crosscheck(
    plan: Plan, batch: int = 1, *, memory: bool = True, threads: int | None = 1, progress: Progress | None = None
) -> CheckReport:
    """Build the plan's network, run fvcore and thop on it, and compare (see the module docstring).

    With ``memory``, also measure the live-tensor peak in PyTorch and compare it with the plan's rule.
    ``threads``: torch intra-op threads while the tools run (restored after; None keeps the current setting).
    ``progress(done, total, what)``: the stage ``cross-check``, :data:`CHECK_STEPS` steps.
    """
    say = progress or (lambda done, total, what: None)
    say(0, CHECK_STEPS, f"cross-check: build {plan.model}")
    from dataclasses import replace

    import torch

    from archlab.nn.build import build_plan
    from archlab.nn.memory_probe import measure_peak
    from archlab.static.memory import memory as plan_memory

    # Counting needs shapes, not speed: one intra-op thread avoids oversubscription, which on a busy 2-core
    # machine made the tools' forward passes several times slower (benchmarks/bench_check.py).
    threads = torch.get_num_threads() if threads is None else threads
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        module = build_plan(plan).eval()
        report = explain(plan, run_tools(module, plan, batch, progress), batch, tool_versions())
        if not memory:
            say(CHECK_STEPS, CHECK_STEPS, "cross-check: done")
            return report
        say(4, CHECK_STEPS, "cross-check: PyTorch live-tensor memory")
        predicted = plan_memory(plan, batch, keep_input=True).peak_bytes
        measured = measure_peak(module, plan, batch)
        say(CHECK_STEPS, CHECK_STEPS, "cross-check: done")
    finally:
        torch.set_num_threads(previous)
    mem = {
        "plan_peak_bytes_input_held": predicted,
        "torch_peak_bytes": measured,
        "agree": predicted == measured,
        "rule": "torch: bytes of the input and of layer outputs still referenced, at each layer's forward hook",
    }
    problems = report.problems
    if plan.uncounted():  # their outputs may not be fp32 (torch.fft: complex): the rule cannot size them exactly
        mem["agree"] = None
        mem["note"] = "not compared: the plan has ops archlab has no rule for, sized as fp32"
    elif predicted != measured:
        problems = (*problems, f"memory: plan peak {predicted:,} B (input held) != PyTorch live peak {measured:,} B")
    return replace(report, memory=mem, problems=problems)
