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


def emit(tables: list[Table], data, fmt: str, output: str | None, header: list[str] | None = None) -> None:
    """Render ``tables`` (text forms) or ``data`` (json) to stdout or atomically to ``output``.

    csv carries the first table only (one record type per file).
    """
    header = header or []
    if fmt == "json":
        text = dumps_json(data)
    elif fmt == "csv":
        text = to_csv(tables[0])
    elif fmt == "md":
        text = "\n".join(header) + ("\n\n" if header else "") + "\n".join(to_markdown(t) for t in tables)
    else:
        if output is None and sys.stdout.isatty():
            from rich.console import Console

            console = Console()
            for line in header:
                console.print(line, highlight=False, markup=False)
            for t in tables:
                print_rich(t, console)
            return
        text = "\n".join(header) + ("\n" if header else "") + "\n".join(to_plain(t) for t in tables)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
