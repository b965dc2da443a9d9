"""``concat``: concatenate several earlier tensors along channels (``from: [a, b, ...]``)."""

from __future__ import annotations

from archlab.errors import TableError
from archlab.spec.rows.base import Context, RowType

FIELDS = ()


def validate(v: dict) -> None:
    if not isinstance(v["from"], list) or len(v["from"]) < 2:
        raise TableError("a concat row reads a list of at least two tensors: from: [a, b]", field="from")


def expand(v: dict, ctx: Context) -> None:
    ctx.x = ctx.builder.concat(ctx.name(0, "concat"), list(ctx.sources))


ROW = RowType("concat", "channel concatenation of earlier rows or taps", FIELDS, expand, validate)
