"""`archlab runtimes`: every runtime of a network end to end, side by side, with ratios to eager and CIs.

``timing_options`` (the runtimes, threads, batch, budget, clock and memory options) is shared with
``archlab deploy``, which times the same table to choose what it writes.
"""

from __future__ import annotations

import functools

import click

from archlab.cli.common import (
    Count,
    Number,
    command,
    emit,
    format_option,
    max_memory_option,
    net_argument,
    output_option,
    override_options,
    progress_display,
    quiet_option,
    source_options,
)

RUNTIMES = ("eager", "folded", "channels-last", "torchscript", "onnxruntime", "compile")  # archlab.nn.runtimes
CLOCKS = ("auto", "cpu", "wall")
DEFAULT_BUDGET = 60.0
METHOD = """
\b
Runtimes: eager (the built module), folded (BN folded into the conv/linear
before it), channels-last (folded, NHWC), torchscript (traced and frozen),
onnxruntime (the BN-folded module exported with optimisation, ORT_ENABLE_ALL)
and compile (torch.compile, Inductor; needs a C++ compiler, tens of seconds
to compile). Each is checked against eager (max |diff| <= 1e-3 x max |out|),
warmed up, then all are timed in the same interleaved rounds (a fresh random
order each round; a visit = 1 untimed call + the timed calls); the ratio is
the median over rounds of runtime / eager in the same round. The budget
bounds the rounds (preparation comes before them). Threads: 1 by default
(on a shared machine more threads time the others' load too, and at 1
thread the per-thread CPU clock times the inference without preemption).
"""


def parse_runtimes(ctx, param, value: str | None) -> tuple[str, ...] | None:
    """``--runtimes eager,onnxruntime`` -> ('eager', 'onnxruntime'); an unknown name is a usage error."""
    if value is None:
        return None
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not names:
        raise click.BadParameter(f"give runtimes separated by commas, from {', '.join(RUNTIMES)}", ctx, param)
    unknown = [n for n in names if n not in RUNTIMES]
    if unknown:
        raise click.BadParameter(f"unknown runtime {unknown[0]!r}; known: {', '.join(RUNTIMES)}", ctx, param)
    return names


def timing_options(fn):
    """--runtimes, --threads, --batch, --budget, --clock, --max-memory, --quiet; the command gets a ``timing``
    dict of api keywords (``quiet`` apart)."""
    decorators = [
        click.option(
            "--runtimes",
            metavar="A,B,...",
            callback=parse_runtimes,
            help=f"runtimes to time, comma-separated, from {', '.join(RUNTIMES)} (default: every one that runs "
            "here; eager is always timed, as the baseline)",
        ),
        click.option(
            "--threads",
            type=Count(),
            default=1,
            show_default=True,
            help="torch (and ORT) threads: 1 by default on a shared machine (see above)",
        ),
        click.option("--batch", type=Count(), default=1, show_default=True, help="batch size of the input"),
        click.option(
            "--budget",
            type=Number(),
            default=DEFAULT_BUDGET,
            show_default=True,
            metavar="SECONDS",
            help="seconds of timing rounds, a hard bound (the round under way is the last; preparation before)",
        ),
        click.option(
            "--clock",
            type=click.Choice(CLOCKS),
            default="auto",
            show_default=True,
            help="auto: per-thread CPU time at 1 thread (wall time beside it), wall time otherwise; cpu; wall",
        ),
        max_memory_option,
        quiet_option,
    ]

    @functools.wraps(fn)
    def wrapper(*args, runtimes, threads, batch, budget, clock, max_memory, **kwargs):
        timing = {
            "runtimes": runtimes,
            "threads": threads,
            "batch": batch,
            "budget": budget,
            "clock": clock,
            "max_memory": max_memory,
        }
        return fn(*args, timing=timing, **kwargs)

    for decorate in reversed(decorators):
        wrapper = decorate(wrapper)
    return wrapper


HELP = (
    """Every runtime of a network end to end, side by side: median latency with its 95% CI, wall time, the ratio
to eager measured within rounds (with its CI), the output check against eager; the fastest is named.
"""
    + METHOD
)
EPILOG = "Example: archlab runtimes mobilefacenet --runtimes eager,torchscript,onnxruntime --budget 30"


@command("runtimes", HELP, EPILOG)
@net_argument()
@override_options
@timing_options
@source_options
@format_option()
@output_option
def runtimes(net, overrides: dict, timing: dict, quiet: bool, strict: bool, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.runtimes import runtimes_csv, runtimes_view

    with progress_display("runtimes", quiet) as progress:
        table = api.runtime_table(net, progress=progress, strict=strict, **timing, **overrides)
    view = runtimes_csv(table) if fmt == "csv" else runtimes_view(table)
    emit([view], table.to_dict(), fmt, output)
