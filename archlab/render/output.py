"""Writing results: atomic files (temp file + rename), and choosing rich vs plain text for stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from archlab.render.tables import Table, print_rich, to_csv, to_markdown, to_plain
from archlab.storage.files import write_atomic  # noqa: F401  (re-exported: renderers write through it)


def save_figure(fig, path: str | Path, *, dpi: int = 150, fmt: str | None = None) -> Path:
    """Render a matplotlib figure (format from ``fmt`` or the file's suffix) and write it atomically."""
    import io

    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt or path.suffix.lstrip(".").lower() or "png", dpi=dpi)
    write_atomic(path, buf.getvalue())
    return path


def dumps_json(data) -> str:
    return json.dumps(data, indent=2) + "\n"


def dumps_yaml(data) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_text(text: str, output: str | None) -> None:
    """``text`` to stdout (``output`` None) or atomically to the file ``output``."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)


def select_columns(tables: list[Table], columns: list[str] | None) -> list[Table]:
    """``--columns``: every table that has any of the named columns shows only those (in that order); a name
    that no table has is an OptionError naming the columns there are."""
    if not columns:
        return tables
    from archlab.errors import OptionError
    from archlab.render.tables import select

    known = {c for t in tables for c in t.columns}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise OptionError(
            f"--columns: no column {', '.join(repr(c) for c in unknown)}; the columns: {', '.join(sorted(known))}"
        )
    return [select(t, [c for c in columns if c in t.columns]) if set(columns) & set(t.columns) else t for t in tables]


def emit(
    tables: list[Table],
    data,
    fmt: str,
    output: str | None,
    header: list[str] | None = None,
    *,
    columns: list[str] | None = None,
    width: int | None = None,
) -> None:
    """Render ``tables`` (text forms) or ``data`` (json) to stdout or atomically to ``output``.

    ``columns``: the columns to show (``--columns``; text forms and csv). ``width``: lay the table out for this
    many characters (default: the terminal's width on a terminal, none when piped or written to a file).
    csv carries the first table only (one record type per file).
    """
    header = header or []
    tables = select_columns(tables, columns) if fmt != "json" else tables
    if fmt == "json":
        text = dumps_json(data)
    elif fmt == "csv":
        text = to_csv(tables[0])
    elif fmt == "md":
        text = "\n".join(header) + ("\n\n" if header else "") + "\n".join(to_markdown(t) for t in tables)
    else:
        if output is None and sys.stdout.isatty():
            from rich.console import Console

            console = Console(width=width) if width else Console()
            print_tables(tables, console, header)
            return
        text = "\n".join(header) + ("\n" if header else "") + "\n".join(to_plain(t, width) for t in tables)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)


def print_tables(tables: list[Table], console, header: list[str] | None = None) -> None:
    """Header lines and tables on a rich console, each table laid out for the console's width."""
    for line in header or []:
        console.print(line, highlight=False, markup=False)
    for t in tables:
        print_rich(t, console)
