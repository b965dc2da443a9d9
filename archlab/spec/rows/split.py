"""``split``: split the channels into ``parts`` equal parts (ShuffleNetV2's channel split).

Each part is a ``slice`` layer, a view of its channel range (it aliases the input: no copy, and the input stays
alive until every part's readers have run). The layers are ``<row>.0.<name>`` with the names ``names`` gives
(``part0``, ``part1``, ... by default); later rows read a part by that layer name (``from: 3.0.part0``). The row's
output, what the next row reads, is its last part.
"""

from __future__ import annotations

from archlab.errors import ShapeError, TableError
from archlab.spec.fields import Field
from archlab.spec.rows.base import Context, RowType

FIELDS = (
    Field("parts", "int", "number of equal channel parts (must divide the channels)", 2, min=2),
    Field("names", "strings", "names of the parts' layers (default part0, part1, ...)", None),
)


def validate(v: dict) -> None:
    names = v["names"]
    if names is None:
        return
    if len(names) != v["parts"] or len(set(names)) != len(names):
        raise TableError(f"give {v['parts']} distinct names, one per part, got {names!r}", field="names")
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise TableError(f"a part name must be an identifier (letters, digits, _), got {bad[0]!r}", field="names")


def expand(v: dict, ctx: Context) -> None:
    c = ctx.shape[0]
    parts = v["parts"]
    if len(ctx.shape) != 3 or c % parts:
        raise ShapeError(f"a split into {parts} parts does not divide the {c} channels", field="parts")
    names = v["names"] or [f"part{i}" for i in range(parts)]
    step = c // parts
    src = ctx.x
    for i, name in enumerate(names):
        ctx.x = ctx.builder.slice(ctx.name(0, name), src, i * step, (i + 1) * step)


ROW = RowType("split", "channel split into equal parts (views), read by name", FIELDS, expand, validate)
