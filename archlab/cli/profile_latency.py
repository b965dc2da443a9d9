"""`archlab profile --latency`: its options and its run (kept out of ``profile_cmd``).

torch is imported only when ``--latency`` (or ``--roofline``) is given.

``options`` also declares ``--max-memory`` and ``--quiet``: they go to the latency run, and to the profile
command itself when its function takes ``max_memory`` / ``quiet`` parameters (``--check`` can use them without
declaring them a second time); otherwise they need --latency like the other options here.
"""

from __future__ import annotations

import functools
import inspect

import click

from archlab.cli.common import Count, Number, max_memory_option, progress_display, quiet_option
from archlab.errors import OptionError

DEFAULT_BUDGET = 10.0
RUNTIMES = ("eager", "folded", "channels-last", "torchscript", "onnxruntime", "compile")  # archlab.nn.runtimes
CLOCKS = ("auto", "cpu", "wall")
HELP = """
\b
--latency: the plain run and a per-layer pass are timed in interleaved
rounds; per layer and per row: median time, share of the end-to-end
median, achieved GFLOP/s and GB/s, arithmetic intensity, % of the layer's
bound (roof %) and the memory level the bound comes from; % of bound per
op class (depthwise, pointwise, other). The bound is max(FLOPs / peak,
bytes moved from the levels the layer's footprint fits: L1, L2, last-level
cache, DRAM). FLOPs = 2 x MAdds (conv/linear), other ops as other_ops;
bytes = 4 x (inputs + weights + output).
--runtime: eager, folded (BN folded into the conv/linear before it) and
channels-last (folded, NHWC) have per-layer times from an instrumented
pass (a clock around every layer); torchscript and onnxruntime from their
profilers, mapped to the plan's layers (a node fused over conv + BN + act
is shown under its first layer, the others 'into' it); compile end to end
only. Time in no layer (layout reorders) and the framework's time between
layers are shown apart.
Threads: 1 by default (on a shared machine more threads time the others'
load too, and at 1 thread the per-thread CPU clock times the inference
without preemption). Ceilings (sgemm peak, bandwidth per memory level) are
measured once per machine and thread count and cached for a day
(ARCHLAB_CACHE_DIR, default ~/.cache/archlab; --remeasure to refresh).
"""


def options(fn):
    """The latency options, handed to the command as one ``latency`` dict (empty without --latency/--roofline)."""
    decorators = [
        click.option(
            "--latency",
            "want",
            is_flag=True,
            help="measure time per layer and per row, against each layer's bound (imports torch)",
        ),
        click.option(
            "--threads",
            type=Count(),
            help="torch threads for --latency (default 1: on a shared machine more threads time the others' load, "
            "and 1 thread can use the per-thread CPU clock)",
        ),
        click.option(
            "--runtime",
            type=click.Choice(RUNTIMES),
            default="eager",
            show_default=True,
            help="per-layer times: eager, folded, channels-last (instrumented pass), torchscript, onnxruntime "
            "(their profilers); compile: end to end only",
        ),
        click.option("--channels-last", is_flag=True, help="run the network and its input in channels-last format"),
        click.option(
            "--clock",
            type=click.Choice(CLOCKS),
            default="auto",
            show_default=True,
            help="auto: per-thread CPU time at 1 thread (wall time beside it), wall time otherwise; cpu; wall",
        ),
        click.option(
            "--budget",
            type=Number(),
            default=DEFAULT_BUDGET,
            show_default=True,
            metavar="SECONDS",
            help="seconds of timing rounds, a hard bound (the round under way is the last); stops earlier when "
            "the medians' 95% CIs are within 2%",
        ),
        click.option("--remeasure", is_flag=True, help="measure the machine's ceilings again"),
        click.option(
            "--roofline", metavar="FILE", help="write the roofline figure (.png, .svg or .pdf); implies --latency"
        ),
        max_memory_option,
        quiet_option,
    ]
    takes = set(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def wrapper(*args, want, threads, runtime, channels_last, clock, budget, remeasure, roofline, **kwargs):
        shared = {k: kwargs.pop(k) for k in ("max_memory", "quiet")}
        kwargs.update({k: v for k, v in shared.items() if k in takes})
        given = {
            "threads": threads,
            "runtime": runtime,
            "channels_last": channels_last,
            "clock": clock,
            "budget": budget,
            "remeasure": remeasure,
            "roofline": roofline,
        }
        if not (want or roofline is not None):
            defaults = {"runtime": "eager", "clock": "auto", "budget": DEFAULT_BUDGET}
            unused = [
                f"--{k.replace('_', '-')}"
                for k, v in {**given, **{k: v for k, v in shared.items() if k not in takes}}.items()
                if v not in (None, False) and defaults.get(k) != v
            ]
            if unused:
                raise OptionError(f"{', '.join(unused)} only apply with --latency")
            return fn(*args, latency={}, **kwargs)
        return fn(*args, latency={**given, **shared}, **kwargs)

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
    clock: str = "auto",
    budget: float = DEFAULT_BUDGET,
    remeasure: bool = False,
    roofline: str | None = None,
    max_memory: str | None = None,
    quiet: bool = False,
    check: bool = False,
    columns: list[str] | None = None,
) -> None:
    """Measure, then render the latency table and the % of bound by op class (text forms; csv: the first) or
    the profile JSON with the latency merged in."""
    from archlab import api
    from archlab.render.latency_table import class_table, latency_notes, latency_table, profile_latency_data
    from archlab.render.output import emit
    from archlab.render.profile import profile_header

    if check:
        raise OptionError("--latency and --check: run them separately (the check builds other networks)")
    if clock == "cpu" and (threads or 1) != 1:  # before the ceilings at that thread count are looked up
        raise OptionError(f"--clock cpu needs 1 thread (at {threads} the per-thread CPU clock is not a latency)")
    if roofline is not None:
        from archlab.render.roofline_plot import check_path

        check_path(roofline)  # before minutes of measuring
    with progress_display("profile --latency", quiet) as progress:
        report = api.latency(
            prof.plan,
            runtime=runtime,
            threads=threads,
            batch=batch,
            channels_last=channels_last,
            budget=budget,
            remeasure=remeasure,
            clock=clock,
            max_memory=max_memory,
            progress=progress,
        )
    table = latency_table(report, depth, prof.plan)
    table.notes += latency_notes(report)
    data = profile_latency_data(prof.to_dict(), report, prof.plan)
    if roofline is not None:
        from archlab.render.roofline_plot import roofline_figure

        drawn = roofline_figure(report, roofline)
        table.notes.append(
            f"roofline figure: {roofline} ({drawn['points']} layers drawn, {drawn['skipped']} without FLOPs or not run)"
        )
        data["latency"]["roofline_figure"] = str(roofline)
    by_class = class_table(report)
    tables = [table] + ([by_class] if by_class is not None else [])
    emit(tables, data, fmt, output, header=profile_header(prof), columns=columns)
