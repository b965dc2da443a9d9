"""Writing results: atomic files (temp file + rename), and choosing rich vs plain text for stdout."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.render.tables import Table, print_rich, to_csv, to_markdown, to_plain


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place: never half-written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ArchlabError(f"cannot write {path}: folder {parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; results get the usual permissions
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ArchlabError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dumps_json(data) -> str:
    return json.dumps(data, indent=2) + "\n"


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
