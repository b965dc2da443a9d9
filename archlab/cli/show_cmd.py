"""`archlab show`: the resolved layer table, each row with its fields and in/out shapes (a torch module: its
traced rows)."""

from __future__ import annotations

from archlab.cli.common import (
    command,
    emit,
    format_option,
    net_argument,
    output_option,
    override_options,
    source_options,
)

HELP = """Show the resolved layer table (after extends, edits and overrides): each row with its fields and shapes.

A torch module, FILE.py:CALLABLE (--arg KEY=VALUE for its arguments), is traced at --input and shown as its
rows as traced (one per module call); `archlab extract SRC --input HxW` writes it as a table."""
EPILOG = (
    "Example: archlab show mobilefacenet-s --stem-pool\n\n"
    "  archlab show examples/models/resnet.py:resnet18 --input 224x224"
)


@command("show", HELP, EPILOG)
@net_argument()
@override_options
@source_options
@format_option()
@output_option
def show(net: str, overrides: dict, strict: bool, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.networks import show_table

    if api.is_source(net) or not isinstance(net, str):  # a module: its trace (no table)
        table, data = show_table(None, api.plan(net, strict=strict, **overrides))
    else:
        spec = api.load_table(net)
        table, data = show_table(spec, api.plan(spec, strict=strict, **overrides))
    emit([table], data, fmt, output)
