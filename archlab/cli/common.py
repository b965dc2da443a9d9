"""What every command shares: the network argument, the override options, --format/--output, value types that
refuse nan/inf, and the helpers that turn options into api calls. Commands are plain click commands, imported
only when they run (archlab.cli.app)."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

FORMATS = ("table", "json", "csv", "md")
HEADS = ("gdconv", "gap", "fc")
OVERRIDES = ("input", "width", "stem_stride", "stem_pool", "head", "embedding", "classes")


class Number(click.ParamType):
    """A finite float (nan, inf and, with ``positive``, values <= 0 refused), e.g. --width, --budget."""

    name = "number"

    def __init__(self, positive: bool = True, at_least: float | None = None) -> None:
        self.positive, self.at_least = positive, at_least

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.positive and number <= 0:
            self.fail(f"must be > 0, got {value}", param, ctx)
        if self.at_least is not None and number < self.at_least:
            self.fail(f"must be >= {self.at_least:g}, got {value}", param, ctx)
        return number


class Count(click.ParamType):
    """A positive integer (``at_least``, default 1)."""

    name = "integer"

    def __init__(self, at_least: int = 1) -> None:
        self.at_least = at_least

    def convert(self, value, param, ctx):
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not an integer", param, ctx)
        if number < self.at_least:
            self.fail(f"must be >= {self.at_least}, got {number}", param, ctx)
        return number


def complete_network(ctx, param, incomplete: str) -> list:
    """Shell completion for NAME|PATH: shipped network names, then .yaml/.yml files matching what is typed."""
    from click.shell_completion import CompletionItem

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
    files = [f + "/" if Path(f).is_dir() else f for f in files if not Path(f).name.startswith(".")]
    return [CompletionItem(n) for n in names + files]


NET_HELP = "a shipped network name (see `archlab list`) or a path to a .yaml table"


def net_argument(name: str = "net", metavar: str = "NAME|PATH"):
    return click.argument(name, metavar=metavar, shell_complete=complete_network)


def override_options(fn=None, *, exclude: tuple[str, ...] = ()):
    """The table overrides (--input ... --classes), handed to the command as one ``overrides`` dict of API
    keywords (None and False left out). ``exclude`` leaves some out (``rf`` has its own --head)."""
    options = {
        "input": click.option("--input", metavar="HxW", help="input size HxW, e.g. 112x96 (a torch module: CxHxW too)"),
        "width": click.option(
            "--width", type=Number(positive=False), help="width multiplier (the table's rounding rule)"
        ),
        "stem_stride": click.option("--stem-stride", type=int, help="stride of the first layer: 1 or 2"),
        "stem_pool": click.option(
            "--stem-pool", is_flag=True, help="first layer at stride 1, then a 3x3 stride-2 max-pool"
        ),
        "head": click.option("--head", type=click.Choice(HEADS), help="how FMap-end becomes a vector"),
        "embedding": click.option("--embedding", type=int, help="embedding size (replaces a classifier)"),
        "classes": click.option("--classes", type=int, help="number of classes of a classifier head"),
    }
    names = [n for n in OVERRIDES if n not in exclude]

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            given = {n: kwargs.pop(n, None) for n in names}
            kwargs["overrides"] = {k: v for k, v in given.items() if v is not None and v is not False}
            return f(*args, **kwargs)

        for n in reversed(names):
            wrapper = options[n](wrapper)
        return wrapper

    return decorate(fn) if fn is not None else decorate


def format_option(choices: tuple[str, ...] = FORMATS, default: str = "table"):
    return click.option(
        "--format", "-f", "fmt", type=click.Choice(choices), default=default, show_default=True, help="output format"
    )


def units_option(fn):
    return click.option(
        "--units",
        type=click.Choice(("madds", "flops")),
        default="madds",
        show_default=True,
        help="compute units: madds, or flops (= 2 x MAdds)",
    )(fn)


def output_option(fn):
    return click.option(
        "--output", "-o", metavar="FILE", default=None, help="write to FILE (atomically) instead of stdout; - is stdout"
    )(fn)


def output_path(output: str | None) -> str | None:
    """``-o -`` and no ``-o`` both mean stdout; an empty name is refused by the writer."""
    return None if output in (None, "-") else output


def emit(
    tables, data, fmt: str, output: str | None, header: list[str] | None = None, columns: list[str] | None = None
) -> None:
    from archlab.render.output import emit as render_emit

    render_emit(tables, data, fmt, output_path(output), header=header, columns=columns)


def columns_option(fn):
    """``--columns a,b,c``: the columns to show, handed to the command as a list (None: all)."""

    def parse(ctx, param, value):
        if value is None:
            return None
        names = [c.strip() for c in value.split(",") if c.strip()]
        if not names:
            raise click.BadParameter("give column names separated by commas, e.g. params,madds", ctx, param)
        return names

    return click.option(
        "--columns",
        metavar="A,B,...",
        callback=parse,
        help="show only these columns (text forms and csv; -f json keeps everything)",
    )(fn)


def max_memory_option(fn):
    """``--max-memory SIZE``: the memory the command may plan for, instead of what the machine has."""
    return click.option(
        "--max-memory",
        metavar="SIZE",
        help="refuse when the estimated peak memory exceeds SIZE (4G, 512M); default: the memory available",
    )(fn)


def quiet_option(fn):
    return click.option("--quiet", "-q", is_flag=True, help="no progress on stderr")(fn)


@contextmanager
def progress_display(name: str, quiet: bool = False) -> Iterator[Any]:
    """The progress callback of a long command (a rich bar on a terminal, one line per stage when piped, none
    with ``quiet``), stopped when the block ends."""
    from archlab.render.progress import progress_bar

    callback, stop = progress_bar(name, quiet=quiet)
    try:
        yield callback
    except BaseException:
        stop(ok=False)  # the error's own line follows; no "done"
        raise
    stop()


def source_options(fn=None, *, argument: str = "net", strict: bool = True):
    """The options of a network given as a torch module: ``--arg KEY=VALUE`` (repeatable; the callable of a
    ``FILE.py:CALLABLE`` source is called with them, values read as YAML) and ``--strict`` (ops archlab has no
    counting rule for are an error; left out with ``strict=False``). The command gets its ``argument`` loaded (a
    module when ``--arg`` is given) and ``strict``. A command whose ``argument`` is several entries (compare)
    gets ``module_args`` instead, to hand to the api."""

    def decorate(f):
        takes_args = "module_args" in inspect.signature(f).parameters

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            if takes_args:
                return f(*args, **kwargs)
            given = list(kwargs.pop("module_args", ()) or ())
            if given:
                kwargs[argument] = load_source(kwargs[argument], given)
            return f(*args, **kwargs)

        if strict:
            wrapper = click.option(
                "--strict",
                is_flag=True,
                help="refuse ops archlab has no counting rule for (default: counted as nothing and listed by name)",
            )(wrapper)
        return click.option(
            "--arg",
            "module_args",
            multiple=True,
            metavar="KEY=VALUE",
            help="for FILE.py:CALLABLE: call it with KEY=VALUE (repeatable; values read as YAML)",
        )(wrapper)

    return decorate(fn) if fn is not None else decorate


def load_source(text: str, given: list[str] | tuple[str, ...], flag: str = "--arg"):
    """The module of the source ``text`` built with ``given`` (``--arg``) arguments; refused for a table."""
    from archlab import api
    from archlab.errors import OptionError

    if not api.is_source(text):
        raise OptionError(
            f"{flag} calls a module source's callable; {text} is not one (expected FILE.py:CALLABLE or "
            "package.module:CALLABLE)"
        )
    return api.load_module(text, list(given))


def echo(text: str = "", *, err: bool = False) -> None:
    click.echo(text, err=err)


def fail(message: str, code: int = 1) -> None:
    """A finished command that reports a failed check: one line on stderr, then the exit code."""
    click.echo(f"archlab: {message}", err=True)
    raise SystemExit(code)


def command(name: str, help: str, epilog: str = "", **kw) -> Callable[[Callable], click.Command]:
    """A command whose help keeps its paragraphs as written (``\\b`` blocks) and ends with its example."""
    return click.command(name, help=help, epilog=epilog, context_settings={"max_content_width": 110}, **kw)


def value(v: Any) -> Any:
    """An enum's value or the value itself (options arrive as plain strings with click)."""
    return getattr(v, "value", v)
