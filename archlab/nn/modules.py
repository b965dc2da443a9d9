"""The small torch modules archlab's op table names besides ``torch.nn``'s: graph ops get a module each, so every
plan layer has a name in the built network and in profilers. Imported only when a network is built."""

from __future__ import annotations

import torch
import torch.nn as nn


class Add(nn.Module):
    """Residual add of two or more tensors."""

    def forward(self, *xs):
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out = out + x
        return out


class Mul(nn.Module):
    """Channel gate: x * gate (squeeze-and-excitation scale)."""

    def forward(self, x, gate):
        return x * gate


class Concat(nn.Module):
    """Concatenation along channels."""

    def forward(self, *xs):
        return torch.cat(xs, 1)


class _MaskMul(torch.autograd.Function):
    """x * s with s = 1 where x > 0 else the slope; the backward (input only) is one multiply by s."""

    @staticmethod
    def forward(ctx, x, slope):
        s = torch.where(x > 0, torch.ones((), dtype=x.dtype), slope.view(1, -1, *([1] * (x.dim() - 2))))
        ctx.save_for_backward(s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return grad * s, None


class InputGradPReLU(nn.Module):
    """PReLU with fixed slopes whose backward computes only the input gradient (ERF measurements)."""

    def __init__(self, slope: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("slope", slope.detach().clone())

    def forward(self, x):
        return _MaskMul.apply(x, self.slope)


class DecomposedPReLU(nn.Module):
    """PReLU as ``relu(x) + slope * min(x, 0)``: the same function, exported to ONNX as Relu, Min, Mul, Add.

    ONNX Runtime's own PRelu kernel branches per element: on mixed-sign data (a real network's activations)
    it is 8x slower than on one-signed data, and makes MobileFaceNet slower in ORT than in eager PyTorch; the
    decomposition runs at the same speed whatever the signs. Built from a ``nn.PReLU`` (its slopes copied).
    """

    def __init__(self, prelu: nn.PReLU) -> None:
        super().__init__()
        self.weight = nn.Parameter(prelu.weight.detach().clone(), requires_grad=prelu.weight.requires_grad)

    def forward(self, x):
        w: torch.Tensor = self.weight
        if x.dim() > 1 and w.numel() > 1:
            w = w.view(1, -1, *([1] * (x.dim() - 2)))
        return torch.relu(x) + w * torch.clamp(x, max=0)
