"""The `archlab` command."""

from __future__ import annotations

from typing import Annotated

import typer

from archlab.cli import (
    ceilings_cmd,
    compare_cmd,
    diff_cmd,
    export_cmd,
    list_cmd,
    profile_cmd,
    report_cmd,
    rf_cmd,
    show_cmd,
    sweep_cmd,
    table_cmds,
)
from archlab.cli.common import STATE

app = typer.Typer(
    name="archlab",
    help="Analyse and profile mobile CNN architectures from declarative layer tables.",
    epilog="Example: archlab profile mobilefacenet",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        from archlab.version import __version__

        typer.echo(f"archlab {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks instead of one-line errors")] = False,
) -> None:
    STATE["debug"] = debug


# (name, function, one-line summary for `archlab --help`, full help, epilog with an example)
COMMANDS = [
    (
        "list",
        list_cmd.list_networks,
        "The shipped networks with params, MAdds and published figures.",
        list_cmd.HELP,
        list_cmd.EPILOG,
    ),
    ("show", show_cmd.show, "The resolved layer table, each row with its shapes.", show_cmd.HELP, show_cmd.EPILOG),
    (
        "profile",
        profile_cmd.profile,
        "Per-row or per-layer params, MAdds, memory, RF; --check, --latency.",
        profile_cmd.HELP,
        profile_cmd.EPILOG,
    ),
    ("diff", diff_cmd.diff, "Two networks or option sets row by row, with deltas.", diff_cmd.HELP, diff_cmd.EPILOG),
    (
        "compare",
        compare_cmd.compare,
        "Networks and variants side by side (Markdown, HTML, JSON).",
        compare_cmd.HELP,
        compare_cmd.EPILOG,
    ),
    (
        "report",
        report_cmd.report,
        "The MobileFaceNets study end to end for a network (Markdown, HTML).",
        report_cmd.HELP,
        report_cmd.EPILOG,
    ),
    (
        "rf",
        rf_cmd.rf,
        "Receptive fields and the embedding-head study (GAP vs GDConv vs FC).",
        rf_cmd.HELP,
        rf_cmd.EPILOG,
    ),
    (
        "sweep",
        sweep_cmd.sweep,
        "Latency over widths, stems, inputs, heads, threads and runtimes.",
        sweep_cmd.HELP,
        sweep_cmd.EPILOG,
    ),
    (
        "export",
        export_cmd.export,
        "ONNX / TorchScript export, BN optionally folded, checked.",
        export_cmd.HELP,
        export_cmd.EPILOG,
    ),
    (
        "ceilings",
        ceilings_cmd.ceilings_cmd,
        "The machine's peak GFLOP/s and memory bandwidth (cached).",
        ceilings_cmd.HELP,
        ceilings_cmd.EPILOG,
    ),
    (
        "validate",
        table_cmds.validate,
        "Every error in a table file at once.",
        table_cmds.VALIDATE_HELP,
        table_cmds.VALIDATE_EPILOG,
    ),
    (
        "lint",
        table_cmds.lint,
        "Architecture smells, each naming its row (exit 1 when found).",
        table_cmds.LINT_HELP,
        table_cmds.LINT_EPILOG,
    ),
    (
        "schema",
        table_cmds.schema,
        "A JSON Schema of the table format, for editors.",
        table_cmds.SCHEMA_HELP,
        table_cmds.SCHEMA_EPILOG,
    ),
]
for name, function, summary, help_text, epilog in COMMANDS:
    app.command(name, help=help_text, short_help=summary, epilog=epilog)(function)
