"""``shufflev2``: ShuffleNetV2 units (Ma et al. 2018, Fig. 3 (c) and (d); torchvision's ``InvertedResidual``).

A unit of stride 1 splits the channels in half (``part0``, ``part1``: views), keeps ``part0`` and runs ``part1``
through branch 2; a strided unit runs the whole input through both branches. Branch 1: depthwise k x k (stride)
-> norm, 1x1 to c/2 -> norm -> act (``b1_dw``, ``b1_pw``). Branch 2: 1x1 to c/2 -> norm -> act, depthwise k x k
(stride) -> norm, 1x1 -> norm -> act (``b2_pw1``, ``b2_dw``, ``b2_pw2``). Then concat (branch 1 or part0 first) and
a channel shuffle of 2 groups (``concat``, ``shuffle``). Stride ``s`` applies to the first of ``n`` units; a
stride-1 unit needs input channels = ``c``.
"""

from __future__ import annotations

from archlab.errors import ShapeError
from archlab.spec.fields import Field
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType

FIELDS = (
    Field("c", "int", "output channels, even (scaled by --width)", min=2),
    Field("n", "int", "number of units", 1, min=1),
    Field("s", "int", "stride of the first unit", 2, min=1),
    Field("k", "int", "depthwise kernel size", 3, min=1),
    BIAS,
    SCALE,
)


def _branch2(ctx: Context, i: int, x: str, half: int, stride: int, k: int) -> str:
    x = ctx.unit(i, "b2_pw1", x, half, 1, padding=0)
    x = ctx.unit(i, "b2_dw", x, half, k, stride, groups=half, act="none")
    return ctx.unit(i, "b2_pw2", x, half, 1, padding=0)


def expand(v: dict, ctx: Context) -> None:
    b = ctx.builder
    c = ctx.channels(v["c"], v["scale"])
    if c % 2:
        raise ShapeError(f"a ShuffleNetV2 unit needs an even number of output channels, got {c}", field="c")
    half = c // 2
    for i in range(v["n"]):
        src, cin = ctx.x, ctx.shape[0]
        stride = v["s"] if i == 0 else 1
        if stride == 1:
            if cin != c:
                raise ShapeError(f"a stride-1 unit keeps the channels: input {cin}, c {c}", field="c")
            keep = b.slice(ctx.name(i, "part0"), src, 0, half)
            right = b.slice(ctx.name(i, "part1"), src, half, c)
            branches = [keep, _branch2(ctx, i, right, half, 1, v["k"])]
        else:
            left = ctx.unit(i, "b1_dw", src, cin, v["k"], stride, groups=cin, act="none")
            left = ctx.unit(i, "b1_pw", left, half, 1, padding=0)
            branches = [left, _branch2(ctx, i, src, half, stride, v["k"])]
        x = b.concat(ctx.name(i, "concat"), branches)
        ctx.x = b.shuffle(ctx.name(i, "shuffle"), x, 2)


ROW = RowType("shufflev2", "ShuffleNetV2 unit(s): channel split or two branches, concat, shuffle", FIELDS, expand)
