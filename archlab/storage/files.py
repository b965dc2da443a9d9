"""Files archlab writes: atomically (a temporary file beside the target, then a rename), never over a device.

:func:`write_atomic` never leaves a half-written file and never replaces anything that is not a regular file
(a device such as ``/dev/null``, a folder, a FIFO, a socket): renaming a temporary file over ``/dev/null`` would
replace the device node itself. Every problem is an :class:`ArchlabError` naming the path.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from archlab.errors import ArchlabError


def check_writable(path: str | Path) -> Path:
    """The target of a write, checked before any work: its folder exists and it is a regular file or absent. A
    symbolic link is followed (the file it names is replaced, the link stays), as a shell's ``>`` does."""
    if isinstance(path, str) and not path.strip():
        raise ArchlabError("cannot write to an empty file name")
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ArchlabError(f"cannot write {path}: folder {parent} does not exist")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as e:
        raise ArchlabError(f"cannot write {path}: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        given = " (an empty file name?)" if str(path) == "." else ""
        raise ArchlabError(f"cannot write {path}: it is a folder; give a file name{given}")
    if not stat.S_ISREG(mode):
        raise ArchlabError(
            f"cannot write {path}: not a regular file (a device, FIFO or socket); archlab only "
            "replaces regular files (use -o - for standard output)"
        )
    return path


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to a temporary file beside ``path`` and rename it into place:
    never half-written, and an earlier file stays intact when writing fails."""
    path = check_writable(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.chmod(tmp, file_mode(path))  # mkstemp makes 0600 files
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        check_writable(path)  # a device or folder may have appeared meanwhile
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise ArchlabError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def file_mode(path: Path) -> int:
    """The permissions a written file gets: those of the file it replaces, else the usual (0666 less umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
