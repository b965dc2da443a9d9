"""Fixtures shared by every test module; the helpers they use live in tests/helpers/."""

import textwrap
from pathlib import Path

import pytest

from tests.helpers import tables


@pytest.fixture
def write_table(tmp_path):
    """Write a YAML table (dedented) into a temp folder and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture
def tiny_table(write_table):
    """Write one of the tiny tables of tests/helpers/tables.py into the temp folder and return its path.

    ``tiny_table("classifier", replace={"n: 2": "m: 2"})``, ``tiny_table("embedding", head=False)``; the file
    is ``<name>.yaml`` unless ``filename`` says otherwise.
    """

    def write(name: str = "embedding", filename: str | None = None, **edits) -> Path:
        return write_table(tables.text(name, **edits), filename or f"{name}.yaml")

    return write


@pytest.fixture
def cli():
    """Run the archlab CLI in-process; returns the click Result (stdout, stderr, exit_code)."""
    from click.testing import CliRunner

    from archlab.cli.app import app

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return run


@pytest.fixture(scope="module")
def single_threaded_torch():
    """Small tensors: one intra-op thread avoids barrier waits when other jobs share the cores.

    Use it for a whole module with ``pytestmark = pytest.mark.usefixtures("single_threaded_torch")``.
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def cached_ceilings(tmp_path, monkeypatch):
    """$ARCHLAB_CACHE_DIR: a folder whose ceilings.json holds a fake entry for 1 thread (PEAK, BW of
    tests/helpers/ceilings.py), so no test measures the machine. Returns the folder."""
    from tests.helpers.ceilings import write_cache

    d = tmp_path / "cache"
    d.mkdir()
    monkeypatch.setenv("ARCHLAB_CACHE_DIR", str(d))
    write_cache(d)
    return d
