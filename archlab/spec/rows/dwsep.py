"""``dwsep``: depthwise-separable convolution (MobileNetV1 Table 1; Xception's separable conv).

Per block: depthwise k x k (stride ``s`` on the first block) -> [norm -> act when ``dw_norm``] ->
pointwise 1x1 to ``c`` -> norm -> act. MobileNetV1 normalises both; Xception's exit-flow SeparableConv2d
has nothing between the two convolutions (``dw_norm: false``).
"""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType

FIELDS = (
    Field("c", "int", "output channels of the pointwise conv (scaled by --width)", min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block's depthwise conv", 1, min=1),
    Field("k", "int", "depthwise kernel size", 3, min=1),
    Field("dw_norm", "bool", "norm + activation after the depthwise conv", True),
    BIAS,
    SCALE,
)


def expand(v: dict, ctx: Context) -> None:
    c = ctx.channels(v["c"], v["scale"])
    for i in range(v["n"]):
        cin = ctx.shape[0]
        stride = v["s"] if i == 0 else 1
        if v["dw_norm"]:
            x = ctx.unit(i, "dw", ctx.x, cin, v["k"], stride, groups=cin)
        else:
            x = ctx.conv(ctx.name(i, "dw"), ctx.x, cin, v["k"], stride, groups=cin)
        ctx.x = ctx.unit(i, "pw", x, c, 1)


ROW = RowType("dwsep", "depthwise-separable conv: depthwise k x k, pointwise 1x1", FIELDS, expand)
