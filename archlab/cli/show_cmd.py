"""`archlab show`: the resolved layer table, each row with its fields and in/out shapes."""

from __future__ import annotations

from archlab.cli.common import Format, FormatOpt, NetArg, OutputOpt, user_errors, with_overrides

HELP = "Show the resolved layer table (after extends, edits and overrides): each row with its fields and shapes."
EPILOG = "Example: archlab show mobilefacenet-s --stem-pool"


@user_errors
@with_overrides
def show(
    net: NetArg,
    overrides: dict | None = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    from archlab import api
    from archlab.render.networks import show_table
    from archlab.render.output import emit

    spec = api.load_table(net)
    t, data = show_table(spec, api.plan(spec, **(overrides or {})))
    fmt = format.value if hasattr(format, "value") else format
    emit([t], data, fmt, str(output) if output else None)
