"""``bottleneck``: the inverted residual with linear bottleneck (MobileNetV2 Table 2; MobileFaceNets Table 1).

Each of the ``n`` blocks: 1x1 expansion to round(t x its input channels) -> norm -> act, depthwise k x k
(stride ``s`` on the first block only) -> norm -> act, linear 1x1 projection to ``c`` -> norm; a residual
add when the stride is 1 and input and output channels agree. With t = 1 there is no expansion layer.
"""

from __future__ import annotations

from archlab.rows.base import Field, RowType
from archlab.rows.context import RowContext

FIELDS = (
    Field("t", "float", "expansion factor (of the block's input channels)", min=0, exclusive_min=True),
    Field("c", "int", "output channels (scaled by --width)", min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block", 1, min=1),
    Field("k", "int", "depthwise kernel size", 3, min=1),
    Field("scale", "choice", "how --width applies: all, up (only widths > 1) or none", "all",
          choices=("all", "up", "none")),
)


def expand(v: dict, ctx: RowContext) -> None:
    b = ctx.builder
    c = ctx.channels(v["c"], v["scale"])
    for i in range(v["n"]):
        src = ctx.x
        cin = ctx.shape[0]
        stride = v["s"] if i == 0 else 1
        hidden = int(round(cin * v["t"]))
        x = src
        if v["t"] != 1:
            x = ctx.unit(i, "expand", x, hidden, 1)
        x = ctx.unit(i, "dw", x, hidden, v["k"], stride, groups=hidden)
        x = ctx.unit(i, "project", x, c, 1, act="none")
        if stride == 1 and cin == c:
            x = b.add(ctx.name(i, "add"), x, src)
        ctx.x = x


ROW = RowType("bottleneck", "inverted residual block(s): expand, depthwise, linear projection", FIELDS, expand)
