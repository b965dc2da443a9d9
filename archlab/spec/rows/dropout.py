"""``dropout``: dropout (the identity at inference), e.g. before SqueezeNet's final conv."""

from __future__ import annotations

from archlab.errors import TableError
from archlab.spec.fields import Field
from archlab.spec.rows.base import Context, RowType

FIELDS = (Field("p", "float", "dropout probability (< 1)", 0.5, min=0),)


def validate(v: dict) -> None:
    if v["p"] >= 1:
        raise TableError(f"must be < 1, got {v['p']}", field="p")


def expand(v: dict, ctx: Context) -> None:
    ctx.x = ctx.builder.dropout(ctx.name(0, "dropout"), ctx.x, v["p"])


ROW = RowType("dropout", "dropout (identity at inference)", FIELDS, expand, validate)
