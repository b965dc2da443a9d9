"""Where shipped configs live and how a name or a path becomes a table file."""

from __future__ import annotations

import difflib
from pathlib import Path

from archlab.errors import ArchlabError

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
    return arg.endswith(SUFFIXES) or "/" in arg or "\\" in arg or Path(arg).is_file()


def resolve(arg: str, *, relative_to: Path | None = None) -> Path:
    """A shipped network name (``mobilefacenet``) or a path to a table file."""
    if looks_like_path(arg):
        path = Path(arg)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if not path.is_file():
            raise ArchlabError(f"no such table file: {path}" if not path.exists() else f"not a file: {path}")
        return path
    path = configs_dir() / f"{arg}.yaml"
    if path.is_file():
        return path
    known = names()
    close = difflib.get_close_matches(arg, known, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ArchlabError(f"unknown network {arg!r}{hint} (known: {', '.join(known)}; or give a .yaml path)")
