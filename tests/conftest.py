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
    from typer.testing import CliRunner

    from archlab.cli.app import app

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return run
