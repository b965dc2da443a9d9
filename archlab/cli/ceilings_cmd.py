"""`archlab ceilings`: the machine's peak fp32 GFLOP/s and memory bandwidth (cached), the roofline's roof."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archlab.cli.common import FormatOpt, OutputOpt, user_errors

HELP = """The machine's ceilings for the roofline: peak fp32 GFLOP/s (best of a few large sgemm, torch.mm) and
memory bandwidth (best of a few copies of a buffer larger than the last-level cache, read + write bytes).

\b
Measured once per CPU model, thread count and torch version, and cached in $ARCHLAB_CACHE_DIR/ceilings.json
(default ~/.cache/archlab); --remeasure measures again (on a busy machine the figures are lower).
"""
EPILOG = "Example: archlab ceilings --threads 1 --remeasure"


@user_errors
def ceilings_cmd(
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="torch threads (default: torch's)")] = None,
    remeasure: Annotated[bool, typer.Option("--remeasure", help="measure again, replacing the cached entry")] = False,
    format: FormatOpt = "table",
    output: OutputOpt = None,
) -> None:
    import torch

    from archlab.analysis.roofline import CACHE_FILE, cache_dir, ceilings
    from archlab.render.output import emit
    from archlab.render.tables import Table

    threads = threads or torch.get_num_threads()
    c = ceilings(threads, remeasure=remeasure)
    d = c.to_dict()
    t = Table("machine ceilings", ["quantity", "value", "method"], numeric={"value"})
    t.rows += [["peak fp32 GFLOP/s", round(c.peak_gflops, 2), d["method"]["peak"]],
               ["memory bandwidth GB/s", round(c.bandwidth_gbs, 3), d["method"]["bandwidth"]],
               ["ridge FLOP/byte", round(c.ridge, 2), "peak / bandwidth: below it a layer is memory-bound"]]
    t.notes = [f"{c.cpu_model}, {c.threads} thread{'s' if c.threads != 1 else ''}, torch {c.torch}; "
               f"{'cached' if c.cached else 'measured now'} ({c.measured_at}, took {c.seconds:.1f} s); "
               f"cache {cache_dir() / CACHE_FILE}"]
    fmt = format.value if hasattr(format, "value") else format
    emit([t], d, fmt, str(output) if output else None)
