"""The `archlab` command."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archlab.cli import list_cmd, profile_cmd, show_cmd, table_cmds
from archlab.cli import diff_cmd
from archlab.cli import sweep_cmd
from archlab.cli import rf_cmd
from archlab.cli import ceilings_cmd, export_cmd
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
        from archlab import __version__

        typer.echo(f"archlab {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="print the version and exit")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks instead of one-line errors")] = False,
) -> None:
    STATE["debug"] = debug


app.command("list", help=list_cmd.HELP, epilog=list_cmd.EPILOG)(list_cmd.list_networks)
app.command("show", help=show_cmd.HELP, epilog=show_cmd.EPILOG)(show_cmd.show)
app.command("profile", help=profile_cmd.HELP, epilog=profile_cmd.EPILOG)(profile_cmd.profile)
app.command("diff", help=diff_cmd.HELP, epilog=diff_cmd.EPILOG)(diff_cmd.diff)
app.command("validate", help=table_cmds.VALIDATE_HELP, epilog=table_cmds.VALIDATE_EPILOG)(table_cmds.validate)
app.command("schema", help=table_cmds.SCHEMA_HELP, epilog=table_cmds.SCHEMA_EPILOG)(table_cmds.schema)
app.command("lint", help=table_cmds.LINT_HELP, epilog=table_cmds.LINT_EPILOG)(table_cmds.lint)
app.command("sweep", help=sweep_cmd.HELP, epilog=sweep_cmd.EPILOG)(sweep_cmd.sweep)
app.command("rf", help=rf_cmd.HELP, epilog=rf_cmd.EPILOG)(rf_cmd.rf)
app.command("export", help=export_cmd.HELP, epilog=export_cmd.EPILOG)(export_cmd.export)
app.command("ceilings", help=ceilings_cmd.HELP, epilog=ceilings_cmd.EPILOG)(ceilings_cmd.ceilings_cmd)
