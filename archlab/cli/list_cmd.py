"""`archlab list`: the shipped networks with their sizes and published figures."""

from __future__ import annotations

from archlab.cli.common import Format, FormatOpt, OutputOpt, user_errors

HELP = "List the shipped networks: input size, params, MAdds, the published figures and a description."
EPILOG = "Example: archlab list --format md"


@user_errors
def list_networks(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    from archlab import api
    from archlab.render.networks import networks_table
    from archlab.render.output import emit

    records = api.networks()
    t = networks_table(records)
    fmt = format.value if hasattr(format, "value") else format
    emit([t], {"schema_version": 1, "networks": records}, fmt, str(output) if output else None)
