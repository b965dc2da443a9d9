"""Theoretical receptive fields, analytic from the plan (no torch).

Per axis (height, width) every tensor in the plan gets, for its output unit 0 (Araujo et al. 2019,
"Computing Receptive Fields of Convolutional Neural Networks"):

  size   how many input pixels the unit sees:        size  += (k_eff - 1) * jump
  jump   distance in input pixels between units:     jump  *= stride
  start  input coordinate of unit 0's RF centre:     start += ((k_eff - 1) / 2 - pad) * jump

with ``k_eff = dilation * (k - 1) + 1``. Coordinates are pixel centres (0 = the first input pixel); unit
``i`` is centred at ``start + i * jump``; its RF spans ``centre +- (size - 1) / 2`` and may reach into the
padding. Padding is the plan's: PyTorch symmetric ``k // 2`` unless a table says otherwise (TensorFlow
SAME becomes an explicit ``pad`` layer with its own top/left offsets).

Graph-aware through ``Layer.inputs``: a residual add or a concat merges its inputs' fields. They *align*
when they have the same jump and the same centre; archlab keeps the larger (the union of the boxes) and
marks the result ``aligned=False`` when they do not. Global pooling, a global depthwise conv and flatten
cover the whole map (flatten: the union of every position, which is what a following linear layer sees).
A squeeze-and-excitation gate (``mul`` with a 1x1 gate) adds global context that a box cannot describe: the
field follows the map and is marked ``global_context``. Upsampling by s divides the jump by s and grows the size
so that each unit's box holds what it reads (:func:`_upsample_rf`).

The field is an upper bound of where a unit's input gradient can be non-zero. Clipped to the image it is
exactly the gradient's support (k >= s, no dilation holes, avg- rather than max-pooling, no flat activation)
when every window holds a real position and floor division drops no image rows or columns; otherwise a unit
may read padding whose virtual field reaches into the image (``tests/test_receptive.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from archlab.errors import ArchlabError
from archlab.ir.layer import INPUT, Layer, spatial
from archlab.ir.ops import op_of
from archlab.spec.bulk import paused_gc

Pair = tuple[float, float]


def as_number(v: float):
    """An int when integral (JSON and tables show 227, not 227.0)."""
    if type(v) is int:
        return v
    v = float(v)
    return int(v) if v.is_integer() else v


@dataclass(frozen=True)
class RF:
    """The theoretical receptive field of one tensor's units, per axis (h, w)."""

    size: Pair
    jump: Pair
    start: Pair
    aligned: bool = True  # False when a merge (add/concat) upstream joined fields with different jump or centre
    global_context: bool = False  # a broadcast gate (squeeze-and-excitation) mixes in the whole map
    known: bool = True  # False after an op archlab has no rule for (opaque): the box is a guess, shown with '?'

    def centre(self, i: int, j: int) -> Pair:
        """Input coordinates (y, x) of the RF centre of unit (i, j)."""
        return (self.start[0] + i * self.jump[0], self.start[1] + j * self.jump[1])

    def box(self, i: int, j: int) -> tuple[Pair, Pair]:
        """((y0, y1), (x0, x1)): the first and last input pixel (centres) unit (i, j) sees; may lie outside."""
        cy, cx = self.centre(i, j)
        hy, hx = (self.size[0] - 1) / 2, (self.size[1] - 1) / 2
        return (cy - hy, cy + hy), (cx - hx, cx + hx)

    def inside_fraction(self, i: int, j: int, image_hw: tuple[int, int]) -> float:
        """Share of the RF box of unit (i, j) that lies on the image (the rest is padding)."""
        frac = 1.0
        for (lo, hi), n, size in zip(self.box(i, j), image_hw, self.size):
            first, last = max(math.ceil(lo), 0), min(math.floor(hi), n - 1)
            frac *= max(0, last - first + 1) / size
        return frac

    def label(self, key: str = "size") -> str:
        """``227`` for a square field, ``227x195`` otherwise; a trailing ``*`` marks a misaligned merge."""
        h, w = (as_number(v) for v in getattr(self, key))
        out = str(h) if h == w else f"{h}x{w}"
        return out + ("*" if key == "size" and not self.aligned else "") + ("" if self.known else "?")

    def to_dict(self) -> dict:
        out: dict = {
            "size": [as_number(self.size[0]), as_number(self.size[1])],
            "jump": [as_number(self.jump[0]), as_number(self.jump[1])],
            "start": [as_number(self.start[0]), as_number(self.start[1])],
        }
        if not self.aligned:
            out["aligned"] = False
        if self.global_context:
            out["global_context"] = True
        if not self.known:
            out["known"] = False
        return out


INPUT_RF = RF(size=(1, 1), jump=(1, 1), start=(0, 0))


def _window(rf: RF, kernel, stride, padding, dilation) -> RF:
    """The recurrence for a sliding window (conv, pool): per axis, kernel k, stride s, padding p, dilation d."""
    dh, dw = dilation or (1, 1)
    (sh, sw), (jh, jw), (th, tw) = rf.size, rf.jump, rf.start
    kh, kw = dh * (kernel[0] - 1), dw * (kernel[1] - 1)  # k_eff - 1
    return RF(
        size=(sh + kh * jh, sw + kw * jw),
        jump=(jh * stride[0], jw * stride[1]),
        start=(th + (kh / 2 - padding[0]) * jh, tw + (kw / 2 - padding[1]) * jw),
        aligned=rf.aligned,
        global_context=rf.global_context,
    )


def _whole_map(rf: RF, hw: tuple[int, int]) -> RF:
    """A unit that sees every position of an h x w map (flatten, as read by the next linear layer)."""
    return _window(rf, hw, (1, 1), (0, 0), None)


def merge(fields: Iterable[RF]) -> RF:
    """Branches joined by an add or a concat: the union of their unit-0 boxes; aligned if jumps and centres agree."""
    fields = list(fields)
    first = fields[0]
    aligned = all(f.aligned for f in fields) and all(
        f.jump == first.jump and f.start == first.start for f in fields[1:]
    )
    size, start = [], []
    for ax in range(2):
        lo = min(f.start[ax] - (f.size[ax] - 1) / 2 for f in fields)
        hi = max(f.start[ax] + (f.size[ax] - 1) / 2 for f in fields)
        size.append(hi - lo + 1)
        start.append((lo + hi) / 2)
    jump = (max(f.jump[0] for f in fields), max(f.jump[1] for f in fields))
    return RF(
        size=(size[0], size[1]),
        jump=jump,
        start=(start[0], start[1]),
        aligned=aligned,
        global_context=any(f.global_context for f in fields),
        known=all(f.known for f in fields),
    )


def _window_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """A sliding window (conv, pool; a global pool's window is its whole map)."""
    if layer.kernel is None:
        raise ArchlabError(f"layer {layer.name} ({layer.op}) has no kernel for its receptive field")
    return _window(inputs[0], layer.kernel, layer.stride or (1, 1), layer.padding or (0, 0), layer.dilation)


def _pad_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """Explicit zero padding moves unit 0's centre up and left by the top and left padding."""
    rf = inputs[0]
    top, _bottom, left, _right = layer.padding or (0, 0, 0, 0)
    return replace(rf, start=(rf.start[0] - top * rf.jump[0], rf.start[1] - left * rf.jump[1]))


def _flatten_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """Flatten: what a following linear layer sees, the union of every position of the map."""
    hw = spatial(layer.in_shape)
    return _whole_map(inputs[0], hw) if hw else inputs[0]


def _merge_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """Branches joined (add, concat, a gate's mul): the union; a 1x1 gate over a map adds global context."""
    out_hw = spatial(layer.out_shape)
    keep, broadcast = [], False
    for f, shape in zip(inputs, shapes):
        if out_hw and spatial(shape) == (1, 1) and out_hw != (1, 1):
            broadcast = True  # a channel gate broadcast over the map: global context, not a box
        else:
            keep.append(f)
    out = merge(keep or inputs)
    return replace(out, global_context=True) if broadcast else out


def _upsample_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """Upsampling by an integer ``s`` (torch's half-pixel mapping: output unit i sits at input index
    (i + 0.5) / s - 0.5). The jump divides by s and unit 0's centre moves to that position; the size grows so that
    every unit's box holds what it reads: nearest reads the input unit floor(i / s), at most (s - 1) / (2 s) input
    jumps from its position (size += (1 - 1/s) jump); bilinear reads the two neighbours of its position, the farther
    at most 1 - 1/(2 s) jumps away (size += (2 - 1/s) jump). An upper bound: unit 0 itself reads one input unit."""
    rf, s = inputs[0], layer.scale
    grow = (1 - 1 / s) if layer.kind == "nearest" else (2 - 1 / s)
    return replace(
        rf,
        size=(rf.size[0] + grow * rf.jump[0], rf.size[1] + grow * rf.jump[1]),
        jump=(rf.jump[0] / s, rf.jump[1] / s),
        start=(rf.start[0] + (1 / (2 * s) - 0.5) * rf.jump[0], rf.start[1] + (1 / (2 * s) - 0.5) * rf.jump[1]),
    )


def _identity_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """Element-wise ops (bn, act, dropout, drop path, channel shuffle and slice: a channel's field is every channel's)
    and linear layers, whose input vector already covers the whole map."""
    return inputs[0]


def _opaque_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """An op archlab has no rule for: the union of its inputs' fields, marked unknown (``?``)."""
    return replace(merge(inputs) if inputs else INPUT_RF, known=False)


RECURRENCES = {
    "window": _window_rf,
    "pad": _pad_rf,
    "flatten": _flatten_rf,
    "merge": _merge_rf,
    "identity": _identity_rf,
    "upsample": _upsample_rf,
    "opaque": _opaque_rf,
}


def layer_rf(layer: Layer, inputs: list[RF], shapes: list[tuple[int, ...]]) -> RF:
    """The receptive field of ``layer``'s output from its inputs' fields and shapes (the op table names the
    recurrence; an op without one is an error, never a silent pass-through)."""
    kind = op_of(layer.op, layer.kind).rf
    if kind not in RECURRENCES:
        raise ArchlabError(f"no receptive-field recurrence {kind!r} (op {layer.op} of layer {layer.name})")
    return RECURRENCES[kind](layer, inputs, shapes)


# (layers, input_rf, fields) of the last call: a profile's table, its JSON and lint share one pass. One slot, read
# once and compared by identity (layers are immutable), so threads asking at once at worst compute twice.
_LAST: list = [None]


def receptive_fields(layers: Iterable[Layer], input_rf: RF = INPUT_RF) -> dict[str, RF]:
    """The receptive field of every layer's output (and of ``input``), keyed by layer name.

    The fields of the last tuple of layers are kept: the profile's table, its JSON and lint ask for the same
    plan's (a copy of the dict is returned each time)."""
    last = _LAST[0]
    if last is not None and last[0] is layers and last[1] == input_rf:
        return dict(last[2])
    with paused_gc():
        out = _fields(layers, input_rf)
    if isinstance(layers, tuple):
        _LAST[0] = (layers, input_rf, out)
        return dict(out)
    return out


def _fields(layers: Iterable[Layer], input_rf: RF) -> dict[str, RF]:
    out: dict[str, RF] = {INPUT: input_rf}
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in layers:
        srcs = list(layer.inputs)
        ins = [out[s] for s in srcs]
        in_shapes = [shapes.get(s, layer.in_shape) for s in srcs]
        out[layer.name] = layer_rf(layer, ins, in_shapes)
        shapes[layer.name] = layer.out_shape
    return out


def misaligned(fields: dict[str, RF], layers: Iterable[Layer]) -> list[str]:
    """Names of the merge layers where branches with different jump or centre meet (first occurrences)."""
    names = []
    for layer in layers:
        rf = fields[layer.name]
        if not rf.aligned and all(fields[s].aligned for s in layer.inputs):
            names.append(layer.name)
    return names


@dataclass(frozen=True)
class OutputField:
    """The theoretical receptive field of one network output (a detector has one per prediction map)."""

    name: str
    row: int | str
    shape: tuple[int, ...]
    rf: RF
    centre_inside: float  # share of the centre unit's RF box on the image
    corner_inside: float  # share of unit (0, 0)'s RF box on the image

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "row": self.row,
            "shape": list(self.shape),
            "rf": self.rf.to_dict(),
            "centre_inside": self.centre_inside,
            "corner_inside": self.corner_inside,
        }


def output_fields(plan) -> list[OutputField]:
    """Per network output: its RF (size, jump, start) and how much of it lies on the image, centre vs corner."""
    fields = receptive_fields(plan.layers)
    image_hw = plan.input[1:]
    out = []
    for name in plan.outputs:
        layer = plan.layer(name)
        rf = fields[name]
        hw = spatial(layer.out_shape) or (1, 1)
        out.append(
            OutputField(
                name,
                layer.row,
                layer.out_shape,
                rf,
                rf.inside_fraction(hw[0] // 2, hw[1] // 2, image_hw),
                rf.inside_fraction(0, 0, image_hw),
            )
        )
    return out


def canvas_margins(
    rf: RF, grid_hw: tuple[int, int], image_hw: tuple[int, int], *, round_end: bool = True
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zero margins around the image that hold every FMap-end unit's theoretical
    RF. Top and left are multiples of the jump, so the canvas network has the same grid; bottom and right
    too with ``round_end`` (then TensorFlow-SAME padding decisions stay the same), else just large enough."""
    out = []
    for ax in range(2):
        jump, half = rf.jump[ax], (rf.size[ax] - 1) / 2
        first = rf.start[ax] - half
        last = rf.start[ax] + (grid_hw[ax] - 1) * jump + half
        before = max(0.0, -first)
        after = max(0.0, last - (image_hw[ax] - 1))
        end = math.ceil(after / jump) * jump if round_end else math.ceil(after)
        out.append((int(math.ceil(before / jump) * jump), int(end)))
    (top, bottom), (left, right) = out
    return top, bottom, left, right
