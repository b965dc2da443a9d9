"""``add``: a residual add of two or more earlier tensors (``from: [a, b, ...]``), shapes equal.

An activation follows only when the row names one (``act: relu``: ResNet's ReLU after the add); the table's
default activation does not apply to an add.
"""

from __future__ import annotations

from archlab.spec.rows.base import Context, RowType

FIELDS = ()


def expand(v: dict, ctx: Context) -> None:
    x = ctx.builder.add(ctx.name(0, "add"), *ctx.sources)
    if v["act"] not in (None, "none"):
        x = ctx.builder.act(ctx.name(0, "act"), x, v["act"])
    ctx.x = x


ROW = RowType(
    "add", "element-wise sum of earlier rows or taps (a residual add) [-> act]", FIELDS, expand, reads=(2, None)
)
