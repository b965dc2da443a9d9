"""`archlab ceilings`: the machine's peak fp32 GFLOP/s and memory bandwidth (cached), the roofline's roof."""

from __future__ import annotations

from typing import Annotated

import typer

from archlab.cli.common import Format, FormatOpt, OutputOpt, user_errors

HELP = """The machine's ceilings for the roofline: peak fp32 GFLOP/s (best of a few large sgemm, torch.mm) and
memory bandwidth (best of a few copies of a buffer larger than the last-level cache, read + write bytes).

\b
Measured once per CPU model, thread count and torch version, and cached in $ARCHLAB_CACHE_DIR/ceilings.json
(default ~/.cache/archlab); --remeasure measures again (on a busy machine the figures are lower).
"""
EPILOG = "Example: archlab ceilings --threads 1 --remeasure"


@user_errors
def ceilings_cmd(
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="torch threads (default: torch's)")] = None,
    remeasure: Annotated[bool, typer.Option("--remeasure", help="measure again, replacing the cached entry")] = False,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    from archlab import api
    from archlab.render.ceilings import ceilings_table
    from archlab.render.output import emit

    c = api.ceilings(threads, remeasure=remeasure)
    fmt = format.value if hasattr(format, "value") else format
    emit([ceilings_table(c)], c.to_dict(), fmt, str(output) if output else None)
