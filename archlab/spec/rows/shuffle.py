"""``shuffle``: channel shuffle (ShuffleNet): the channels, as ``groups`` groups, interleaved."""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows.base import Context, RowType

FIELDS = (Field("groups", "int", "groups to interleave (must divide the channels)", 2, min=1),)


def expand(v: dict, ctx: Context) -> None:
    ctx.x = ctx.builder.shuffle(ctx.name(0, "shuffle"), ctx.x, v["groups"])


ROW = RowType("shuffle", "channel shuffle of groups", FIELDS, expand)
