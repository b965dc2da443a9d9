"""`archlab list`: the shipped networks with their sizes and published figures."""

from __future__ import annotations

from archlab.cli.common import command, emit, format_option, output_option

HELP = "List the shipped networks: input size, params, MAdds, the published figures and a description."
EPILOG = "Example: archlab list --format md"


@command("list", HELP, EPILOG)
@format_option()
@output_option
def list_networks(fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.networks import networks_table

    records = api.networks()
    emit([networks_table(records)], {"schema_version": 1, "networks": records}, fmt, output)
