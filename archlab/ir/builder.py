"""Appending plan layers: each through its op's shape and count rules (:mod:`archlab.ir.ops`).

:meth:`PlanBuilder.layer` is the one way a layer enters a plan: the op's ``make`` (shape rule) and ``counts``.
The named methods (``conv``, ``bn``, ...) are conveniences for the row recipes: they turn a row's fields
(kernel sizes as ints, padding modes such as TensorFlow SAME) into the op's fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from archlab.errors import ShapeError
from archlab.ir.layer import INPUT, Layer
from archlab.ir.ops import op_of, with_counts


def pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def same_padding(h: int, w: int, kernel, stride, dilation) -> tuple[int, int, int, int]:
    """TensorFlow SAME padding (top, bottom, left, right): out = ceil(in / s), the odd pixel at the bottom/right."""
    pads = [
        max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        for n, s, k, d in ((h, stride[0], kernel[0], dilation[0]), (w, stride[1], kernel[1], dilation[1]))
    ]
    top, left = pads[0] // 2, pads[1] // 2
    return top, pads[0] - top, left, pads[1] - left


class PlanBuilder:
    """Appends layers, infers shapes and applies the counting rules. Raises ShapeError with a field name."""

    def __init__(self, in_shape: tuple[int, ...]) -> None:
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple[int, ...]] = {INPUT: tuple(in_shape)}
        self.row: int | str = 0
        # the current row's settings (set around each row's recipe, :meth:`RowSettings.apply`)
        self.settings = RowSettings()

    def shape(self, name: str) -> tuple[int, ...]:
        return self.shapes[name]

    def layer(self, op: str, name: str, inputs: list[str] | tuple[str, ...], **fields) -> str:
        """Add one layer of ``op`` reading ``inputs``; ``fields``: the op's ``make`` arguments. Returns its name."""
        if name in self.shapes:
            raise ShapeError(f"duplicate layer name {name!r}")
        entry = op_of(op, None)  # the kind is checked once the layer is made (bn: 2d or 1d by its input)
        made = entry.make(name, self.row, tuple(inputs), [self.shapes[s] for s in inputs], **fields)
        layer = with_counts(made, fresh=True)
        if self.settings.waivers:
            layer = replace(layer, waivers=self.settings.waivers)
        self.layers.append(layer)
        self.shapes[name] = layer.out_shape
        return name

    # -- conveniences for row recipes ------------------------------------------------------------------------
    def conv(self, name, src, c, k, s=1, *, groups=1, dilation=1, padding="auto", bias=None) -> str:
        """``padding``: auto (PyTorch symmetric, (k // 2) * dilation), same (TensorFlow: an explicit pad layer
        when the padding is odd), valid (0) or an int / pair. ``bias``: None = the row's ``bias`` setting."""
        bias = self.settings.bias if bias is None else bias
        kernel, stride, dil = pair(k), pair(s), pair(dilation)
        shape = self.shapes[src]
        if padding == "same" and len(shape) == 3:
            top, bottom, left, right = same_padding(shape[1], shape[2], kernel, stride, dil)
            if top != bottom or left != right:
                src = self.pad(f"{name}_pad", src, (top, bottom, left, right))
                pads = (0, 0)
            else:
                pads = (top, left)
        elif padding in ("auto", "same"):
            pads = ((kernel[0] // 2) * dil[0], (kernel[1] // 2) * dil[1])
        elif padding == "valid":
            pads = (0, 0)
        else:
            pads = pair(padding)
        return self.layer(
            "conv",
            name,
            (src,),
            c=c,
            kernel=kernel,
            stride=stride,
            padding=pads,
            dilation=dil,
            groups=groups,
            bias=bias,
        )

    def linear(self, name, src, out_features, *, bias=False) -> str:
        return self.layer("linear", name, (src,), out_features=out_features, bias=bias)

    def bn(self, name, src) -> str:
        """A BN with the row's eps and momentum (``bn_eps``, ``bn_momentum``; torch's defaults otherwise)."""
        return self.layer("bn", name, (src,), eps=self.settings.bn_eps, momentum=self.settings.bn_momentum)

    def act(self, name, src, kind) -> str:
        return self.layer("act", name, (src,), kind=kind)

    def add(self, name, *sources) -> str:
        return self.layer("add", name, sources)

    def pool(self, name, src, kind, k=3, s=2, padding=0, *, ceil=False) -> str:
        fields = dict(kind=kind, kernel=pair(k), stride=pair(s), padding=pair(padding), ceil=ceil)
        return self.layer("pool", name, (src,), **fields)

    def mul(self, name, x, gate) -> str:
        """x * gate, the gate broadcast over space (squeeze-and-excitation)."""
        return self.layer("mul", name, (x, gate))

    def concat(self, name, sources) -> str:
        return self.layer("concat", name, tuple(sources))

    def pad(self, name, src, pads) -> str:
        """Zero padding (top, bottom, left, right), for TensorFlow-style asymmetric SAME padding."""
        return self.layer("pad", name, (src,), pads=tuple(pads))

    def shuffle(self, name, src, groups) -> str:
        return self.layer("shuffle", name, (src,), groups=groups)

    def slice(self, name, src, start, stop) -> str:
        """Channels [start, stop) of ``src``, a view (one part of a channel split)."""
        return self.layer("slice", name, (src,), start=start, stop=stop)

    def upsample(self, name, src, scale, mode="nearest") -> str:
        return self.layer("upsample", name, (src,), kind=mode, scale=scale)

    def droppath(self, name, src) -> str:
        """The drop-path (stochastic depth) site of a residual branch: the identity at inference."""
        return self.layer("droppath", name, (src,))

    def flatten(self, name, src) -> str:
        return self.layer("flatten", name, (src,))

    def dropout(self, name, src, p) -> str:
        return self.layer("dropout", name, (src,), p=p)


class RowSettings:
    """What a row sets for every layer its recipe writes: BN eps/momentum, the conv bias default, lint waivers.

    :meth:`apply` sets them on a builder for the duration of one recipe (``with settings.apply(builder): ...``).
    """

    def __init__(self, bn_eps: float = 1e-5, bn_momentum: float = 0.1, bias: bool = False, waivers=()) -> None:
        self.bn_eps = bn_eps
        self.bn_momentum = bn_momentum
        self.bias = bias
        self.waivers: tuple[tuple[str, str], ...] = tuple(waivers)

    @contextmanager
    def apply(self, builder: PlanBuilder) -> Iterator[None]:
        previous, builder.settings = builder.settings, self
        try:
            yield
        finally:
            builder.settings = previous
