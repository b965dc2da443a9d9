import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def write_table(tmp_path):
    """Write a YAML table (dedented) into a temp folder and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

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
    """Small tensors: one intra-op thread avoids barrier waits when other jobs share the cores."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
