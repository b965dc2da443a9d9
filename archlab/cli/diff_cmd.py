"""`archlab diff A B`: two networks, or one under two option sets, row by row."""

from __future__ import annotations

from typing import Annotated

import typer

from archlab.cli.common import Format, FormatOpt, OutputOpt, complete_network, user_errors, with_overrides
from archlab.cli.profile_extras import UnitsChoice, UnitsOpt

HELP = """Compare two networks, or one network under two option sets, row by row: shapes, params, MAdds and
their deltas (B - A), with totals, FMap-end and peak activation memory.

\b
The override options (--input, --width, --stem-stride, ...) apply to B; give A's with -A KEY=VALUE
(repeatable), e.g. -A input=112x96. Rows are aligned by type and fields, so a removed row shows as removed.
"""
EPILOG = "Example: archlab diff mobilefacenet mobilefacenet --stem-stride 1"

NetA = Annotated[
    str, typer.Argument(help="network A: a shipped name or a .yaml path", metavar="A", autocompletion=complete_network)
]
NetB = Annotated[
    str,
    typer.Argument(
        help="network B (the same name as A to compare option sets)", metavar="B", autocompletion=complete_network
    ),
]
AOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--a-option",
        "-A",
        metavar="KEY=VALUE",
        help="an override for A: input, width, stem-stride, stem-pool, head, embedding, classes (repeatable)",
    ),
]


@user_errors
@with_overrides
def diff(
    a: NetA,
    b: NetB,
    overrides: dict | None = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    a_option: AOpt = None,
    units: UnitsOpt = UnitsChoice.madds,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    from archlab import api
    from archlab.render.diff import diff_data, diff_table
    from archlab.render.output import emit

    u = api.units(units.value if hasattr(units, "value") else units)
    d = api.diff(a, b, a_options=list(a_option or []), b_options=overrides or {})
    fmt = format.value if hasattr(format, "value") else format
    emit([diff_table(d, u)], diff_data(d, u), fmt, str(output) if output else None)
