"""What every row type shares: the common fields, the ``scale`` field, and :class:`RowType`.

A row type declares its fields once and a recipe, ``expand(values, ctx)``, that writes the row's plan layers
through ``ctx``: the expansion context the plan tier hands in (:class:`archlab.ir.context.RowContext`). The
recipe calls only that context (its builder's op constructors, naming, channel rounding); nothing in
``archlab.spec`` imports the plan tier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archlab.spec.fields import ACTS, NORMS, Field, parse_fields

Context = Any  # the plan tier's RowContext (archlab.ir.context), handed to every recipe

SCALE = Field(
    "scale", "choice", "how --width applies: all, up (only widths > 1) or none", "all", choices=("all", "up", "none")
)


def common_fields() -> tuple[Field, ...]:
    """Fields every row accepts besides its own."""
    return (
        Field("type", "str", "row type"),
        Field("id", "str", "optional name for the row (used by `edit:` in files that extend this one)", None),
        Field("norm", "choice", "normalisation after each conv (defaults.norm when omitted)", None, choices=NORMS),
        Field("act", "choice", "activation (defaults.act when omitted)", None, choices=ACTS),
        Field(
            "from",
            "ref",
            "read this instead of the previous row's output: a row index (negative: counted back),"
            " a row id, or a layer name inside a block (a tap, e.g. 6.0.expand_act)",
            None,
        ),
        Field("output", "bool", "this row's output is a network output (detectors have several)", None),
    )


@dataclass
class RowType:
    """A row type: its declared fields and the function that expands a row into plan layers."""

    name: str
    help: str
    fields: tuple[Field, ...]
    expand: Callable  # (values: dict, ctx: RowContext) -> None
    validate: Callable | None = None  # extra cross-field checks on the parsed values
    all_fields: tuple[Field, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.all_fields = common_fields() + self.fields

    def parse(self, raw: dict) -> dict:
        values = parse_fields(raw, self.all_fields)
        if self.validate is not None:
            self.validate(values)
        return values
