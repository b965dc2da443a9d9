"""`archlab profile --latency`: its options and its run (kept out of ``profile_cmd``).

torch is imported only when ``--latency`` (or ``--roofline``) is given.
"""

from __future__ import annotations

import functools

import click

from archlab.cli.common import Count, Number
from archlab.errors import OptionError

DEFAULT_BUDGET = 10.0
HELP = """
\b
--latency: the plain forward and an instrumented pass (a clock around every
leaf-module call) are timed in interleaved rounds; per layer and per row:
median time, share of the end-to-end median, achieved GFLOP/s and GB/s,
arithmetic intensity and fraction of the roofline. FLOPs = 2 x MAdds
(conv/linear), other ops as other_ops; bytes = 4 x (inputs + weights +
output). The measurement overhead and the framework time (end-to-end minus
the layers' sum) are printed. Ceilings (sgemm peak, copy bandwidth) are
measured once per machine and thread count and cached (ARCHLAB_CACHE_DIR,
default ~/.cache/archlab; --remeasure to refresh).
"""


def options(fn):
    """The latency options, handed to the command as one ``latency`` dict (empty without --latency/--roofline)."""
    decorators = [
        click.option(
            "--latency",
            "want",
            is_flag=True,
            help="measure time per layer and per row, against the machine's ceilings (imports torch)",
        ),
        click.option("--threads", type=Count(), help="torch threads for --latency (default: torch's default)"),
        click.option(
            "--runtime",
            default="eager",
            show_default=True,
            help="eager: the built network; folded: BN folded into the conv/linear before it",
        ),
        click.option("--channels-last", is_flag=True, help="run the network and its input in channels-last format"),
        click.option(
            "--budget",
            type=Number(),
            default=DEFAULT_BUDGET,
            show_default=True,
            metavar="SECONDS",
            help="seconds of timing rounds at most (stops earlier when the medians' 95% CIs are within 2%)",
        ),
        click.option("--remeasure", is_flag=True, help="measure the machine's ceilings again"),
        click.option(
            "--roofline", metavar="FILE", help="write the roofline figure (.png, .svg or .pdf); implies --latency"
        ),
    ]

    @functools.wraps(fn)
    def wrapper(*args, want, threads, runtime, channels_last, budget, remeasure, roofline, **kwargs):
        given = {
            "threads": threads,
            "runtime": runtime,
            "channels_last": channels_last,
            "budget": budget,
            "remeasure": remeasure,
            "roofline": roofline,
        }
        if not (want or roofline is not None):
            unused = [
                f"--{k.replace('_', '-')}"
                for k, v in given.items()
                if v not in (None, False)
                and not (k == "runtime" and v == "eager")
                and not (k == "budget" and v == DEFAULT_BUDGET)
            ]
            if unused:
                raise OptionError(f"{', '.join(unused)} only apply with --latency")
            given = {}
        return fn(*args, latency=given, **kwargs)

    for decorate in reversed(decorators):
        wrapper = decorate(wrapper)
    return wrapper


def run(
    prof,
    depth: str,
    fmt: str,
    output: str | None,
    *,
    batch: int = 1,
    threads: int | None = None,
    runtime: str = "eager",
    channels_last: bool = False,
    budget: float = DEFAULT_BUDGET,
    remeasure: bool = False,
    roofline: str | None = None,
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
        runtime=runtime,
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
