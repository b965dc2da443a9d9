"""`archlab sweep`: latency across widths, first-layer strides, inputs, heads, threads, batches and runtimes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archlab.cli.common import Format, FormatOpt, NetArg, OutputOpt, user_errors
from archlab.errors import OptionError

HELP = (
    "Measure latency over a grid of configurations, interleaved so that machine drift hits all alike.\n\n"
    "Every configuration is warmed up, then timed in rounds: each round visits every configuration once in a "
    "fresh random order, and the baseline (width 1.0, stem 2 unless --baseline) in every round. A configuration "
    "stops when the 95% CI of its median is within ±2% (--target) or when the budget ends (its CI is "
    "reported).\n\n"
    "Stems: 2 and 1 are first-layer strides; 1+pool is stride 1 then a 3x3 stride-2 max-pool.\n\n"
    "With --out, rows are written as they finish (atomically); the same command again measures only what is "
    "missing (and the baseline, so ratios stay within one run); --fresh starts over."
)
EPILOG = (
    "Example: archlab sweep mobilefacenet --widths 0.5,1.0,2.0 --stems 2,1+pool --threads 1,2 "
    "--out sweep.csv --plot sweep.png"
)

P = "Grid"
M = "Method"


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


@user_errors
def sweep(
    net: NetArg,
    widths: Annotated[
        str | None,
        typer.Option(
            "--widths",
            help="width multipliers, comma-separated (default: 0.5,0.75,1.0,1.25,1.5,2.0)",
            rich_help_panel=P,
        ),
    ] = None,
    stems: Annotated[
        str | None,
        typer.Option("--stems", help="first layer: 2, 1 (strides) or 1+pool (default: 2,1,1+pool)", rich_help_panel=P),
    ] = None,
    inputs: Annotated[
        str | None,
        typer.Option("--inputs", help="input sizes HxW, comma-separated (default: the table's)", rich_help_panel=P),
    ] = None,
    heads: Annotated[
        str | None, typer.Option("--heads", help="heads: gdconv, gap, fc (default: the table's)", rich_help_panel=P)
    ] = None,
    threads: Annotated[
        str | None, typer.Option("--threads", help="thread counts (default: the usable CPUs)", rich_help_panel=P)
    ] = None,
    batch: Annotated[str | None, typer.Option("--batch", help="batch sizes (default: 1)", rich_help_panel=P)] = None,
    runtimes: Annotated[
        str | None,
        typer.Option("--runtimes", help="eager, onnxruntime, torchscript, compile (default: eager)", rich_help_panel=P),
    ] = None,
    channels_last: Annotated[
        bool, typer.Option("--channels-last", help="channels-last memory format (torch runtimes)", rich_help_panel=P)
    ] = False,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="the baseline configuration, e.g. "
            "width=1.0,stem=2 (other keys: input, head, threads, batch, "
            "runtime; default: their first value)",
            rich_help_panel=M,
        ),
    ] = None,
    budget: Annotated[
        float, typer.Option("--budget", help="seconds for the whole sweep (preparation included)", rich_help_panel=M)
    ] = 240.0,
    target: Annotated[
        float,
        typer.Option(
            "--target",
            help="stop a configuration when its median's 95% CI is within ± this fraction",
            rich_help_panel=M,
        ),
    ] = 0.02,
    warmup: Annotated[
        float, typer.Option("--warmup", help="seconds of warm-up per configuration", rich_help_panel=M)
    ] = 0.3,
    seed: Annotated[
        int | None, typer.Option("--seed", help="seed of the round order and weights", rich_help_panel=M)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="the resumable CSV (runs' metadata beside it in FILE.json)", metavar="FILE.csv"),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="write a figure: latency vs width per stem, latency vs MAdds with the Pareto front",
            metavar="FILE.png",
        ),
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="ignore and overwrite the rows already in --out")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")] = False,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    import signal

    from archlab import api
    from archlab.render.sweep_progress import sweep_progress

    def stem(s: str) -> str:
        s = s.lower().replace(" ", "")
        if s not in ("2", "1", "1+pool"):
            raise ValueError
        return s

    def pos_float(s: str) -> float:
        v = float(s)
        if not v > 0:
            raise OptionError(f"--widths: every width must be > 0, got {s}")
        return v

    try:
        stem_values = split_list(stems, "--stems", stem)
    except OptionError:
        raise OptionError(f"--stems: use 2, 1 or 1+pool (comma-separated), got {stems!r}") from None
    grid = {
        k: v
        for k, v in {
            "widths": split_list(widths, "--widths", pos_float, "a number"),
            "stems": stem_values,
            "inputs": split_list(inputs, "--inputs"),
            "heads": split_list(heads, "--heads"),
            "threads": split_list(threads, "--threads", int, "an integer"),
            "batches": split_list(batch, "--batch", int, "an integer"),
            "runtimes": split_list(runtimes, "--runtimes"),
        }.items()
        if v is not None
    }
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise OptionError(f"--plot: give a .png, .svg or .pdf file, got {plot}")
    fmt = format.value if hasattr(format, "value") else format
    progress = sweep_progress(quiet)

    def on_term(signum, frame):  # `kill` (SIGTERM) stops like Ctrl-C: finished rows are kept
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        result = api.sweep(
            net,
            out=out,
            fresh=fresh,
            progress=progress,
            baseline=baseline,
            channels_last=channels_last,
            budget=budget,
            target=target,
            warmup=warmup,
            seed=seed,
            **grid,
        )
    except KeyboardInterrupt:
        where = f"; finished rows are in {out} (the same command resumes)" if out else ""
        typer.echo(f"archlab: interrupted{where}", err=True)
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, old)
    if plot is not None:
        from archlab.render.sweep_plots import plot_sweep

        plot_sweep(result.typed_rows(), plot, title=f"{result.model} latency sweep")
        result.notes.append(f"figure: {plot}")
    from archlab.render.output import emit
    from archlab.render.sweep import sweep_table

    if fmt == "csv":  # every column, exactly as in the --out file
        from archlab.render.sweep import sweep_csv

        text = sweep_csv(result)
        if output is None:
            typer.echo(text, nl=False)
        else:
            from archlab.render.output import write_atomic

            write_atomic(output, text)
        return
    emit([sweep_table(result)], result.to_dict(), fmt, str(output) if output else None)
