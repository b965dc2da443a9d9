"""``basic``: ResNet's basic block (He et al. 2016, Table 1: ResNet-18/34; torchvision's ``BasicBlock``).

Each of the ``n`` blocks: k x k conv (stride ``s`` on the first block) -> norm -> act, k x k conv -> norm, the
shortcut (the identity, or a strided 1x1 conv + norm when channels or stride change), add, act. Roles: conv1,
conv1_bn, conv1_act, conv2, conv2_bn, shortcut, shortcut_bn, add, act (torchvision's registration order).
"""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType
from archlab.spec.rows.residual import close, shortcut

FIELDS = (
    Field("c", "int", "output channels (scaled by --width)", min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block (its first conv and the shortcut)", 1, min=1),
    Field("k", "int", "kernel size of both convs", 3, min=1),
    BIAS,
    SCALE,
)


def expand(v: dict, ctx: Context) -> None:
    c = ctx.channels(v["c"], v["scale"])
    for i in range(v["n"]):
        src = ctx.x
        stride = v["s"] if i == 0 else 1
        x = ctx.unit(i, "conv1", src, c, v["k"], stride)
        x = ctx.unit(i, "conv2", x, c, v["k"], 1, act="none")
        ctx.x = close(ctx, i, x, shortcut(ctx, i, src, c, stride))


ROW = RowType("basic", "ResNet basic block(s): two k x k convs and a (projected) shortcut", FIELDS, expand)
