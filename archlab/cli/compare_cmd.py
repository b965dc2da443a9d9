"""`archlab compare`: networks and option variants side by side (table, Markdown, HTML or JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archlab.cli.common import Format, FormatOpt, complete_network, user_errors

HELP = """Networks and option variants side by side: input, params, params_deployed, MAdds, other ops, peak
activation memory, FMap-end and its receptive field, head, and (with --latency) the measured latency.

\b
An entry is NAME or NAME:key=value[,key=value], with the override keys
input, width, stem-stride, stem-pool, head, embedding, classes; e.g.
  archlab compare mobilefacenet mobilenetv2:width=0.5,input=112x112
  archlab compare mobilefacenet --variant mobilefacenet:head=gap
--out FILE.md   Markdown (renders on GitHub) + figures in FILE_files/
--out FILE.html one self-contained page (inline CSS and images)
--out FILE.json the records (names as in `archlab profile -f json`)
--latency times every entry (eager PyTorch, interleaved rounds, the first
          entry in every round: ratios are paired within rounds).
"""
EPILOG = "Example: archlab compare mobilefacenet mobilefacenet-m --variant 'mobilefacenet:head=gap' --out cmp.html"

NetsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="networks: NAME, a .yaml path, or NAME:key=value[,key=value]",
        metavar="NAME...",
        autocompletion=complete_network,
        show_default=False,
    ),
]
VariantOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--variant",
        help="NAME:key=value[,key=value], e.g. 'mobilefacenet:head=gap' (repeatable)",
        metavar="NAME:K=V",
        show_default=False,
    ),
]
LatencyOpt = Annotated[bool, typer.Option("--latency", help="measure every entry's latency (imports torch)")]
ThreadsOpt = Annotated[int, typer.Option("--threads", min=1, help="torch threads for --latency")]
BudgetOpt = Annotated[
    float,
    typer.Option(
        "--budget", min=0.1, metavar="SECONDS", help="seconds of latency rounds at most (stops earlier at +-2%)"
    ),
]
OutOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--out",
        metavar="FILE",
        help="write FILE.md (+ FILE_files/), FILE.html or FILE.json (repeatable)",
        show_default=False,
    ),
]


def command_line(name: str, parts: list[str]) -> str:
    """The command as a reader would retype it (quoted where needed); the report names it."""
    import shlex

    return " ".join(["archlab", name, *(shlex.quote(p) for p in parts)])


@user_errors
def compare(
    nets: NetsArg = None,
    variant: VariantOpt = None,
    latency: LatencyOpt = False,
    threads: ThreadsOpt = 1,
    budget: BudgetOpt = 20.0,
    out: OutOpt = None,
    format: FormatOpt = Format.table,
) -> None:
    from archlab import api
    from archlab.errors import OptionError
    from archlab.render.compare_page import compare_document, compare_table
    from archlab.render.document import check_out, write_document
    from archlab.render.output import emit

    entries = api.entries(nets or [], variant or [])
    if not latency and (threads != 1 or budget != 20.0):
        raise OptionError("--threads and --budget only apply with --latency")
    fmt = format.value if hasattr(format, "value") else format
    if out and fmt != "table":
        raise OptionError("--format is for stdout; with --out the file's suffix (.md, .html, .json) decides")
    for path in out or []:
        check_out(path)  # before any work
    progress = (lambda msg: typer.echo(f"compare: {msg}", err=True)) if latency else None
    comp = api.compare(*entries, latency=latency, threads=threads, budget=budget, progress=progress)
    parts = [*(nets or []), *(f"--variant={v}" for v in variant or [])]
    if latency:
        parts += ["--latency", f"--threads={threads}", f"--budget={budget:g}"]
    if out:
        doc = compare_document(comp, command=command_line("compare", parts), generated=comp.generated)
        for path in out:
            for written in write_document(doc, path):
                typer.echo(f"wrote {written}")
        return
    emit([compare_table(comp)], comp.to_dict(), fmt, None)
