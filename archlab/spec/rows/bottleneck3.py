"""``bottleneck3``: ResNet's bottleneck block (He et al. 2016, Table 1: ResNet-50/101/152; torchvision's
``Bottleneck``, ResNet v1.5).

Each of the ``n`` blocks: 1x1 conv to the width ``e`` (c / 4 by default) -> norm -> act, 3x3 conv with ``groups``
-> norm -> act, 1x1 conv to ``c`` -> norm, the shortcut (the identity, or a strided 1x1 conv + norm when channels
or stride change), add, act. The first block's stride sits on the 3x3 conv (``stride_on: 3x3``, v1.5, torchvision)
or on the first 1x1 (``1x1``, the paper's v1). Roles: conv1, conv2, conv3 (each with _bn, _act), shortcut,
shortcut_bn, add, act.
"""

from __future__ import annotations

from archlab.errors import ShapeError
from archlab.spec.fields import Field
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType
from archlab.spec.rows.residual import close, shortcut

FIELDS = (
    Field("c", "int", "output channels (scaled by --width)", min=1),
    Field("e", "int", "bottleneck width of the 1x1 and 3x3 convs (default c / 4; scaled by --width)", None, min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block", 1, min=1),
    Field("k", "int", "kernel size of the middle conv", 3, min=1),
    Field("groups", "int", "groups of the middle conv (ResNeXt)", 1, min=1),
    Field(
        "stride_on",
        "choice",
        "where the first block's stride sits: 3x3 (v1.5, torchvision) or 1x1 (v1)",
        "3x3",
        choices=("3x3", "1x1"),
    ),
    BIAS,
    SCALE,
)


def expand(v: dict, ctx: Context) -> None:
    c = ctx.channels(v["c"], v["scale"])
    mid = ctx.channels(v["e"], v["scale"]) if v["e"] is not None else c // 4
    if mid < 1:
        raise ShapeError(f"the bottleneck width c / 4 of {c} channels is 0; give e", field="e")
    for i in range(v["n"]):
        src = ctx.x
        stride = v["s"] if i == 0 else 1
        s1, s3 = (1, stride) if v["stride_on"] == "3x3" else (stride, 1)
        x = ctx.unit(i, "conv1", src, mid, 1, s1, padding=0)
        x = ctx.unit(i, "conv2", x, mid, v["k"], s3, groups=v["groups"])
        x = ctx.unit(i, "conv3", x, c, 1, act="none")
        ctx.x = close(ctx, i, x, shortcut(ctx, i, src, c, stride))


ROW = RowType("bottleneck3", "ResNet bottleneck block(s): 1x1, 3x3, 1x1 and a (projected) shortcut", FIELDS, expand)
