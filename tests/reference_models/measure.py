"""Measure a reference model: parameter count, fvcore conv + linear MAdds, output shape."""

from __future__ import annotations

import torch
from torch import nn

# fvcore's by_operator() keys for the MAC-counting handles: aten::_convolution -> "conv",
# aten::linear -> "linear", aten::addmm -> "addmm" (older traces), aten::matmul -> "matmul".
MAC_OPERATORS = ("conv", "linear", "addmm", "matmul")


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def fvcore_madds(model: nn.Module, x: torch.Tensor) -> tuple[int, dict[str, int]]:
    """Sum of fvcore's conv and linear entries (one per multiply-add, bias excluded) and the breakdown."""
    from fvcore.nn import FlopCountAnalysis

    fa = FlopCountAnalysis(model, x)
    fa.unsupported_ops_warnings(False)
    fa.uncalled_modules_warnings(False)
    by_op = dict(fa.by_operator())
    return sum(v for k, v in by_op.items() if k in MAC_OPERATORS), by_op


def measure(model: nn.Module, size: int) -> dict:
    model.eval()
    x = torch.randn(1, 3, size, size)
    madds, by_op = fvcore_madds(model, x)
    with torch.no_grad():
        y = model(x)
    return {"params": param_count(model), "madds": madds, "by_operator": by_op, "output": tuple(y.shape)}
