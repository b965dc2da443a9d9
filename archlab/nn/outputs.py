"""A built network's outputs: one tensor, or a tuple of them (a detector's heads), and how far two sets differ."""

from __future__ import annotations


def as_list(out) -> list:
    """A network's outputs as a list: one tensor, or several for multi-output networks."""
    return list(out) if isinstance(out, (tuple, list)) else [out]


def max_difference(out, ref) -> tuple[float, float]:
    """(max |out - ref|, max |ref|) over every output; ``out`` may hold numpy arrays (ONNX Runtime)."""
    import torch

    outs, refs = as_list(out), as_list(ref)
    if len(outs) != len(refs):
        raise ValueError(f"{len(outs)} outputs against {len(refs)}")
    diff = scale = 0.0
    for o, r in zip(outs, refs):
        if r.numel():
            o = torch.as_tensor(o).reshape(r.shape)
            diff = max(diff, float((o.float() - r.float()).abs().max()))
            scale = max(scale, float(r.abs().max()))
    return diff, scale
