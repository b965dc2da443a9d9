"""`archlab diff A B`: two networks, or one under two option sets, row by row."""

from __future__ import annotations

import click

from archlab.cli.common import command, emit, format_option, net_argument, output_option, override_options, units_option

HELP = """Compare two networks, or one network under two option sets, row by row: shapes, params, MAdds and
their deltas (B - A), with totals, FMap-end and peak activation memory.

The override options (--input, --width, --stem-stride, ...) apply to B; give A's with -A KEY=VALUE
(repeatable), e.g. -A input=112x96. Rows are aligned by type and fields, so a removed row shows as removed."""
EPILOG = "Example: archlab diff mobilefacenet mobilefacenet --stem-stride 1"


@command("diff", HELP, EPILOG)
@net_argument("a", "A")
@net_argument("b", "B")
@override_options
@click.option(
    "--a-option",
    "-A",
    "a_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="an override for A: input, width, stem-stride, stem-pool, head, embedding, classes (repeatable)",
)
@units_option
@format_option()
@output_option
def diff(a: str, b: str, overrides: dict, a_option: tuple[str, ...], units: str, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.diff import diff_data, diff_table

    u = api.units(units)
    d = api.diff(a, b, a_options=list(a_option), b_options=overrides)
    emit([diff_table(d, u)], diff_data(d, u), fmt, output)
