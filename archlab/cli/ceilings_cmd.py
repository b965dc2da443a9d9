"""`archlab ceilings`: the machine's peak fp32 GFLOP/s and bandwidth per memory level (cached), the roofs."""

from __future__ import annotations

import click

from archlab.cli.common import Count, command, emit, format_option, output_option, progress_display, quiet_option

HELP = """The machine's ceilings for the roofline and the per-layer bounds: peak fp32 GFLOP/s and, per memory level
(L1, L2, last-level cache, DRAM), the copy bandwidth and the in-place update bandwidth.

\b
peak: the best of many short fp32 torch.mm samples (square n = 128, 256,
512 and the shapes of small networks' 1x1 convolutions);
bandwidth: the best of many short dst.copy_(src) samples whose working set
fits the level (DRAM: larger than the last-level cache), read + write bytes,
and the best in-place update of a buffer that size. Many short samples,
because a long one is time-sliced on a busy machine; the load average at
measurement is recorded beside the figures.

Measured once per CPU model, thread count and torch version and cached in $ARCHLAB_CACHE_DIR/ceilings.json
(default ~/.cache/archlab) for a day; the output says how old the figures are and under what load they were
measured; --remeasure measures again now (about 15 s)."""
EPILOG = "Example: archlab ceilings --remeasure"


@command("ceilings", HELP, EPILOG)
@click.option(
    "--threads",
    type=Count(),
    default=1,
    show_default=True,
    help="torch threads (1: the thread count the latency views use by default)",
)
@click.option("--remeasure", is_flag=True, help="measure again, replacing the cached entry")
@quiet_option
@format_option()
@output_option
def ceilings(threads: int, remeasure: bool, quiet: bool, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.ceilings import ceilings_data, ceilings_table, levels_table

    with progress_display("ceilings", quiet or not remeasure) as progress:
        if progress is not None:  # the measurement has no steps of its own: one stage, while it runs
            progress(0, 1, f"measure: peak and bandwidth per level at {threads} thread(s)")
        c = api.ceilings(threads, remeasure=remeasure)
        if progress is not None:
            progress(1, 1, "measure: done")
    levels = levels_table(c)
    tables = [levels] if fmt == "csv" else [ceilings_table(c), levels]
    emit(tables, ceilings_data(c), fmt, output)
