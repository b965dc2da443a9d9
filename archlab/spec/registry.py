"""Where shipped configs live and how a name or a path becomes a table file."""

from __future__ import annotations

import difflib
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.spec.reprs import bounded_repr

SUFFIXES = (".yaml", ".yml")


def configs_dir() -> Path:
    """The shipped ``configs/`` folder: beside the package in a checkout, or installed as package data."""
    package = Path(__file__).resolve().parent.parent
    repo = package.parent / "configs"
    if (repo / "mobilefacenet.yaml").is_file():
        return repo
    return package / "configs"  # wheel installs map configs/ to archlab/configs (see pyproject.toml)


def names() -> list[str]:
    d = configs_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def looks_like_path(arg: str) -> bool:
    return arg.endswith(SUFFIXES) or "/" in arg or "\\" in arg or _is_file(Path(arg))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, ...
        return False


def resolve(arg: str, *, relative_to: Path | None = None) -> Path:
    """A shipped network name (``mobilefacenet``) or a path to a table file."""
    if len(arg) > 4096 or "\0" in arg:
        raise ArchlabError(f"not a network name or a table path: {bounded_repr(arg)}")
    if looks_like_path(arg):
        path = Path(arg)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if not _is_file(path):
            shown = str(path) if len(str(path)) <= 200 else str(path)[:197] + "..."
            raise ArchlabError(f"not a file: {shown}" if _exists(path) else f"no such table file: {shown}")
        return path
    path = configs_dir() / f"{arg}.yaml"
    if _is_file(path):
        return path
    known = names()
    close = difflib.get_close_matches(arg, known, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ArchlabError(f"unknown network {bounded_repr(arg)}{hint} (known: {', '.join(known)}; or give a .yaml path)")


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False
