"""``mul``: gate a tensor by another (``from: [x, gate]``): the gate has x's shape or broadcasts (size 1 on an
axis), e.g. a (C, 1, 1) channel gate as squeeze-and-excitation computes it."""

from __future__ import annotations

from archlab.spec.rows.base import Context, RowType

FIELDS = ()


def expand(v: dict, ctx: Context) -> None:
    x, gate = ctx.sources
    ctx.x = ctx.builder.mul(ctx.name(0, "mul"), x, gate)


ROW = RowType("mul", "x * gate, the gate broadcast where its size is 1", FIELDS, expand, reads=(2, 2))
