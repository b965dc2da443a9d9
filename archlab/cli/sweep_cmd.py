"""`archlab sweep`: latency across widths, first-layer strides, inputs, heads, threads, batches and runtimes."""

from __future__ import annotations

import click

from archlab.cli.common import (
    Number,
    command,
    emit,
    format_option,
    max_memory_option,
    net_argument,
    output_option,
    output_path,
    quiet_option,
    source_options,
)
from archlab.cli.runtimes_cmd import CLOCKS, RUNTIMES, parse_runtimes
from archlab.errors import OptionError

HELP = (
    "Measure latency over a grid of configurations, interleaved so that machine drift hits all alike.\n\n"
    "Every configuration is warmed up, then timed in rounds: each round visits every configuration once in a "
    "fresh random order, and the baseline (width 1.0, stem 2 unless --baseline) in every round. A configuration "
    "stops when the 95% CI of its median is within ±2% (--target) or when the budget ends (its CI is "
    "reported). The budget is a hard bound: preparation and warm-up count, and the sweep ends within the budget "
    "plus one round.\n\n"
    "Threads: 1 by default: on a machine shared with other jobs more threads time their load too (threads wait "
    "for each other), and at 1 thread the per-thread CPU clock times the inference without preemption (several "
    "times narrower CIs under load); --threads 1,2 sweeps both (>= 2 threads: wall time).\n\n"
    "Stems: 2 and 1 are first-layer strides; 1+pool is stride 1 then a 3x3 stride-2 max-pool.\n\n"
    "A torch module sweeps too (FILE.py:CALLABLE, --arg KEY=VALUE for its arguments): it needs --inputs, and "
    "sweeps inputs, threads, batches and runtimes only (widths, stems and heads need a table: `archlab "
    "extract` makes one).\n\n"
    "With --out, rows are written as they finish (atomically); the same command again measures only what is "
    "missing (and the baseline, so ratios stay within one run); --fresh starts over."
)
EPILOG = (
    "Example: archlab sweep mobilefacenet --widths 0.5,1.0,2.0 --stems 2,1+pool --threads 1,2 "
    "--out sweep.csv --plot sweep.png"
)


def split_list(value: str | None, option: str, conv=str, kind: str = "a value") -> tuple | None:
    """``"0.5,1.0"`` -> (0.5, 1.0); a bad item raises OptionError naming the option."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise OptionError(f"{option}: give at least one value")
    out = []
    for item in items:
        try:
            out.append(conv(item))
        except ValueError:
            raise OptionError(f"{option}: {item!r} is not {kind}") from None
    return tuple(out)


def _grid(widths, stems, inputs, heads, threads, batch, runtimes) -> dict:
    """The comma-separated grid options -> the API's keyword arguments (options not given are left out)."""

    def stem(s: str) -> str:
        s = s.lower().replace(" ", "")
        if s not in ("2", "1", "1+pool"):
            raise ValueError
        return s

    try:
        stem_values = split_list(stems, "--stems", stem)
    except OptionError:
        raise OptionError(f"--stems: use 2, 1 or 1+pool (comma-separated), got {stems!r}") from None
    grid = {
        "widths": split_list(widths, "--widths", float, "a number"),
        "stems": stem_values,
        "inputs": split_list(inputs, "--inputs"),
        "heads": split_list(heads, "--heads"),
        "threads": split_list(threads, "--threads", int, "an integer"),
        "batches": split_list(batch, "--batch", int, "an integer"),
        "runtimes": runtimes,
    }
    return {k: v for k, v in grid.items() if v is not None}


@command("sweep", HELP, EPILOG)
@net_argument()
@click.option("--widths", help="width multipliers, comma-separated (default: 0.5,0.75,1.0,1.25,1.5,2.0)")
@click.option("--stems", help="first layer: 2, 1 (strides) or 1+pool (default: 2,1,1+pool)")
@click.option("--inputs", help="input sizes HxW, comma-separated (default: the table's)")
@click.option("--heads", help="heads: gdconv, gap, fc (default: the table's)")
@click.option("--threads", help="thread counts, comma-separated (default: 1, see above)")
@click.option("--batch", help="batch sizes (default: 1)")
@click.option(
    "--runtimes",
    metavar="A,B,...",
    callback=parse_runtimes,
    help=f"runtimes, comma-separated: {', '.join(RUNTIMES)} (default: eager)",
)
@click.option(
    "--clock",
    type=click.Choice(CLOCKS),
    default="auto",
    show_default=True,
    help="auto: per-thread CPU time at 1 thread (wall time beside it in the JSON), wall time otherwise; cpu; wall",
)
@click.option("--channels-last", is_flag=True, help="channels-last memory format (torch runtimes)")
@click.option(
    "--baseline",
    help="the baseline configuration, e.g. width=1.0,stem=2 (other keys: input, head, "
    "threads, batch, runtime; default: their first value)",
)
@click.option(
    "--budget",
    type=Number(),
    default=240.0,
    show_default=True,
    metavar="SECONDS",
    help="seconds for the whole sweep, a hard bound (preparation and warm-up included; ends within it + one round)",
)
@click.option(
    "--target",
    type=Number(),
    default=0.02,
    show_default=True,
    help="stop a configuration when its median's 95% CI is within +- this fraction",
)
@click.option(
    "--warmup",
    type=Number(positive=False),
    default=0.3,
    show_default=True,
    metavar="SECONDS",
    help="seconds of warm-up per configuration",
)
@click.option("--seed", type=int, default=None, help="seed of the round order and weights")
@click.option("--out", metavar="FILE.csv", help="the resumable CSV (runs' metadata beside it in FILE.json)")
@click.option(
    "--plot",
    metavar="FILE.png",
    help="write a figure: latency vs width per stem, latency vs MAdds with the Pareto front",
)
@click.option("--fresh", is_flag=True, help="ignore and overwrite the rows already in --out")
@source_options
@max_memory_option
@quiet_option
@format_option()
@output_option
def sweep(
    net: str,
    widths,
    stems,
    inputs,
    heads,
    threads,
    batch,
    runtimes,
    clock: str,
    channels_last: bool,
    baseline,
    budget: float,
    target: float,
    warmup: float,
    seed: int | None,
    out: str | None,
    plot: str | None,
    fresh: bool,
    strict: bool,
    max_memory: str | None,
    quiet: bool,
    fmt: str,
    output: str | None,
) -> None:
    import signal
    from pathlib import Path

    from archlab import api
    from archlab.render.sweep_progress import sweep_progress

    grid = _grid(widths, stems, inputs, heads, threads, batch, runtimes)
    if plot is not None and Path(plot).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise OptionError(f"--plot: give a .png, .svg or .pdf file, got {plot}")
    if strict:  # ops without a counting rule refused before any timing (the sweep itself counts what it can)
        api.plan(net, strict=True, **({"input": grid["inputs"][0]} if "inputs" in grid else {}))

    def on_term(signum, frame):  # `kill` (SIGTERM) stops like Ctrl-C: finished rows are kept
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        result = api.sweep(
            net,
            out=out,
            fresh=fresh,
            progress=sweep_progress(quiet),
            baseline=baseline,
            channels_last=channels_last,
            clock=clock,
            max_memory=max_memory,
            budget=budget,
            target=target,
            warmup=warmup,
            seed=seed,
            **grid,
        )
    except KeyboardInterrupt:
        where = f"; finished rows are in {out} (the same command resumes)" if out else ""
        click.echo(f"archlab: interrupted{where}", err=True)
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGTERM, old)
    if plot is not None:
        from archlab.render.sweep_plots import plot_sweep

        plot_sweep(result.typed_rows(), plot, title=f"{result.model} latency sweep")
        result.notes.append(f"figure: {plot}")
    _render(result, fmt, output)


def _render(result, fmt: str, output: str | None) -> None:
    from archlab.render.output import write_text
    from archlab.render.sweep import sweep_csv, sweep_table

    if fmt == "csv":  # every column, exactly as in the --out file
        write_text(sweep_csv(result), output_path(output))
        return
    emit([sweep_table(result)], result.to_dict(), fmt, output)
