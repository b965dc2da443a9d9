"""`archlab ceilings`: the machine's peak fp32 GFLOP/s and memory bandwidth (cached), the roofline's roof."""

from __future__ import annotations

import click

from archlab.cli.common import Count, command, emit, format_option, output_option

HELP = """The machine's ceilings for the roofline: peak fp32 GFLOP/s (best of a few sgemm, torch.mm) and memory
bandwidth (best of a few copies of a buffer larger than the last-level cache, read + write bytes).

Measured once per CPU model, thread count and torch version, and cached in $ARCHLAB_CACHE_DIR/ceilings.json
(default ~/.cache/archlab); --remeasure measures again (on a busy machine the figures are lower)."""
EPILOG = "Example: archlab ceilings --threads 1 --remeasure"


@command("ceilings", HELP, EPILOG)
@click.option("--threads", type=Count(), help="torch threads (default: torch's)")
@click.option("--remeasure", is_flag=True, help="measure again, replacing the cached entry")
@format_option()
@output_option
def ceilings(threads: int | None, remeasure: bool, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.ceilings import ceilings_table

    c = api.ceilings(threads, remeasure=remeasure)
    emit([ceilings_table(c)], c.to_dict(), fmt, output)
