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


class ChannelSlice(nn.Module):
    """Channels [start, stop) of a map, as a view (one part of a channel split, ShuffleNetV2's ``chunk``)."""

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        return x[:, self.start : self.stop]

    def extra_repr(self) -> str:
        return f"start={self.start}, stop={self.stop}"


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


class Call(nn.Module):
    """A call archlab has no rule for (an ``opaque`` layer), made again as it was traced: ``fn(*args, **kwargs)``
    with the layer's input tensors in their places (``{"tensor": i}`` in the JSON ``args``).

    ``target`` is the callable itself (a traced module's plan hands it in); from a table, ``fn`` is looked up by
    name among torch's tensor functions and Tensor methods only (:func:`archlab.nn.calls.resolve`)."""

    def __init__(self, fn: str, args: str, target=None, template=None) -> None:
        import json

        from archlab.errors import ArchlabError
        from archlab.nn.calls import resolve

        super().__init__()
        self.fn = fn
        if template is not None:  # a traced module's own call: its arguments as objects (constants included)
            self.target = target
            self.call_args, self.call_kwargs, self.item = template
            return
        if not args:
            raise ArchlabError(f"archlab cannot build {fn}: it has no rule and its call was not recorded")
        recipe = json.loads(args)
        if "module" in recipe:  # a torch.nn module without a rule, made again from its constructor arguments
            from archlab.nn.calls import resolve_module

            self.inner = resolve_module(recipe["module"])(**recipe.get("kwargs", {}))
            self.target, self.call_args, self.call_kwargs = self.inner, [{"tensor": 0}], {}
            self.item = recipe.get("item")
            return
        if "args" not in recipe:
            raise ArchlabError(f"archlab cannot build {fn}: {recipe.get('why', 'its call was not recorded')}")
        self.target = target if target is not None else resolve(fn)
        self.call_args, self.call_kwargs, self.item = recipe["args"], recipe.get("kwargs", {}), recipe.get("item")

    def forward(self, *xs):
        if self.target is getattr(self, "inner", None):
            out = self.inner(*xs)
            return out if self.item is None else out[self.item]
        out = self.target(*_fill(self.call_args, xs), **_fill(self.call_kwargs, xs))
        return out if self.item is None else out[self.item]

    def extra_repr(self) -> str:
        return self.fn


def _fill(value, xs):
    """The recorded arguments with the input tensors put back (``{"tensor": i}`` -> ``xs[i]``)."""
    if isinstance(value, dict):
        if set(value) == {"tensor"}:
            return xs[value["tensor"]]
        return {k: _fill(v, xs) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(v, xs) for v in value)
    return value


class DecomposedPReLU(nn.Module):
    """PReLU written with ops every ONNX runtime runs fast, the same function exactly: ``max(x, a*x)`` (Mul, Max)
    when every slope ``a`` lies in [0, 1] (then a*x <= x for x >= 0 and a*x >= x for x < 0, also after
    rounding), else ``relu(x) + a*min(x, 0)`` (Relu, Min, Mul, Add).

    ONNX Runtime's own PRelu kernel branches per element: on mixed-sign data (a real network's activations)
    it is 8x slower than on one-signed data, and makes MobileFaceNet slower in ORT than in eager PyTorch; both
    forms run at the same speed whatever the signs, the max form about 13% faster than the other on
    MobileFaceNet. Built from a ``nn.PReLU`` (its slopes copied; an export-time copy, not for training).
    """

    def __init__(self, prelu: nn.PReLU) -> None:
        super().__init__()
        w = prelu.weight.detach().clone()
        self.weight = nn.Parameter(w, requires_grad=False)
        self.form = "max" if bool(((w >= 0) & (w <= 1)).all()) else "relu-min"

    def forward(self, x):
        w: torch.Tensor = self.weight
        if x.dim() > 1 and w.numel() > 1:
            w = w.view(1, -1, *([1] * (x.dim() - 2)))
        if self.form == "max":
            return torch.maximum(x, w * x)
        return torch.relu(x) + w * torch.clamp(x, max=0)

    def extra_repr(self) -> str:
        return f"{self.weight.numel()} slopes, {self.form}"
