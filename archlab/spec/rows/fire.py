"""``fire``: SqueezeNet's Fire module (Iandola et al. 2016, Fig. 1; torchvision's ``Fire``).

1x1 squeeze conv to ``squeeze`` channels -> norm -> act, then two expand convs reading it, 1x1 to ``e1`` and 3x3
(padding 1) to ``e3``, each -> norm -> act, concatenated (``e1`` first). Roles: squeeze, expand1x1, expand3x3 (each
with _bn when the norm is bn, and _act), concat. SqueezeNet's convs have a bias and no norm (``bias`` true by
default; give ``defaults.norm: none``).
"""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows.base import SCALE, Context, RowType

FIELDS = (
    Field("squeeze", "int", "channels of the 1x1 squeeze conv (scaled by --width)", min=1),
    Field("e1", "int", "channels of the 1x1 expand conv (scaled by --width)", min=1),
    Field("e3", "int", "channels of the 3x3 expand conv (scaled by --width)", min=1),
    Field("bias", "bool", "the convs have a bias (SqueezeNet's do)", True),
    SCALE,
)


def expand(v: dict, ctx: Context) -> None:
    scale = v["scale"]
    s = ctx.unit(0, "squeeze", ctx.x, ctx.channels(v["squeeze"], scale), 1, padding=0)
    e1 = ctx.unit(0, "expand1x1", s, ctx.channels(v["e1"], scale), 1, padding=0)
    e3 = ctx.unit(0, "expand3x3", s, ctx.channels(v["e3"], scale), 3, padding=1)
    ctx.x = ctx.builder.concat(ctx.name(0, "concat"), [e1, e3])


ROW = RowType("fire", "SqueezeNet Fire module: 1x1 squeeze, 1x1 and 3x3 expands, concat", FIELDS, expand)
