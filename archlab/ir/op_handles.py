"""The small pure handles of the op table (:mod:`archlab.ir.ops`): for each op its shape rule (``make``), its
counts, its torch module and what fvcore and thop report for it; and the activation kinds' facts.

A ``make`` handle takes the layer's name, row, input names and input shapes, and the op's fields, and returns
the :class:`~archlab.ir.layer.Layer` (counts not yet filled in), raising a ShapeError that names the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archlab.errors import ShapeError
from archlab.ir.layer import Layer, numel


@dataclass(frozen=True)
class ToolRule:
    """What fvcore or thop reports for one layer under that tool's own rule."""

    expected: int  # the tool's count for this layer
    short: str  # label shown in tables, e.g. "BN 2/elt"
    unsupported: tuple[str, ...] | None = ()  # fvcore: aten ops it lists as unsupported (None: not checked)


@dataclass(frozen=True)
class Counts:
    params: int = 0
    madds: int = 0
    other_ops: int = 0
    activations: int = 0


@dataclass(frozen=True)
class Act:
    """One activation kind: its torch module, fvcore's aten op and whether it has per-channel parameters."""

    module: str  # class in torch.nn
    label: str  # human name
    aten: str  # the aten op fvcore sees
    fvcore_ignores: bool = False  # on fvcore's ignore list (not counted, not listed)
    thop_per_element: bool = False  # thop counts 1 per element
    per_channel: bool = False  # one learned parameter per channel (PReLU)


# archlab.spec.fields.ACTS names the activations a table may use; each has its facts here (tests/test_ops.py).
ACTIVATIONS = {
    "relu": Act("ReLU", "ReLU", "relu", fvcore_ignores=True),
    "relu6": Act("ReLU6", "ReLU6", "hardtanh"),
    "prelu": Act("PReLU", "PReLU", "prelu", thop_per_element=True, per_channel=True),
    "hardswish": Act("Hardswish", "hard-swish", "hardswish"),
    "hardsigmoid": Act("Hardsigmoid", "hard-sigmoid", "hardsigmoid"),
    "silu": Act("SiLU", "SiLU (swish)", "silu"),
    "sigmoid": Act("Sigmoid", "sigmoid", "sigmoid"),
    "gelu": Act("GELU", "GELU", "gelu"),
    "leakyrelu": Act("LeakyReLU", "leaky ReLU (slope 0.01)", "leaky_relu"),
    "tanh": Act("Tanh", "tanh", "tanh"),
}
ACT_SYNONYMS = {"swish": "silu"}  # a table may say swish (EfficientNet's paper); the plan says silu
POOL_KINDS = ("max", "avg", "global")


def _elements(layer: Layer, batch: int) -> tuple[int, int]:
    return numel(layer.in_shape) * batch, numel(layer.out_shape) * batch


def feature_map(shape: tuple[int, ...], what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(f"{what} needs a feature map (C, H, W) but receives a vector of {shape[0]}")
    return shape[0], shape[1], shape[2]


def layer_fields(name, row, inputs, in_shapes, op, kind="", **fields) -> dict[str, Any]:
    return dict(name=name, op=op, kind=kind, row=row, inputs=tuple(inputs), in_shape=tuple(in_shapes[0]), **fields)


def madds(layer: Layer, batch: int) -> ToolRule:
    return ToolRule(layer.madds * batch, "")


def nothing(label: str = "", unsupported: tuple[str, ...] | None = ()) -> Callable[[Layer, int], ToolRule]:
    return lambda layer, batch: ToolRule(0, label, unsupported)


# -- conv -------------------------------------------------------------------------------------------------------


def make_conv(name, row, inputs, in_shapes, *, c, kernel, stride, padding, dilation, groups=1, bias=False):
    cin, h, w = feature_map(in_shapes[0], "a convolution")
    if c < 1:
        raise ShapeError(f"output channels must be >= 1, got {c}", field="c")
    if cin % groups or c % groups:
        raise ShapeError(
            f"groups={groups} must divide both input channels {cin} and output channels {c}", field="groups"
        )
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    keh, kew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if keh > h + 2 * ph or kew > w + 2 * pw:
        raise ShapeError(
            f"kernel {keh}x{kew} is larger than its padded input {h + 2 * ph}x{w + 2 * pw} "
            f"(input {h}x{w} here: is the network input too small for the strides before?)",
            field="k",
        )
    out = (c, (h + 2 * ph - keh) // sh + 1, (w + 2 * pw - kew) // sw + 1)
    return Layer(
        **layer_fields(name, row, inputs, in_shapes, "conv"),
        out_shape=out,
        kernel=tuple(kernel),
        stride=tuple(stride),
        padding=tuple(padding),
        dilation=tuple(dilation),
        groups=groups,
        bias=bias,
    )


def count_conv(layer: Layer) -> Counts:
    c, ho, wo = layer.out_shape
    kh, kw = layer.kernel or (1, 1)
    weights = c * (layer.in_shape[0] // layer.groups) * kh * kw
    return Counts(
        params=weights + (c if layer.bias else 0), madds=weights * ho * wo, activations=numel(layer.out_shape)
    )


def conv_module(layer: Layer) -> tuple[str, dict]:
    return "Conv2d", dict(
        in_channels=layer.in_shape[0],
        out_channels=layer.out_shape[0],
        kernel_size=layer.kernel,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        groups=layer.groups,
        bias=layer.bias,
    )


# -- linear -----------------------------------------------------------------------------------------------------


def make_linear(name, row, inputs, in_shapes, *, out_features, bias=False):
    if len(in_shapes[0]) != 1:
        raise ShapeError(f"a linear layer needs a vector but receives a map {in_shapes[0]}; flatten first")
    return Layer(**layer_fields(name, row, inputs, in_shapes, "linear"), out_shape=(out_features,), bias=bias)


def count_linear(layer: Layer) -> Counts:
    (fout,) = layer.out_shape
    weights = layer.in_shape[0] * fout
    return Counts(params=weights + (fout if layer.bias else 0), madds=weights, activations=fout)


# -- bn ---------------------------------------------------------------------------------------------------------


def make_bn(name, row, inputs, in_shapes, *, eps=1e-5, momentum=0.1):
    shape = in_shapes[0]
    if not eps > 0:
        raise ShapeError(f"BN eps must be > 0, got {eps!r}", field="bn_eps")
    if momentum is not None and not 0 <= momentum <= 1:  # None: a cumulative average (torch allows it)
        raise ShapeError(f"BN momentum must be in [0, 1], got {momentum!r}", field="bn_momentum")
    kind = "2d" if len(shape) == 3 else "1d"
    return Layer(**layer_fields(name, row, inputs, in_shapes, "bn", kind), out_shape=shape, eps=eps, momentum=momentum)


def count_bn(layer: Layer) -> Counts:
    return Counts(params=2 * layer.out_shape[0], other_ops=2 * numel(layer.out_shape))


def bn_module(layer: Layer) -> tuple[str, dict]:
    cls = "BatchNorm2d" if layer.kind == "2d" else "BatchNorm1d"
    return cls, {"num_features": layer.out_shape[0], "eps": layer.eps, "momentum": layer.momentum}


# -- act --------------------------------------------------------------------------------------------------------


def make_act(name, row, inputs, in_shapes, *, kind):
    kind = ACT_SYNONYMS.get(kind, kind)
    if kind not in ACTIVATIONS:
        raise ShapeError(f"unknown activation {kind!r}; known: {', '.join(ACTIVATIONS)}", field="act")
    return Layer(**layer_fields(name, row, inputs, in_shapes, "act", kind), out_shape=in_shapes[0])


def count_act(layer: Layer) -> Counts:
    per_channel = ACTIVATIONS[layer.kind].per_channel
    return Counts(params=layer.out_shape[0] if per_channel else 0, other_ops=numel(layer.out_shape))


def act_module(layer: Layer) -> tuple[str, dict]:
    act = ACTIVATIONS[layer.kind]
    return act.module, ({"num_parameters": layer.out_shape[0]} if act.per_channel else {})


def fvcore_act(layer: Layer, batch: int) -> ToolRule:
    act = ACTIVATIONS[layer.kind]
    if act.fvcore_ignores:
        return ToolRule(0, f"{act.label} ignored")
    return ToolRule(0, f"{act.label} unsupported", (f"aten::{act.aten}",))


def thop_act(layer: Layer, batch: int) -> ToolRule:
    act = ACTIVATIONS[layer.kind]
    if act.thop_per_element:
        return ToolRule(numel(layer.out_shape) * batch, f"{act.label} 1/elt")
    return ToolRule(0, f"{act.label} 0")


# -- pool -------------------------------------------------------------------------------------------------------


def pooled_size(n: int, k: int, s: int, p: int, ceil: bool = False) -> int:
    """Output length of a pooling window along one axis, as torch computes it (``ceil``: torch's ceil_mode, where
    the last window must still start inside the input or its left padding)."""
    if not ceil:
        return (n + 2 * p - k) // s + 1
    out = -(-(n + 2 * p - k) // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def make_pool(name, row, inputs, in_shapes, *, kind, kernel=(3, 3), stride=(2, 2), padding=(0, 0), ceil=False):
    c, h, w = feature_map(in_shapes[0], "a pooling layer")
    base = layer_fields(name, row, inputs, in_shapes, "pool", kind)
    if kind == "global":
        return Layer(**base, out_shape=(c, 1, 1), kernel=(h, w), stride=(1, 1), padding=(0, 0))
    if kind not in POOL_KINDS:
        raise ShapeError(f"unknown pool kind {kind!r}; known: {', '.join(POOL_KINDS)}", field="kind")
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if 2 * ph > kh or 2 * pw > kw:
        raise ShapeError(f"pool padding {ph} must be at most half the kernel {kh}", field="padding")
    if kh > h + 2 * ph or kw > w + 2 * pw:
        raise ShapeError(f"kernel {kh}x{kw} is larger than its padded input {h + 2 * ph}x{w + 2 * pw}", field="k")
    out = (c, pooled_size(h, kh, sh, ph, ceil), pooled_size(w, kw, sw, pw, ceil))
    return Layer(**base, out_shape=out, kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw), ceil_mode=bool(ceil))


def count_pool(layer: Layer) -> Counts:
    if layer.kind == "max":
        kh, kw = layer.kernel or (1, 1)
        return Counts(other_ops=(kh * kw - 1) * numel(layer.out_shape))
    return Counts(other_ops=numel(layer.in_shape))  # avg and global: 1 per input element


def pool_module(layer: Layer) -> tuple[str, dict]:
    if layer.kind == "global":
        return "AdaptiveAvgPool2d", {"output_size": 1}
    cls = "MaxPool2d" if layer.kind == "max" else "AvgPool2d"
    args = {"kernel_size": layer.kernel, "stride": layer.stride, "padding": layer.padding}
    return cls, {**args, "ceil_mode": True} if layer.ceil_mode else args


def fvcore_pool(layer: Layer, batch: int) -> ToolRule:
    if layer.kind == "global":
        return ToolRule(numel(layer.in_shape) * batch, "GAP 1/in")
    return ToolRule(0, f"{layer.kind}-pool unsupported", (f"aten::{layer.kind}_pool2d",))


def thop_avgpool_ops(layer: Layer) -> int:
    """thop's count_avgpool for nn.AvgPool2d (count_include_pad=True): inputs summed by every window + outputs."""
    c = layer.in_shape[0]
    windows = 1
    for size, out, k, s, p in zip(
        layer.in_shape[1:], layer.out_shape[1:], layer.kernel or (), layer.stride or (), layer.padding or ()
    ):
        lower, upper = -p, size + p
        windows *= sum(max(min(i * s - p + k, upper) - max(i * s - p, lower), 0) for i in range(out))
    return c * windows + numel(layer.out_shape)


def thop_pool(layer: Layer, batch: int) -> ToolRule:
    e_in, e_out = _elements(layer, batch)
    if layer.kind == "global":
        return ToolRule(e_in + e_out, "GAP in+out")
    if layer.kind == "max":
        return ToolRule(0, "max-pool 0")
    return ToolRule(thop_avgpool_ops(layer) * batch, "avg-pool windows+out")


# -- graph ops: add, mul, concat --------------------------------------------------------------------------------


def make_add(name, row, inputs, in_shapes):
    if len(in_shapes) < 2:
        raise ShapeError("an add reads at least two tensors", field="from")
    if len(set(in_shapes)) != 1:
        raise ShapeError(f"residual add of different shapes {' and '.join(map(str, in_shapes))}", field="from")
    return Layer(**layer_fields(name, row, inputs, in_shapes, "add"), out_shape=in_shapes[0])


def count_add(layer: Layer) -> Counts:
    return Counts(other_ops=numel(layer.out_shape) * (len(layer.inputs) - 1))


def make_mul(name, row, inputs, in_shapes):
    """x * gate: the gate has x's shape or broadcasts over some axes (a 1x1 channel gate: squeeze-excite)."""
    if len(in_shapes) != 2:
        raise ShapeError(f"a mul reads two tensors (x, gate), got {len(in_shapes)}", field="from")
    sx, sg = in_shapes
    if len(sx) != len(sg) or any(g not in (1, x) for x, g in zip(sx, sg)):
        raise ShapeError(f"the gate {sg} does not broadcast to {sx} (each size equal or 1)", field="from")
    return Layer(**layer_fields(name, row, inputs, in_shapes, "mul"), out_shape=sx)


def make_concat(name, row, inputs, in_shapes):
    if any(len(sh) != 3 for sh in in_shapes) or len({sh[1:] for sh in in_shapes}) != 1:
        raise ShapeError(f"concatenation needs maps of one spatial size, got {in_shapes}", field="from")
    out = (sum(sh[0] for sh in in_shapes), *in_shapes[0][1:])
    return Layer(**layer_fields(name, row, inputs, in_shapes, "concat"), out_shape=out)


def per_element(layer: Layer) -> Counts:
    return Counts(other_ops=numel(layer.out_shape))


def simple(cls: str, **kwargs) -> Callable[[Layer], tuple[str, dict]]:
    return lambda layer: (cls, dict(kwargs))


def none(layer: Layer) -> Counts:
    return Counts()
