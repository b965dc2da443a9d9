"""``concat``: concatenate several earlier tensors along channels (``from: [a, b, ...]``)."""

from __future__ import annotations

from archlab.spec.rows.base import Context, RowType

FIELDS = ()


def expand(v: dict, ctx: Context) -> None:
    ctx.x = ctx.builder.concat(ctx.name(0, "concat"), list(ctx.sources))


ROW = RowType("concat", "channel concatenation of earlier rows or taps", FIELDS, expand, reads=(2, None))
