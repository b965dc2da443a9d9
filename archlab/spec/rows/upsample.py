"""``upsample``: nearest or bilinear upsampling by an integer factor (FPN-style necks)."""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows.base import Context, RowType

FIELDS = (
    Field("scale", "int", "integer scale factor of height and width", 2, min=1),
    Field("mode", "choice", "nearest or bilinear (align_corners false)", "nearest", choices=("nearest", "bilinear")),
)


def expand(v: dict, ctx: Context) -> None:
    ctx.x = ctx.builder.upsample(ctx.name(0, "upsample"), ctx.x, v["scale"], v["mode"])


ROW = RowType("upsample", "nearest/bilinear upsampling by an integer factor", FIELDS, expand)
