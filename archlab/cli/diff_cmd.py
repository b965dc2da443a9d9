"""`archlab diff A B`: two networks, or one under two option sets, row by row."""

from __future__ import annotations

import click

from archlab.cli.common import (
    command,
    emit,
    format_option,
    load_source,
    net_argument,
    output_option,
    override_options,
    source_options,
    units_option,
)

HELP = """Compare two networks, or one network under two option sets, row by row: shapes, params, MAdds and
their deltas (B - A), with totals, FMap-end and peak activation memory.

The override options (--input, --width, --stem-stride, ...) apply to B; give A's with -A KEY=VALUE
(repeatable), e.g. -A input=112x96. Rows are aligned by type and fields, so a removed row shows as removed.

A or B may be a torch module, FILE.py:CALLABLE (traced at its --input: B's from --input, A's from -A input=HxW).
Like the overrides, --arg KEY=VALUE calls B's callable with arguments; --a-arg KEY=VALUE calls A's."""
EPILOG = (
    "Example: archlab diff mobilefacenet mobilefacenet --stem-stride 1\n\n"
    "  archlab diff examples/models/resnet.py:resnet18 resnet18 -A input=224x224 --input 224x224"
)


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
@click.option(
    "--a-arg",
    "a_args",
    multiple=True,
    metavar="KEY=VALUE",
    help="for an A that is FILE.py:CALLABLE: call it with KEY=VALUE (repeatable; --arg is B's)",
)
@source_options(argument="b")
@units_option
@format_option()
@output_option
def diff(
    a: str,
    b: str,
    overrides: dict,
    a_option: tuple[str, ...],
    a_args: tuple[str, ...],
    strict: bool,
    units: str,
    fmt: str,
    output: str | None,
) -> None:
    from archlab import api
    from archlab.render.diff import diff_data, diff_table

    u = api.units(units)
    first = load_source(a, a_args, "--a-arg") if a_args else a
    d = api.diff(first, b, a_options=list(a_option), b_options=overrides, strict=strict)
    emit([diff_table(d, u)], diff_data(d, u), fmt, output)
