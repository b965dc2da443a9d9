"""`archlab compare`: networks and option variants side by side (table, Markdown, HTML or JSON)."""

from __future__ import annotations

import click

from archlab.cli.common import (
    Count,
    Number,
    columns_option,
    command,
    complete_network,
    echo,
    emit,
    format_option,
    progress_display,
    quiet_option,
    source_options,
)

HELP = """Networks and option variants side by side: input, params, params_deployed, MAdds, other ops, peak
activation memory, FMap-end and its receptive field, head, and (with --latency) the measured latency.

\b
An entry is NAME or NAME:key=value[,key=value], with the override keys
input, width, stem-stride, stem-pool, head, embedding, classes; e.g.
  archlab compare mobilefacenet mobilenetv2:width=0.5,input=112x112
  archlab compare mobilefacenet --variant mobilefacenet:head=gap
-o FILE.md     Markdown (renders on GitHub) + figures in FILE_files/
-o FILE.html   one self-contained page (inline CSS and images)
-o FILE.json   the records (names as in `archlab profile -f json`)
--latency times every entry (eager PyTorch, interleaved rounds, the first
          entry in every round: ratios are paired within rounds).
An entry may be a torch module, FILE.py:CALLABLE, traced at --input (which
tables ignore: give theirs as NAME:input=HxW); --arg KEY=VALUE calls its
callable with arguments, for one such entry only (to compare two builds of
one callable, write a callable for each). --columns picks the table's
columns, which are the entries (and quantity).
"""
EPILOG = "Example: archlab compare mobilefacenet mobilefacenet-m --variant 'mobilefacenet:head=gap' -o cmp.html"


def command_line(name: str, parts: list[str]) -> str:
    """The command as a reader would retype it (quoted where needed); the report names it."""
    import shlex

    return " ".join(["archlab", name, *(shlex.quote(p) for p in parts)])


def documents_option(help_text: str):
    return click.option("--output", "--out", "-o", "outputs", multiple=True, metavar="FILE", help=help_text)


@command("compare", HELP, EPILOG)
@click.argument("nets", nargs=-1, metavar="NAME...", shell_complete=complete_network)
@click.option(
    "--variant",
    multiple=True,
    metavar="NAME:K=V",
    help="NAME:key=value[,key=value], e.g. 'mobilefacenet:head=gap' (repeatable)",
)
@click.option("--latency", is_flag=True, help="measure every entry's latency (imports torch)")
@click.option("--threads", type=Count(), default=1, show_default=True, help="torch threads for --latency")
@click.option(
    "--budget",
    type=Number(),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="seconds of latency rounds at most (stops earlier at +-2%)",
)
@click.option("--input", metavar="HxW", help="the input size of the torch module entries (FILE.py:CALLABLE)")
@source_options
@documents_option("write FILE.md (+ FILE_files/), FILE.html or FILE.json; repeatable (the suffix decides)")
@format_option(("table", "json", "md"))
@columns_option
@quiet_option
def compare(
    nets: tuple[str, ...],
    variant: tuple[str, ...],
    latency: bool,
    threads: int,
    budget: float,
    input: str | None,
    module_args: tuple[str, ...],
    strict: bool,
    outputs: tuple[str, ...],
    fmt: str,
    columns: list[str] | None,
    quiet: bool,
) -> None:
    from archlab import api
    from archlab.errors import OptionError
    from archlab.render.compare_page import compare_document, compare_table
    from archlab.render.document import check_out, write_document

    entries = api.entries(list(nets), list(variant), module_args=list(module_args))
    if not latency and (threads != 1 or budget != 20.0):
        raise OptionError("--threads and --budget only apply with --latency")
    if outputs and fmt != "table":
        raise OptionError("--format is for stdout; with --output the file's suffix (.md, .html, .json) decides")
    if outputs and columns is not None:
        raise OptionError("--columns selects the table on stdout; a document (--output) keeps every column")
    for path in outputs:
        check_out(path)  # before any work
    with progress_display("compare --latency", quiet or not latency) as progress:
        comp = api.compare(
            *entries, latency=latency, threads=threads, budget=budget, progress=progress, input=input, strict=strict
        )
    parts = [*nets, *(f"--variant={v}" for v in variant)]
    parts += [f"--input={input}"] * (input is not None) + [f"--arg={a}" for a in module_args] + ["--strict"] * strict
    if latency:
        parts += ["--latency", f"--threads={threads}", f"--budget={budget:g}"]
    if outputs:
        doc = compare_document(comp, command=command_line("compare", parts), generated=comp.generated)
        for path in outputs:
            for written in write_document(doc, path):
                echo(f"wrote {written}")
        return
    emit([compare_table(comp)], comp.to_dict(), fmt, None, columns=columns)
