"""pyproject.toml lists every package of archlab (a wheel or a fresh install would miss an unlisted one)."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "archlab").rglob("__init__.py")}
    assert found | {"archlab.configs"} == listed, (found - listed, listed - found)
