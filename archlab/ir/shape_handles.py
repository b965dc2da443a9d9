"""The handles of the ops that move, reshape or pass data through (pad, shuffle, slice, upsample, identity,
flatten, dropout) and of the opaque op (a traced call archlab has no rule for): their shape rules, counts and
torch modules, beside :mod:`archlab.ir.op_handles` (the computing ops) for the op table :mod:`archlab.ir.ops`.
"""

from __future__ import annotations

from collections.abc import Callable

from archlab.errors import ShapeError
from archlab.ir.layer import Layer, numel
from archlab.ir.op_handles import Counts, ToolRule, feature_map, layer_fields

UPSAMPLE_KINDS = ("nearest", "bilinear")


# -- shape-only ops: pad, flatten, dropout ----------------------------------------------------------------------


def make_pad(name, row, inputs, in_shapes, *, pads):
    c, h, w = feature_map(in_shapes[0], "padding")
    top, bottom, left, right = pads
    return Layer(
        **layer_fields(name, row, inputs, in_shapes, "pad"),
        out_shape=(c, h + top + bottom, w + left + right),
        padding=tuple(pads),
    )


def pad_module(layer: Layer) -> tuple[str, dict]:
    top, bottom, left, right = layer.padding or (0, 0, 0, 0)
    return "ZeroPad2d", {"padding": (left, right, top, bottom)}


def make_shuffle(name, row, inputs, in_shapes, *, groups):
    c, _, _ = feature_map(in_shapes[0], "a channel shuffle")
    if groups < 1 or c % groups:
        raise ShapeError(f"shuffle groups={groups} must divide the channels {c}", field="groups")
    return Layer(**layer_fields(name, row, inputs, in_shapes, "shuffle"), out_shape=in_shapes[0], groups=groups)


def make_slice(name, row, inputs, in_shapes, *, start, stop):
    c, _, _ = feature_map(in_shapes[0], "a channel slice")
    if not 0 <= start < stop <= c:
        raise ShapeError(f"channel range {start}:{stop} is not inside the {c} channels", field="parts")
    return Layer(
        **layer_fields(name, row, inputs, in_shapes, "slice"),
        out_shape=(stop - start, *in_shapes[0][1:]),
        channels=(start, stop),
    )


def slice_module(layer: Layer) -> tuple[str, dict]:
    start, stop = layer.channels or (0, layer.in_shape[0])
    return "ChannelSlice", {"start": start, "stop": stop}


def make_upsample(name, row, inputs, in_shapes, *, kind, scale):
    c, h, w = feature_map(in_shapes[0], "an upsampling layer")
    if kind not in UPSAMPLE_KINDS:
        raise ShapeError(f"unknown upsampling mode {kind!r}; known: {', '.join(UPSAMPLE_KINDS)}", field="mode")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ShapeError(f"the scale must be an integer >= 1, got {scale!r}", field="scale")
    base = layer_fields(name, row, inputs, in_shapes, "upsample", kind)
    return Layer(**base, out_shape=(c, h * scale, w * scale), scale=scale)


def count_upsample(layer: Layer) -> Counts:
    return Counts(other_ops=4 * numel(layer.out_shape) if layer.kind == "bilinear" else 0)


def upsample_module(layer: Layer) -> tuple[str, dict]:
    corners = {"align_corners": False} if layer.kind == "bilinear" else {}
    return "Upsample", {"scale_factor": float(layer.scale), "mode": layer.kind, **corners}


def upsample_tool(per_element: dict[str, int], label: str) -> Callable[[Layer, int], ToolRule]:
    """A tool's upsampling rule: ``per_element[mode]`` per output element."""

    def rule(layer: Layer, batch: int) -> ToolRule:
        n = per_element[layer.kind]
        return ToolRule(n * numel(layer.out_shape) * batch, f"{layer.kind} {n}/out {label}".strip())

    return rule


def make_identity(op: str):
    """The shape rule of an op whose output is its input (drop path: the identity at inference)."""

    def make(name, row, inputs, in_shapes):
        return Layer(**layer_fields(name, row, inputs, in_shapes, op), out_shape=in_shapes[0])

    return make


def make_flatten(name, row, inputs, in_shapes):
    return Layer(**layer_fields(name, row, inputs, in_shapes, "flatten"), out_shape=(numel(in_shapes[0]),))


def make_dropout(name, row, inputs, in_shapes, *, p):
    if not 0 <= p < 1:
        raise ShapeError(f"a dropout probability is in [0, 1), got {p!r}", field="p")
    return Layer(**layer_fields(name, row, inputs, in_shapes, "dropout"), out_shape=in_shapes[0], p=p)


# -- opaque: an op archlab has no rule for ---------------------------------------------------------------------


def make_opaque(name, row, inputs, in_shapes, *, fn, out_shape, params=0, args=""):
    """A traced call archlab has no rule for: its output shape and parameters as measured, nothing counted.
    ``fn`` names it (``torch.cumsum``, ``nn.LayerNorm``); ``args`` is how to call it again (JSON, or '')."""
    if not fn:
        raise ShapeError("an opaque layer needs the name of what it calls", field="fn")
    if params < 0:
        raise ShapeError(f"params must be >= 0, got {params}", field="params")
    shape = tuple(int(v) for v in out_shape)
    base = layer_fields(name, row, inputs, in_shapes or [shape], "opaque")
    return Layer(**base, out_shape=shape, fn=fn, args=args, params=int(params))


def count_opaque(layer: Layer) -> Counts:
    return Counts(params=layer.params)  # parameters are measured; its compute is not counted (listed instead)


def opaque_module(layer: Layer) -> tuple[str, dict]:
    return "Call", {"fn": layer.fn, "args": layer.args}
