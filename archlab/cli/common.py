"""Options shared by commands, and the error boundary: user errors -> one line on stderr, exit code 2."""

from __future__ import annotations

import functools
import inspect
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, get_type_hints

import typer

from archlab.errors import ArchlabError

STATE = {"debug": False}


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"


class Depth(str, Enum):
    row = "row"
    layer = "layer"


class HeadChoice(str, Enum):
    gdconv = "gdconv"
    gap = "gap"
    fc = "fc"


def complete_network(incomplete: str) -> list[str]:
    """Shell completion for NAME|PATH: shipped network names, then .yaml/.yml files matching what is typed."""
    from archlab import api

    names = [n for n in api.network_names() if n.startswith(incomplete)]
    folder, _, stem = incomplete.rpartition("/")
    base = Path(folder or ".")
    try:
        files = sorted(
            str(p) if folder else p.name
            for p in base.iterdir()
            if p.name.startswith(stem) and (p.is_dir() or p.suffix in (".yaml", ".yml"))
        )
    except OSError:
        files = []
    return names + [f + "/" if Path(f).is_dir() else f for f in files if not Path(f).name.startswith(".")]


NetArg = Annotated[
    str,
    typer.Argument(
        help="a shipped network name (see `archlab list`) or a path to a .yaml table",
        metavar="NAME|PATH",
        autocompletion=complete_network,
    ),
]
InputOpt = Annotated[
    str | None, typer.Option("--input", help="input size HxW, e.g. 112x96", metavar="HxW", rich_help_panel="Overrides")
]
WidthOpt = Annotated[
    float | None,
    typer.Option("--width", help="width multiplier (the table's rounding rule)", rich_help_panel="Overrides"),
]
StemStrideOpt = Annotated[
    int | None, typer.Option("--stem-stride", help="stride of the first layer: 1 or 2", rich_help_panel="Overrides")
]
StemPoolOpt = Annotated[
    bool,
    typer.Option(
        "--stem-pool", help="first layer at stride 1, then a 3x3 stride-2 max-pool", rich_help_panel="Overrides"
    ),
]
HeadOpt = Annotated[
    HeadChoice | None, typer.Option("--head", help="how FMap-end becomes a vector", rich_help_panel="Overrides")
]
EmbeddingOpt = Annotated[
    int | None, typer.Option("--embedding", help="embedding size (replaces a classifier)", rich_help_panel="Overrides")
]
ClassesOpt = Annotated[
    int | None, typer.Option("--classes", help="number of classes of a classifier head", rich_help_panel="Overrides")
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="output format")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="write to FILE (atomically) instead of stdout", metavar="FILE")
]


def overrides(input, width, stem_stride, stem_pool, head, embedding, classes) -> dict:
    """CLI options -> the keyword arguments of the Python API (one code path for both)."""
    kw = {
        "input": input,
        "width": width,
        "stem_stride": stem_stride,
        "stem_pool": stem_pool,
        "head": head.value if head is not None else None,
        "embedding": embedding,
        "classes": classes,
    }
    return {k: v for k, v in kw.items() if v is not None and v is not False}


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"archlab: error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(fn):
    """Turn ArchlabError into one stderr line and exit code 2; unexpected errors into one line and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except ArchlabError as e:
            if STATE["debug"]:
                raise
            fail(str(e), 2)
        except KeyboardInterrupt:
            typer.echo("archlab: interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as e:  # a bug in archlab: say so on one line, traceback with --debug
            if STATE["debug"]:
                raise
            fail(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)", 1)

    return wrapper


OVERRIDE_OPTIONS = {  # name: (annotated option, default) -- the Python API's override keywords
    "input": (InputOpt, None),
    "width": (WidthOpt, None),
    "stem_stride": (StemStrideOpt, None),
    "stem_pool": (StemPoolOpt, False),
    "head": (HeadOpt, None),
    "embedding": (EmbeddingOpt, None),
    "classes": (ClassesOpt, None),
}


def with_overrides(fn=None, *, exclude: tuple[str, ...] = ()):
    """Give a command the override options (--input ... --classes) in place of its ``overrides`` parameter.

    The command receives them as one dict of API keywords (``overrides(...)``); the options are declared once
    here instead of in every command's signature. ``exclude`` leaves some out (``rf`` has its own ``--head``).
    """

    def decorate(fn):
        hints = get_type_hints(fn, include_extras=True)
        params = [
            p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(fn).parameters.values()
        ]
        names = [n for n in OVERRIDE_OPTIONS if n not in exclude]
        at = [p.name for p in params].index("overrides")
        injected = [
            inspect.Parameter(
                n,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=OVERRIDE_OPTIONS[n][1],
                annotation=OVERRIDE_OPTIONS[n][0],
            )
            for n in names
        ]
        signature = inspect.Signature(params[:at] + injected + params[at + 1 :], return_annotation=None)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            given = {n: kwargs.pop(n, None) for n in names}
            kwargs["overrides"] = overrides(**{n: given.get(n) for n in OVERRIDE_OPTIONS})
            return fn(*args, **kwargs)

        del wrapper.__wrapped__  # Typer must read the signature below, not the wrapped function's
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        return wrapper

    return decorate(fn) if fn is not None else decorate
