"""The `archlab` command: a click group that imports a command's module only when that command runs, and the
one error boundary of the CLI.

Every error a user can cause ends as one line on stderr and exit code 2 (a bad option or value, a bad table, a
file that cannot be written); Ctrl-C (or SIGTERM) at any moment is "archlab: interrupted" and exit code 130; a
bug in archlab is one line and exit code 1. ``--debug`` (anywhere on the command line) shows tracebacks instead
and keeps the exit code.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import click

from archlab.errors import ArchlabError

# name -> (module:attribute of its click command, one-line summary for `archlab --help`)
COMMANDS = {
    "list": ("list_cmd:list_networks", "The shipped networks with params, MAdds and published figures."),
    "show": ("show_cmd:show", "The resolved layer table, each row with its shapes."),
    "profile": ("profile_cmd:profile", "Per-row or per-layer params, MAdds, memory, RF; --check, --latency."),
    "diff": ("diff_cmd:diff", "Two networks or option sets row by row, with deltas."),
    "compare": ("compare_cmd:compare", "Networks and variants side by side (Markdown, HTML, JSON)."),
    "report": ("report_cmd:report", "The MobileFaceNets study end to end for a network (Markdown, HTML)."),
    "rf": ("rf_cmd:rf", "Receptive fields and the embedding-head study (GAP vs GDConv vs FC)."),
    "heads": ("heads_cmd:heads", "The learned head study: GAP, GDConv and FC trained on drawn faces."),
    "sweep": ("sweep_cmd:sweep", "Latency over widths, stems, inputs, heads, threads and runtimes."),
    "runtimes": ("runtimes_cmd:runtimes", "Every runtime end to end, side by side, with ratios to eager and CIs."),
    "deploy": ("deploy_cmd:deploy", "Write the network in its fastest runtime here, with the evidence."),
    "export": ("export_cmd:export", "ONNX / TorchScript export (BN folded, dynamic batch), checked."),
    "extract": ("extract_cmd:extract", "A torch module (FILE.py:CALLABLE) as a layer table, checked exact."),
    "weights": ("weights_cmd:weights", "Checkpoint tools: `weights map` finds a key map by shapes."),
    "ceilings": ("ceilings_cmd:ceilings", "The machine's peak GFLOP/s and bandwidth per memory level (cached)."),
    "validate": ("table_cmds:validate", "Every error in a table file at once."),
    "lint": ("table_cmds:lint", "Architecture smells, each naming its row (exit 1 when found)."),
    "schema": ("table_cmds:schema", "A JSON Schema of the table format, for editors."),
}
STATE = {"debug": False}


class ArchlabGroup(click.Group):
    """Lazy subcommands and the error boundary (see the module docstring)."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        spec = COMMANDS.get(name)
        if spec is None:
            return None
        module, _, attr = spec[0].partition(":")
        return getattr(importlib.import_module(f"archlab.cli.{module}"), attr)

    def format_commands(self, ctx, formatter):  # --help without importing any command module
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary) in COMMANDS.items()])

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=2, cutoff=0.5)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise click.UsageError(f"no command {name!r}{hint}; commands: {', '.join(COMMANDS)}")
        return super().resolve_command(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        prog_name = prog_name or "archlab"
        self._main_shell_completion(extra, prog_name, complete_var or "_ARCHLAB_COMPLETE")
        args = list(sys.argv[1:] if args is None else args)
        cut = args.index("--") if "--" in args else len(args)
        STATE["debug"] = "--debug" in args[:cut]
        args = [a for i, a in enumerate(args) if not (a == "--debug" and i < cut)]
        warnings.showwarning = _show_note
        sys.exit(run_guarded(lambda: self._invoke(prog_name, args, extra), STATE["debug"]))

    def _invoke(self, prog_name: str, args: list[str], extra: dict) -> int:
        with self.make_context(prog_name, args, **extra) as ctx:
            self.invoke(ctx)
        return 0


def _show_note(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``archlab: note:`` line each (a limit archlab applied and went on: threads capped ...);
    other libraries' warnings only with ``--debug``."""
    from archlab.api import ResourceNote

    if issubclass(category, ResourceNote):
        click.echo(f"archlab: note: {_one_line(str(message))}", err=True)
    elif STATE["debug"]:
        click.echo(f"archlab: warning: {category.__name__}: {_one_line(str(message))} ({filename}:{lineno})", err=True)


def run_guarded(work, debug: bool) -> int:
    """Run ``work`` and turn every way it can end into an exit code, with one line on stderr (after the
    traceback with ``--debug``: the exit code stays the same)."""
    try:
        return work()
    except click.exceptions.Exit as e:
        return e.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        return _failed(debug, "archlab: interrupted", 130)
    except click.UsageError as e:
        where = f" (see: {e.ctx.command_path} --help)" if e.ctx is not None else ""
        return _failed(debug, f"archlab: error: {_one_line(e.format_message())}{where}", 2)
    except ArchlabError as e:
        return _failed(debug, f"archlab: error: {_one_line(str(e))}", 2)
    except click.ClickException as e:
        return _failed(debug, f"archlab: error: {_one_line(e.format_message())}", e.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Exception as e:  # a bug in archlab: say so on one line, traceback with --debug
        hint = "" if debug else " (run with --debug for the traceback)"
        return _failed(debug, f"archlab: internal error: {type(e).__name__}: {_one_line(str(e))}{hint}", 1)


def _failed(debug: bool, line: str, code: int) -> int:
    """Print the one line (the traceback of the exception being handled first, with ``--debug``); ``code``."""
    if debug:
        import traceback

        traceback.print_exc()
    click.echo(line, err=True)
    return code


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _version(ctx, param, given):
    if given and not ctx.resilient_parsing:
        from archlab.version import __version__

        click.echo(f"archlab {__version__}")
        ctx.exit()


def _completion(install: bool):
    def callback(ctx, param, given):
        if not given or ctx.resilient_parsing:
            return
        from archlab.cli.completion import install_completion, show_completion

        click.echo(install_completion(ctx.command) if install else show_completion(ctx.command), nl=not install)
        ctx.exit()

    return callback


@click.group(
    "archlab",
    cls=ArchlabGroup,
    help="Analyse and profile mobile CNN architectures from declarative layer tables.",
    epilog="Example: archlab profile mobilefacenet",
    no_args_is_help=True,
    context_settings={"max_content_width": 110},
)
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_version, help="print the version and exit"
)
@click.option("--debug", is_flag=True, expose_value=False, help="show tracebacks (accepted anywhere)")
@click.option(
    "--install-completion",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_completion(True),
    help="install shell completion (names and .yaml paths) for the current shell",
)
@click.option(
    "--show-completion",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_completion(False),
    help="print the shell completion script for the current shell",
)
def app() -> None:
    """The group itself does nothing: every command is a subcommand."""


def main() -> None:
    app(prog_name="archlab")
