"""``regnetx``: RegNet's X block (Radosavovic et al. 2020; torchvision's ``ResBottleneckBlock`` without SE).

Each of the ``n`` blocks: the shortcut first (the identity, or a strided 1x1 conv + norm, ``proj``, when width or
stride change), then 1x1 conv to w_b = round(``c`` x ``b``) -> norm -> act (``a``), 3x3 conv with w_b / ``g``
groups (group width ``g``; stride ``s`` on the first block) -> norm -> act (``b``), 1x1 conv to ``c`` -> norm
(``c``), add, act. Torchvision registers ``proj`` before the transform; so does this row.
"""

from __future__ import annotations

from archlab.errors import ShapeError
from archlab.spec.fields import Field
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType
from archlab.spec.rows.residual import close

FIELDS = (
    Field("c", "int", "block width, output channels (scaled by --width)", min=1),
    Field("n", "int", "number of blocks (the stage depth)", 1, min=1),
    Field("s", "int", "stride of the first block", 2, min=1),
    Field("g", "int", "group width of the 3x3 conv (channels per group)", min=1),
    Field("b", "float", "bottleneck multiplier: w_b = round(c x b)", 1.0, min=0, exclusive_min=True),
    BIAS,
    SCALE,
)


def expand(v: dict, ctx: Context) -> None:
    c = ctx.channels(v["c"], v["scale"])
    mid = int(round(c * v["b"]))
    if mid < 1 or mid % v["g"]:
        raise ShapeError(f"the group width {v['g']} does not divide the bottleneck width {mid}", field="g")
    for i in range(v["n"]):
        src = ctx.x
        stride = v["s"] if i == 0 else 1
        skip = src
        if ctx.shape[0] != c or stride != 1:
            skip = ctx.unit(i, "proj", src, c, 1, stride, padding=0, act="none")
        x = ctx.unit(i, "a", src, mid, 1, padding=0)
        x = ctx.unit(i, "b", x, mid, 3, stride, groups=mid // v["g"])
        x = ctx.unit(i, "c", x, c, 1, padding=0, act="none")
        ctx.x = close(ctx, i, x, skip)


ROW = RowType("regnetx", "RegNet X block(s): 1x1, grouped 3x3, 1x1 and a (projected) shortcut", FIELDS, expand)
