"""What every row type shares: the common fields, the ``scale`` and ``bias`` fields, and :class:`RowType`.

A row type declares its fields once and a recipe, ``recipe(values, ctx)``, that writes the row's plan layers
through ``ctx``: the expansion context the plan tier hands in (:class:`archlab.ir.context.RowContext`). The
recipe calls only that context (its builder's op constructors, naming, channel rounding); nothing in
``archlab.spec`` imports the plan tier. :meth:`RowType.expand` runs the recipe with the row's settings applied
to every layer it writes: BN ``bn_eps``/``bn_momentum``, the conv ``bias`` default and ``lint`` waivers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archlab.errors import TableError
from archlab.spec.fields import ACTS, NORMS, Field, parse_fields

Context = Any  # the plan tier's RowContext (archlab.ir.context), handed to every recipe

SCALE = Field(
    "scale", "choice", "how --width applies: all, up (only widths > 1) or none", "all", choices=("all", "up", "none")
)
BIAS = Field("bias", "bool", "every conv of the row has a bias (squeeze-excite convs always have one)", False)
WAIVER = Field(
    "lint",
    "mapping",
    "waive lint rules on this row's layers, with the reason: {ignore: [rule, ...], why: text}",
    None,
    fields=(
        Field("ignore", "strings", "the lint rules waived (archlab lint names them)"),
        Field("why", "str", "why the finding is accepted (shown by archlab lint)"),
    ),
)


def common_fields() -> tuple[Field, ...]:
    """Fields every row accepts besides its own."""
    return (
        Field("type", "str", "row type"),
        Field("id", "str", "optional name for the row (used by `edit:` in files that extend this one)", None),
        Field("norm", "choice", "normalisation after each conv (defaults.norm when omitted)", None, choices=NORMS),
        Field("act", "act", "activation (defaults.act when omitted)", None, choices=ACTS),
        Field(
            "from",
            "ref",
            "read this instead of the previous row's output: a row index (negative: counted back),"
            " a row id, or a layer name inside a block (a tap, e.g. 6.0.expand_act)",
            None,
        ),
        Field("output", "bool", "this row's output is a network output (detectors have several)", None),
        Field(
            "bn_eps",
            "float",
            "eps of every BN in the row (defaults.bn_eps when omitted)",
            None,
            min=0,
            exclusive_min=True,
        ),
        Field(
            "bn_momentum", "float", "momentum of every BN in the row (defaults.bn_momentum when omitted)", None, min=0
        ),
        WAIVER,
    )


@dataclass
class RowType:
    """A row type: its declared fields and the function that expands a row into plan layers."""

    name: str
    help: str
    fields: tuple[Field, ...]
    recipe: Callable  # (values: dict, ctx: RowContext) -> None
    validate: Callable | None = None  # extra cross-field checks on the parsed values
    reads: tuple[int, int | None] = (1, 1)  # tensors it reads (min, max; None: any): 2+ come as a `from:` list
    all_fields: tuple[Field, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.all_fields = common_fields() + self.fields

    def expand(self, values: dict, ctx: Context) -> None:
        """Write the row's layers: the recipe, with the row's BN, bias and lint settings on every layer."""
        with ctx.row_settings(values):
            self.recipe(values, ctx)

    def parse(self, raw: dict) -> dict:
        values = parse_fields(raw, self.all_fields)
        low, high = self.reads
        if low > 1:
            refs = values["from"]
            if not isinstance(refs, list) or len(refs) < low or (high is not None and len(refs) > high):
                words = {2: "two", 3: "three", 4: "four"}
                n, m = words.get(low, str(low)), words.get(high or 0, str(high))
                count = n if high == low else f"at least {n}" if high is None else f"{n} to {m}"
                example = ", ".join("abcdefgh"[:low])
                raise TableError(f"a {self.name} row reads a list of {count} tensors: from: [{example}]", field="from")
        if self.validate is not None:
            self.validate(values)
        return values
