"""The op table: everything archlab states about each primitive op, in one place.

Every plan layer has an ``op`` (and a ``kind`` for ops with variants). For each op one :class:`Op` entry states:

``make``      the shape rule: the layer from its fields and its inputs' shapes (ShapeError naming the field);
``counts``    params, MAdds, other ops and activations of a layer (archlab's conventions, ``CONVENTIONS``);
``rf``        the receptive-field recurrence, by name (:mod:`archlab.static.receptive` implements each);
``aliases``   the output shares its input's storage (a view or the identity at inference): memory and the
              roofline move no bytes for it;
``module``    the torch module that builds it: a class of ``torch.nn`` or :mod:`archlab.nn.modules` and its
              keyword arguments (:mod:`archlab.nn.build` constructs it; nothing here imports torch);
``fvcore``/``thop``  what each tool reports for such a layer (the expected count, a short label, the aten
              ops fvcore lists as unsupported) and the rule's text (``archlab profile --check``).

:func:`op_of` is how every consumer reads the table: an op (or a kind) without an entry raises an error naming
it, so nothing is counted, sized or passed through in silence. Adding an op is one entry here and its tests
(``tests/test_ops.py`` checks that every entry is complete and consistent with torch, fvcore and thop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from archlab.errors import ArchlabError, ShapeError
from archlab.ir.layer import Layer, numel

Shapes = list[tuple[int, ...]]


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
}
POOL_KINDS = ("max", "avg", "global")


@dataclass(frozen=True)
class Op:
    name: str
    rule: str  # the other_ops convention, as the README states it
    make: Callable[..., Layer]
    counts: Callable[[Layer], Counts]
    rf: str  # window | pad | flatten | merge | identity
    module: Callable[[Layer], tuple[str, dict]]
    fvcore: Callable[[Layer, int], ToolRule]
    thop: Callable[[Layer, int], ToolRule]
    fvcore_text: str
    thop_text: str
    kinds: tuple[str, ...] = ("",)
    aliases: bool = False
    weighted: bool = False  # conv/linear: its multiply-adds are madds, and a BN reading only it folds into it


def op_of(op: str, kind: str | None = "") -> Op:
    """The table entry of ``op`` (checking ``kind`` unless None); an ArchlabError naming what has no entry."""
    entry = OPS.get(op)
    if entry is None:
        raise ArchlabError(f"archlab has no rule for op {op!r} (known: {', '.join(OPS)})")
    if kind is not None and kind not in entry.kinds:
        raise ArchlabError(f"archlab has no rule for {op} kind {kind!r} (known: {', '.join(entry.kinds)})")
    return entry


def with_counts(layer: Layer) -> Layer:
    """``layer`` with its counts filled in from its op's rule (params_deployed = params until BN folding)."""
    c = op_of(layer.op, layer.kind).counts(layer)
    return replace(
        layer,
        params=c.params,
        params_deployed=c.params,
        madds=c.madds,
        other_ops=c.other_ops,
        activations=c.activations,
    )


def _elements(layer: Layer, batch: int) -> tuple[int, int]:
    return numel(layer.in_shape) * batch, numel(layer.out_shape) * batch


def _map(shape: tuple[int, ...], what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(f"{what} needs a feature map (C, H, W) but receives a vector of {shape[0]}")
    return shape[0], shape[1], shape[2]


def _base(name, row, inputs, in_shapes, op, kind="", **fields) -> dict[str, Any]:
    return dict(name=name, op=op, kind=kind, row=row, inputs=tuple(inputs), in_shape=tuple(in_shapes[0]), **fields)


def _madds(layer: Layer, batch: int) -> ToolRule:
    return ToolRule(layer.madds * batch, "")


def _nothing(label: str = "", unsupported: tuple[str, ...] | None = ()) -> Callable[[Layer, int], ToolRule]:
    return lambda layer, batch: ToolRule(0, label, unsupported)


# -- conv -------------------------------------------------------------------------------------------------------


def _make_conv(name, row, inputs, in_shapes, *, c, kernel, stride, padding, dilation, groups=1, bias=False):
    cin, h, w = _map(in_shapes[0], "a convolution")
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
        **_base(name, row, inputs, in_shapes, "conv"),
        out_shape=out,
        kernel=tuple(kernel),
        stride=tuple(stride),
        padding=tuple(padding),
        dilation=tuple(dilation),
        groups=groups,
        bias=bias,
    )


def _count_conv(layer: Layer) -> Counts:
    c, ho, wo = layer.out_shape
    kh, kw = layer.kernel or (1, 1)
    weights = c * (layer.in_shape[0] // layer.groups) * kh * kw
    return Counts(
        params=weights + (c if layer.bias else 0), madds=weights * ho * wo, activations=numel(layer.out_shape)
    )


def _conv_module(layer: Layer) -> tuple[str, dict]:
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


def _make_linear(name, row, inputs, in_shapes, *, out_features, bias=False):
    if len(in_shapes[0]) != 1:
        raise ShapeError(f"a linear layer needs a vector but receives a map {in_shapes[0]}; flatten first")
    return Layer(**_base(name, row, inputs, in_shapes, "linear"), out_shape=(out_features,), bias=bias)


def _count_linear(layer: Layer) -> Counts:
    (fout,) = layer.out_shape
    weights = layer.in_shape[0] * fout
    return Counts(params=weights + (fout if layer.bias else 0), madds=weights, activations=fout)


# -- bn ---------------------------------------------------------------------------------------------------------


def _make_bn(name, row, inputs, in_shapes):
    shape = in_shapes[0]
    return Layer(**_base(name, row, inputs, in_shapes, "bn", "2d" if len(shape) == 3 else "1d"), out_shape=shape)


def _count_bn(layer: Layer) -> Counts:
    return Counts(params=2 * layer.out_shape[0], other_ops=2 * numel(layer.out_shape))


# -- act --------------------------------------------------------------------------------------------------------


def _make_act(name, row, inputs, in_shapes, *, kind):
    if kind not in ACTIVATIONS:
        raise ShapeError(f"unknown activation {kind!r}; known: {', '.join(ACTIVATIONS)}", field="act")
    return Layer(**_base(name, row, inputs, in_shapes, "act", kind), out_shape=in_shapes[0])


def _count_act(layer: Layer) -> Counts:
    per_channel = ACTIVATIONS[layer.kind].per_channel
    return Counts(params=layer.out_shape[0] if per_channel else 0, other_ops=numel(layer.out_shape))


def _act_module(layer: Layer) -> tuple[str, dict]:
    act = ACTIVATIONS[layer.kind]
    return act.module, ({"num_parameters": layer.out_shape[0]} if act.per_channel else {})


def _fvcore_act(layer: Layer, batch: int) -> ToolRule:
    act = ACTIVATIONS[layer.kind]
    if act.fvcore_ignores:
        return ToolRule(0, f"{act.label} ignored")
    return ToolRule(0, f"{act.label} unsupported", (f"aten::{act.aten}",))


def _thop_act(layer: Layer, batch: int) -> ToolRule:
    act = ACTIVATIONS[layer.kind]
    if act.thop_per_element:
        return ToolRule(numel(layer.out_shape) * batch, f"{act.label} 1/elt")
    return ToolRule(0, f"{act.label} 0")


# -- pool -------------------------------------------------------------------------------------------------------


def _make_pool(name, row, inputs, in_shapes, *, kind, kernel=(3, 3), stride=(2, 2), padding=(0, 0)):
    c, h, w = _map(in_shapes[0], "a pooling layer")
    base = _base(name, row, inputs, in_shapes, "pool", kind)
    if kind == "global":
        return Layer(**base, out_shape=(c, 1, 1), kernel=(h, w), stride=(1, 1), padding=(0, 0))
    if kind not in POOL_KINDS:
        raise ShapeError(f"unknown pool kind {kind!r}; known: {', '.join(POOL_KINDS)}", field="kind")
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if 2 * ph > kh or 2 * pw > kw:
        raise ShapeError(f"pool padding {ph} must be at most half the kernel {kh}", field="padding")
    if kh > h + 2 * ph or kw > w + 2 * pw:
        raise ShapeError(f"kernel {kh}x{kw} is larger than its padded input {h + 2 * ph}x{w + 2 * pw}", field="k")
    out = (c, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    return Layer(**base, out_shape=out, kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw))


def _count_pool(layer: Layer) -> Counts:
    if layer.kind == "max":
        kh, kw = layer.kernel or (1, 1)
        return Counts(other_ops=(kh * kw - 1) * numel(layer.out_shape))
    return Counts(other_ops=numel(layer.in_shape))  # avg and global: 1 per input element


def _pool_module(layer: Layer) -> tuple[str, dict]:
    if layer.kind == "global":
        return "AdaptiveAvgPool2d", {"output_size": 1}
    cls = "MaxPool2d" if layer.kind == "max" else "AvgPool2d"
    return cls, {"kernel_size": layer.kernel, "stride": layer.stride, "padding": layer.padding}


def _fvcore_pool(layer: Layer, batch: int) -> ToolRule:
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


def _thop_pool(layer: Layer, batch: int) -> ToolRule:
    e_in, e_out = _elements(layer, batch)
    if layer.kind == "global":
        return ToolRule(e_in + e_out, "GAP in+out")
    if layer.kind == "max":
        return ToolRule(0, "max-pool 0")
    return ToolRule(thop_avgpool_ops(layer) * batch, "avg-pool windows+out")


# -- graph ops: add, mul, concat --------------------------------------------------------------------------------


def _make_add(name, row, inputs, in_shapes):
    if len(in_shapes) < 2:
        raise ShapeError("an add reads at least two tensors", field="from")
    if len(set(in_shapes)) != 1:
        raise ShapeError(f"residual add of different shapes {' and '.join(map(str, in_shapes))}", field="from")
    return Layer(**_base(name, row, inputs, in_shapes, "add"), out_shape=in_shapes[0])


def _count_add(layer: Layer) -> Counts:
    return Counts(other_ops=numel(layer.out_shape) * (len(layer.inputs) - 1))


def _make_mul(name, row, inputs, in_shapes):
    sx, sg = in_shapes
    if len(sx) != 3 or sg != (sx[0], 1, 1):
        raise ShapeError(f"a channel gate {sg} does not fit the map {sx}")
    return Layer(**_base(name, row, inputs, in_shapes, "mul"), out_shape=sx)


def _make_concat(name, row, inputs, in_shapes):
    if any(len(sh) != 3 for sh in in_shapes) or len({sh[1:] for sh in in_shapes}) != 1:
        raise ShapeError(f"concatenation needs maps of one spatial size, got {in_shapes}", field="from")
    out = (sum(sh[0] for sh in in_shapes), *in_shapes[0][1:])
    return Layer(**_base(name, row, inputs, in_shapes, "concat"), out_shape=out)


def _per_element(layer: Layer) -> Counts:
    return Counts(other_ops=numel(layer.out_shape))


def _none(layer: Layer) -> Counts:
    return Counts()


# -- shape-only ops: pad, flatten, dropout ----------------------------------------------------------------------


def _make_pad(name, row, inputs, in_shapes, *, pads):
    c, h, w = _map(in_shapes[0], "padding")
    top, bottom, left, right = pads
    return Layer(
        **_base(name, row, inputs, in_shapes, "pad"),
        out_shape=(c, h + top + bottom, w + left + right),
        padding=tuple(pads),
    )


def _pad_module(layer: Layer) -> tuple[str, dict]:
    top, bottom, left, right = layer.padding or (0, 0, 0, 0)
    return "ZeroPad2d", {"padding": (left, right, top, bottom)}


def _make_flatten(name, row, inputs, in_shapes):
    return Layer(**_base(name, row, inputs, in_shapes, "flatten"), out_shape=(numel(in_shapes[0]),))


def _make_dropout(name, row, inputs, in_shapes, *, p):
    return Layer(**_base(name, row, inputs, in_shapes, "dropout"), out_shape=in_shapes[0], p=p)


def _simple(cls: str, **kwargs) -> Callable[[Layer], tuple[str, dict]]:
    return lambda layer: (cls, dict(kwargs))


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op(
            "conv",
            "0 (its multiply-adds are madds)",
            _make_conv,
            _count_conv,
            "window",
            _conv_module,
            _madds,
            _madds,
            "multiply-adds, bias not counted (same rule as archlab)",
            "multiply-adds, bias not counted (same rule as archlab)",
            weighted=True,
        ),
        Op(
            "linear",
            "0 (its multiply-adds are madds)",
            _make_linear,
            _count_linear,
            "identity",
            lambda l: ("Linear", dict(in_features=l.in_shape[0], out_features=l.out_shape[0], bias=l.bias)),
            _madds,
            _madds,
            "multiply-adds, bias not counted (same rule as archlab)",
            "multiply-adds, bias not counted (same rule as archlab)",
            weighted=True,
        ),
        Op(
            "bn",
            "2 per output element",
            _make_bn,
            _count_bn,
            "identity",
            lambda l: ("BatchNorm2d" if l.kind == "2d" else "BatchNorm1d", {"num_features": l.out_shape[0]}),
            lambda l, b: ToolRule(2 * numel(l.out_shape) * b, "BN 2/elt"),
            lambda l, b: ToolRule(4 * numel(l.out_shape) * b, "BN 4/elt"),
            "2 per element in eval mode with affine (aten::batch_norm; 1 without affine, 5 in training)",
            "4 per element with affine, 2 without (count_normalization)",
            kinds=("2d", "1d"),
        ),
        Op(
            "act",
            "1 per element (" + ", ".join(a.label for a in ACTIVATIONS.values()) + ")",
            _make_act,
            _count_act,
            "identity",
            _act_module,
            _fvcore_act,
            _thop_act,
            "ReLU ignored (on fvcore's ignore list); ReLU6, PReLU, hard-swish, hard-sigmoid unsupported, not counted, "
            "listed (aten::hardtanh, aten::prelu, ...)",
            "PReLU 1 per element in eval mode (count_prelu); others 0",
            kinds=tuple(ACTIVATIONS),
        ),
        Op(
            "pool",
            "avg/global 1 per input element; max k*k-1 per output element",
            _make_pool,
            _count_pool,
            "window",
            _pool_module,
            _fvcore_pool,
            _thop_pool,
            "global 1 per input element (aten::adaptive_avg_pool2d); max/avg unsupported, not counted, listed",
            "global 1 per input + 1 per output element; avg 1 per input of each window (padding included) + 1 per "
            "output element; max 0",
            kinds=POOL_KINDS,
        ),
        Op(
            "add",
            "1 per element per added tensor (residual add)",
            _make_add,
            _count_add,
            "merge",
            _simple("Add"),
            lambda l, b: ToolRule(0, "add unsupported", ("aten::add",) * (len(l.inputs) - 1)),
            _nothing("add 0 (no rule)"),
            "unsupported, not counted, listed (aten::add)",
            "0: archlab's Add module has no thop rule",
        ),
        Op(
            "mul",
            "1 per element (squeeze-excite scale)",
            _make_mul,
            _per_element,
            "merge",
            _simple("Mul"),
            _nothing("mul unsupported", ("aten::mul",)),
            _nothing("mul 0 (no rule)"),
            "unsupported, not counted, listed (aten::mul)",
            "0: archlab's Mul module has no thop rule",
        ),
        Op("concat", "0", _make_concat, _none, "merge", _simple("Concat"), _nothing(), _nothing(), "ignored", "0"),
        Op(
            "pad",
            "0",
            _make_pad,
            _none,
            "pad",
            _pad_module,
            _nothing("pad not counted", None),
            _nothing(),
            "not counted (aten::constant_pad_nd)",
            "0",
        ),
        Op(
            "flatten",
            "0",
            _make_flatten,
            _none,
            "flatten",
            _simple("Flatten", start_dim=1),
            _nothing(),
            _nothing(),
            "ignored",
            "0",
            aliases=True,
        ),
        Op(
            "dropout",
            "0",
            _make_dropout,
            _none,
            "identity",
            lambda l: ("Dropout", {"p": l.p}),
            _nothing(),
            _nothing(),
            "ignored",
            "0",
            aliases=True,
        ),
    )
}

ALIASING_OPS = tuple(name for name, op in OPS.items() if op.aliases)
MADD_OPS = tuple(name for name, op in OPS.items() if op.weighted)  # conv, linear

CONVENTIONS = {
    "madds": "multiply-adds of conv and linear layers only; bias adds not counted (MobileNet papers)",
    "other_ops": "; ".join(f"{op.name} {op.rule}" for op in OPS.values() if op.name not in MADD_OPS),
    "activations": "output elements of conv and linear layers (fvcore's ActivationCountAnalysis rule)",
    "params": "trainable parameters (BN gamma/beta and PReLU slopes included; BN running stats excluded)",
    "params_deployed": (
        "each BN folded into the conv/linear before it: weights + one bias per folded channel + PReLU slopes"
    ),
}
