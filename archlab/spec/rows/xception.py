"""``xception``: Xception's residual block of separable convolutions (Chollet 2017, Fig. 5).

Per block: ``reps`` times [act -> depthwise 3x3 -> pointwise 1x1 -> norm], the first act dropped when
``start_with_relu`` is false; channels grow on the first separable conv (``grow_first``) or the last; a 3x3
stride-2 pad-1 max-pool when strided; the shortcut is a strided 1x1 conv + norm when the shape changes, the
identity otherwise; then the residual add. Stride ``s`` applies to the first of ``n`` blocks.
"""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType

FIELDS = (
    Field("c", "int", "output channels (scaled by --width)", min=1),
    Field("reps", "int", "separable convs per block", min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block (max-pool and shortcut)", 1, min=1),
    Field("k", "int", "depthwise kernel size", 3, min=1),
    Field("start_with_relu", "bool", "activation before the first separable conv", True),
    Field("grow_first", "bool", "change channels in the first separable conv (else the last)", True),
    BIAS,
    SCALE,
)


def expand(v: dict, ctx: Context) -> None:
    b = ctx.builder
    c = ctx.channels(v["c"], v["scale"])
    reps = v["reps"]
    for i in range(v["n"]):
        src = ctx.x
        cin = ctx.shape[0]
        stride = v["s"] if i == 0 else 1
        skip = src
        if cin != c or stride != 1:
            skip = b.conv(ctx.name(i, "shortcut"), src, c, 1, stride, padding=0)
            if ctx.norm == "bn":
                skip = b.bn(ctx.name(i, "shortcut_bn"), skip)
        x = src
        ch = cin
        for j in range(reps):
            grow = (j == 0) if v["grow_first"] else (j == reps - 1)
            out = c if grow else ch
            if (j > 0 or v["start_with_relu"]) and ctx.act != "none":
                x = b.act(ctx.name(i, f"act{j}"), x, ctx.act)
            x = ctx.conv(ctx.name(i, f"dw{j}"), x, ch, v["k"], 1, groups=ch)
            x = b.conv(ctx.name(i, f"pw{j}"), x, out, 1)
            if ctx.norm == "bn":
                x = b.bn(ctx.name(i, f"bn{j}"), x)
            ch = out
        if stride != 1:
            x = b.pool(ctx.name(i, "pool"), x, "max", 3, stride, 1)
        ctx.x = b.add(ctx.name(i, "add"), x, skip)


ROW = RowType("xception", "Xception block: separable convs with a (projected) shortcut", FIELDS, expand)
