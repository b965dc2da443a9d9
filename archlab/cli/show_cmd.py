"""`archlab show`: the resolved layer table, each row with its fields and in/out shapes."""

from __future__ import annotations

from archlab.cli.common import command, emit, format_option, net_argument, output_option, override_options

HELP = "Show the resolved layer table (after extends, edits and overrides): each row with its fields and shapes."
EPILOG = "Example: archlab show mobilefacenet-s --stem-pool"


@command("show", HELP, EPILOG)
@net_argument()
@override_options
@format_option()
@output_option
def show(net: str, overrides: dict, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.networks import show_table

    spec = api.load_table(net)
    table, data = show_table(spec, api.plan(spec, **overrides))
    emit([table], data, fmt, output)
