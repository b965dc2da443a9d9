"""The plan: a network expanded into primitive layers, computed without torch.

Every layer is a small frozen record. Its ``name`` is also the module path in the built network, so any
analysis can join its results to plan rows by name. ``inputs`` names the tensors a layer reads (``input``
is the network input), so branches and taps form a graph, not a list.

Counting rules live in this file and nowhere else (see ``CONVENTIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from archlab.errors import ShapeError

CONVENTIONS = {
    "madds": "multiply-adds of conv and linear layers only; bias adds not counted (MobileNet papers)",
    "other_ops": (
        "BN 2 per output element; activation 1 per element (PReLU, hard-swish, hard-sigmoid included); "
        "residual add 1 per element; squeeze-excite scale (mul) 1 per element; avg/global pool 1 per input "
        "element; max-pool k*k-1 per output element; flatten/dropout/concat/zero-pad 0"
    ),
    "activations": "output elements of conv and linear layers (fvcore's ActivationCountAnalysis rule)",
    "params": "trainable parameters (BN gamma/beta and PReLU slopes included; BN running stats excluded)",
    "params_deployed": (
        "each BN folded into the conv/linear before it: weights + one bias per folded channel + PReLU slopes"
    ),
}

INPUT = "input"


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    op: str  # conv | linear | bn | act | pool | add | mul | concat | pad | flatten | dropout
    kind: str  # act: relu/relu6/prelu/hardswish/hardsigmoid; pool: max/avg/global; bn: 2d/1d; '' otherwise
    row: int | str  # table row index, or 'head'
    inputs: tuple[str, ...]
    in_shape: tuple[int, ...]  # (C, H, W) for maps, (D,) for vectors
    out_shape: tuple[int, ...]
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, ...] | None = None  # (ph, pw); a pad layer: (top, bottom, left, right)
    dilation: tuple[int, int] | None = None
    groups: int = 1
    bias: bool = False
    p: float = 0.0  # dropout probability
    params: int = 0
    params_deployed: int = 0
    madds: int = 0
    other_ops: int = 0
    activations: int = 0

    @property
    def block(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def role(self) -> str:
        return self.name.rsplit(".", 1)[1]


def numel(shape: Iterable[int]) -> int:
    n = 1
    for v in shape:
        n *= v
    return n


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class PlanBuilder:
    """Appends layers, infers shapes and applies the counting rules. Raises ShapeError with a field name."""

    def __init__(self, in_shape: tuple[int, int, int]) -> None:
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple[int, ...]] = {INPUT: tuple(in_shape)}
        self.row: int | str = 0

    # -- helpers -----------------------------------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        return self.shapes[name]

    def _add(self, layer: Layer) -> str:
        if layer.name in self.shapes:
            raise ShapeError(f"duplicate layer name {layer.name!r}")
        self.layers.append(layer)
        self.shapes[layer.name] = layer.out_shape
        return layer.name

    def _map(self, src: str, what: str) -> tuple[int, int, int]:
        shape = self.shapes[src]
        if len(shape) != 3:
            raise ShapeError(f"{what} needs a feature map (C, H, W) but receives a vector of {shape[0]}")
        return shape  # type: ignore[return-value]

    # -- primitive layers --------------------------------------------------------------------------
    def conv(self, name, src, c, k, s=1, *, groups=1, dilation=1, padding="auto", bias=False) -> str:
        cin, h, w = self._map(src, "a convolution")
        kh, kw = _pair(k)
        sh, sw = _pair(s)
        dh, dw = _pair(dilation)
        if padding == "same":  # TensorFlow SAME: out = ceil(in / s), the odd pixel of padding at the bottom/right
            pads = [max((-(-n // st) - 1) * st + ke - n, 0)
                    for n, st, ke in ((h, sh, dh * (kh - 1) + 1), (w, sw, dw * (kw - 1) + 1))]
            if pads[0] % 2 or pads[1] % 2:
                top, left = pads[0] // 2, pads[1] // 2
                src = self.pad(f"{name}_pad", src, (top, pads[0] - top, left, pads[1] - left))
                cin, h, w = self._map(src, "a convolution")
                ph, pw = 0, 0
            else:
                ph, pw = pads[0] // 2, pads[1] // 2
        elif padding == "auto":
            ph, pw = (kh // 2) * dh, (kw // 2) * dw
        elif padding == "valid":
            ph, pw = 0, 0
        else:
            ph, pw = _pair(padding)
        if c < 1:
            raise ShapeError(f"output channels must be >= 1, got {c}", field="c")
        if cin % groups or c % groups:
            raise ShapeError(
                f"groups={groups} must divide both input channels {cin} and output channels {c}",
                field="groups",
            )
        keh, kew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        if keh > h + 2 * ph or kew > w + 2 * pw:
            raise ShapeError(
                f"kernel {keh}x{kew} is larger than its padded input {h + 2 * ph}x{w + 2 * pw} "
                f"(input {h}x{w} here: is the network input too small for the strides before?)", field="k"
            )
        ho = (h + 2 * ph - keh) // sh + 1
        wo = (w + 2 * pw - kew) // sw + 1
        out = (c, ho, wo)
        weights = c * (cin // groups) * kh * kw
        return self._add(
            Layer(
                name=name, op="conv", kind="", row=self.row, inputs=(src,), in_shape=(cin, h, w),
                out_shape=out, kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                groups=groups, bias=bias, params=weights + (c if bias else 0),
                params_deployed=weights + (c if bias else 0), madds=weights * ho * wo,
                activations=numel(out),
            )
        )

    def linear(self, name, src, out_features, *, bias=False) -> str:
        shape = self.shapes[src]
        if len(shape) != 1:
            raise ShapeError(f"a linear layer needs a vector but receives a map {shape}; flatten first")
        (fin,) = shape
        weights = fin * out_features
        return self._add(
            Layer(
                name=name, op="linear", kind="", row=self.row, inputs=(src,), in_shape=shape,
                out_shape=(out_features,), bias=bias, params=weights + (out_features if bias else 0),
                params_deployed=weights + (out_features if bias else 0), madds=weights,
                activations=out_features,
            )
        )

    def bn(self, name, src) -> str:
        shape = self.shapes[src]
        c = shape[0]
        return self._add(
            Layer(
                name=name, op="bn", kind="2d" if len(shape) == 3 else "1d", row=self.row, inputs=(src,),
                in_shape=shape, out_shape=shape, params=2 * c, params_deployed=2 * c,
                other_ops=2 * numel(shape),
            )
        )

    def act(self, name, src, kind) -> str:
        shape = self.shapes[src]
        params = shape[0] if kind == "prelu" else 0
        return self._add(
            Layer(
                name=name, op="act", kind=kind, row=self.row, inputs=(src,), in_shape=shape,
                out_shape=shape, params=params, params_deployed=params, other_ops=numel(shape),
            )
        )

    def add(self, name, a, b) -> str:
        sa, sb = self.shapes[a], self.shapes[b]
        if sa != sb:
            raise ShapeError(f"residual add of different shapes {sa} and {sb}")
        return self._add(
            Layer(name=name, op="add", kind="", row=self.row, inputs=(a, b), in_shape=sa, out_shape=sa,
                  other_ops=numel(sa))
        )

    def pool(self, name, src, kind, k=3, s=2, padding=0) -> str:
        c, h, w = self._map(src, "a pooling layer")
        if kind == "global":
            return self._add(
                Layer(name=name, op="pool", kind="global", row=self.row, inputs=(src,), in_shape=(c, h, w),
                      out_shape=(c, 1, 1), kernel=(h, w), stride=(1, 1), padding=(0, 0),
                      other_ops=c * h * w)
            )
        kh, kw = _pair(k)
        sh, sw = _pair(s)
        ph, pw = _pair(padding)
        if 2 * ph > kh or 2 * pw > kw:
            raise ShapeError(f"pool padding {padding} must be at most half the kernel {k}", field="padding")
        if kh > h + 2 * ph or kw > w + 2 * pw:
            raise ShapeError(f"kernel {kh}x{kw} is larger than its padded input {h + 2 * ph}x{w + 2 * pw}",
                             field="k")
        ho = (h + 2 * ph - kh) // sh + 1
        wo = (w + 2 * pw - kw) // sw + 1
        out = (c, ho, wo)
        ops = (kh * kw - 1) * numel(out) if kind == "max" else c * h * w
        return self._add(
            Layer(name=name, op="pool", kind=kind, row=self.row, inputs=(src,), in_shape=(c, h, w),
                  out_shape=out, kernel=(kh, kw), stride=(sh, sw), padding=(ph, pw), other_ops=ops)
        )

    def mul(self, name, x, gate) -> str:
        """x * gate, the gate broadcast over space (squeeze-and-excitation)."""
        sx, sg = self.shapes[x], self.shapes[gate]
        if len(sx) != 3 or sg != (sx[0], 1, 1):
            raise ShapeError(f"a channel gate {sg} does not fit the map {sx}")
        return self._add(
            Layer(name=name, op="mul", kind="", row=self.row, inputs=(x, gate), in_shape=sx, out_shape=sx,
                  other_ops=numel(sx))
        )

    def concat(self, name, sources) -> str:
        shapes = [self.shapes[s] for s in sources]
        if any(len(sh) != 3 for sh in shapes) or len({sh[1:] for sh in shapes}) != 1:
            raise ShapeError(f"concatenation needs maps of one spatial size, got {shapes}", field="from")
        out = (sum(sh[0] for sh in shapes), *shapes[0][1:])
        return self._add(
            Layer(name=name, op="concat", kind="", row=self.row, inputs=tuple(sources), in_shape=shapes[0],
                  out_shape=out)
        )

    def pad(self, name, src, pads) -> str:
        """Zero padding (top, bottom, left, right), for TensorFlow-style asymmetric SAME padding."""
        c, h, w = self._map(src, "padding")
        top, bottom, left, right = pads
        return self._add(
            Layer(name=name, op="pad", kind="", row=self.row, inputs=(src,), in_shape=(c, h, w),
                  out_shape=(c, h + top + bottom, w + left + right), padding=tuple(pads))
        )

    def flatten(self, name, src) -> str:
        shape = self.shapes[src]
        return self._add(
            Layer(name=name, op="flatten", kind="", row=self.row, inputs=(src,), in_shape=shape,
                  out_shape=(numel(shape),))
        )

    def dropout(self, name, src, p) -> str:
        shape = self.shapes[src]
        return self._add(
            Layer(name=name, op="dropout", kind="", row=self.row, inputs=(src,), in_shape=shape,
                  out_shape=shape, p=p)
        )


@dataclass(frozen=True)
class Plan:
    """The expanded network: layers in execution order, the output layer name, and where rows begin."""

    model: str
    input: tuple[int, int, int]
    layers: tuple[Layer, ...]
    output: str  # the main (last) output
    rows: tuple  # RowInfo records (see archlab.expand)
    options: dict
    outputs: tuple[str, ...] = ()  # every network output, in order (several for detectors); () = (output,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", _fold_bn(self.layers))
        if not self.outputs:
            object.__setattr__(self, "outputs", (self.output,))
        object.__setattr__(self, "_by_name", {layer.name: layer for layer in self.layers})

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (KeyError if there is none)."""
        return self._by_name[name]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layer(self.output).out_shape

    def totals(self) -> dict[str, int]:
        keys = ("params", "params_deployed", "madds", "other_ops", "activations")
        return {k: sum(getattr(layer, k) for layer in self.layers) for k in keys}


def _fold_bn(layers: tuple[Layer, ...]) -> tuple[Layer, ...]:
    """Set params_deployed: a BN whose only input is a conv/linear read by nothing else folds into it."""
    by_name = {layer.name: layer for layer in layers}
    readers: dict[str, int] = {}
    for layer in layers:
        for src in layer.inputs:
            readers[src] = readers.get(src, 0) + 1
    out = {layer.name: layer for layer in layers}
    for layer in layers:
        if layer.op != "bn":
            continue
        (src,) = layer.inputs
        prev = by_name.get(src)
        if prev is None or prev.op not in ("conv", "linear") or readers.get(src, 0) != 1:
            continue
        channels = layer.out_shape[0]
        out[layer.name] = replace(layer, params_deployed=0)
        if not prev.bias:  # from prev.params, so that folding an already-folded plan changes nothing
            out[src] = replace(out[src], params_deployed=prev.params + channels)
    return tuple(out[layer.name] for layer in layers)
