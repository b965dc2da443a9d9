"""`archlab profile --latency`: the options of issue 6 and their run (kept out of ``profile_cmd``).

torch is imported only when ``--latency`` (or ``--roofline``) is given.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from archlab.errors import OptionError

PANEL = "Latency"


class LayerRuntime(str, Enum):
    eager = "eager"
    folded = "folded"


LatencyOpt = Annotated[
    bool,
    typer.Option(
        "--latency",
        help="measure time per layer and per row, against the machine's ceilings (imports torch)",
        rich_help_panel=PANEL,
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1, help="torch threads for --latency (default: torch's default)", rich_help_panel=PANEL
    ),
]
RuntimeOpt = Annotated[
    LayerRuntime,
    typer.Option(
        "--runtime",
        help="eager: the built network; folded: BN folded into the conv/linear before it",
        rich_help_panel=PANEL,
    ),
]
ChannelsLastOpt = Annotated[
    bool,
    typer.Option(
        "--channels-last", help="run the network and its input in channels-last memory format", rich_help_panel=PANEL
    ),
]
BudgetOpt = Annotated[
    float,
    typer.Option(
        "--budget",
        min=0.1,
        help="seconds of timing rounds at most (stops earlier when the medians' 95% CIs are within +-2%)",
        metavar="SECONDS",
        rich_help_panel=PANEL,
    ),
]
RemeasureOpt = Annotated[
    bool,
    typer.Option(
        "--remeasure",
        help="measure the machine's ceilings again instead of using the cached ones",
        rich_help_panel=PANEL,
    ),
]
RooflineOpt = Annotated[
    Path | None,
    typer.Option(
        "--roofline",
        help="write the roofline figure (.png, .svg or .pdf); implies --latency",
        metavar="FILE",
        rich_help_panel=PANEL,
    ),
]

LATENCY_HELP = """
\b
--latency: the plain forward and an instrumented pass (a clock around every leaf-module call) are timed in
interleaved rounds; per layer and per row: median time, share of the end-to-end median, achieved GFLOP/s and
GB/s, arithmetic intensity and fraction of the roofline. FLOPs = 2 x MAdds (conv/linear), other ops as
other_ops; bytes = 4 x (inputs + weights + output). The measurement overhead and the framework time (end-to-end
minus the layers' sum) are printed. Ceilings (sgemm peak, copy bandwidth) are measured once per machine and
thread count and cached (ARCHLAB_CACHE_DIR, default ~/.cache/archlab; --remeasure to refresh).
"""


def wanted(latency: bool, roofline) -> bool:
    return bool(latency or roofline is not None)


def reject_unused(threads, runtime, channels_last, budget, remeasure, default_budget: float) -> None:
    """Options that only mean something with --latency must not be ignored silently."""
    given = [
        name
        for name, on in (
            ("--threads", threads is not None),
            ("--runtime", _value(runtime) != "eager"),
            ("--channels-last", channels_last),
            ("--budget", budget != default_budget),
            ("--remeasure", remeasure),
        )
        if on
    ]
    if given:
        raise OptionError(f"{', '.join(given)} only apply with --latency")


def _value(v):
    return v.value if hasattr(v, "value") else v


def run(
    prof,
    depth: str,
    fmt: str,
    output: str | None,
    *,
    batch: int = 1,
    threads: int | None = None,
    runtime="eager",
    channels_last: bool = False,
    budget: float = 10.0,
    remeasure: bool = False,
    roofline: Path | None = None,
    check: bool = False,
) -> None:
    """Measure, then render the latency table (text forms) or the profile JSON with the latency merged in."""
    from archlab import api
    from archlab.render.latency_table import latency_notes, latency_table, profile_latency_data
    from archlab.render.output import emit
    from archlab.render.profile import profile_header

    if check:
        raise OptionError("--latency and --check: run them separately (the check builds other networks)")
    if roofline is not None:
        from archlab.render.roofline_plot import check_path

        check_path(roofline)  # before minutes of measuring
    report = api.latency(
        prof.plan,
        runtime=_value(runtime),
        threads=threads,
        batch=batch,
        channels_last=channels_last,
        budget=budget,
        remeasure=remeasure,
    )
    table = latency_table(report, depth, prof.plan)
    table.notes += latency_notes(report)
    data = profile_latency_data(prof.to_dict(), report)
    if roofline is not None:
        from archlab.render.roofline_plot import roofline_figure

        drawn = roofline_figure(report, roofline)
        table.notes.append(
            f"roofline figure: {roofline} ({drawn['points']} layers drawn, {drawn['skipped']} without FLOPs or not run)"
        )
        data["latency"]["roofline_figure"] = str(roofline)
    emit([table], data, fmt, output, header=profile_header(prof))
