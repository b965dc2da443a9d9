"""``pool``: max, average or global average pooling."""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows.base import Context, RowType

FIELDS = (
    Field("kind", "choice", "max, avg or global (global average)", choices=("max", "avg", "global")),
    Field("k", "int", "kernel size (not for global)", 3, min=1),
    Field("s", "int", "stride (not for global)", 2, min=1),
    Field("padding", "int", "padding, at most k//2 (not for global)", 0, min=0),
    Field("ceil", "bool", "round the output size up (torch's ceil_mode; SqueezeNet's max-pools)", False),
)


def expand(v: dict, ctx: Context) -> None:
    ctx.x = ctx.builder.pool(ctx.name(0, "pool"), ctx.x, v["kind"], v["k"], v["s"], v["padding"], ceil=v["ceil"])


ROW = RowType("pool", "pooling layer", FIELDS, expand)
