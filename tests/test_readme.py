"""The README works as written: the Quick tour's commands and the Python snippet run, from a fresh folder, with
only the venv's bin on PATH (what `. .venv/bin/activate` after `make demo` gives a new user)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def fenced(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def tour_commands() -> list[str]:
    """Every command of the tour's bash block: continuation lines joined, a here-document kept with its command."""
    lines = fenced(section("Quick tour"), "bash")[0].splitlines()
    commands: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        heredoc = re.search(r"<<\s*'?(\w+)'?", line)
        if heredoc:
            body = []
            while i < len(lines) and lines[i] != heredoc.group(1):
                body.append(lines[i])
                i += 1
            i += 1
            line = "\n".join([line, *body, heredoc.group(1)])
        if line.strip():
            commands.append(line)
    return commands


def user_env() -> dict:
    """A new user's shell after `. .venv/bin/activate`: the venv's bin first on PATH, nothing of the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHON"))}
    env["PATH"] = f"{BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin"
    env["VIRTUAL_ENV"] = str(BIN.parent)
    env["OMP_NUM_THREADS"] = "1"  # a shared 2-core machine (house rules); archlab's own thread options still apply
    env.pop("CI", None)
    return env


def test_the_tour_parses_into_commands():
    cmds = tour_commands()
    assert len(cmds) >= 15
    assert all(c.startswith(("archlab ", "cat > ")) for c in cmds), [c for c in cmds if not c.startswith("archlab")]
    heredoc = next(c for c in cmds if c.startswith("cat > my_net.yaml"))
    assert heredoc.splitlines()[-1] == "EOF" and "extends: mobilefacenet" in heredoc
    assert any("my_net.yaml" in c and c.startswith("archlab validate") for c in cmds)  # made before it is used


def test_make_demo_prints_what_the_readme_says():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert ". $(VENV)/bin/activate" in makefile
    assert ". .venv/bin/activate" in README.read_text(encoding="utf-8").split("## Quick tour")[0]


@pytest.mark.slow
def test_every_tour_command_runs(tmp_path):
    env = user_env()
    for cmd in tour_commands():
        r = subprocess.run(["bash", "-e", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert r.returncode == 0, f"{cmd}\n--- exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    for made in ("mfn.json", "figs/rf_units.png", "sweep.csv", "sweep.png", "roof.png", "cmp.html", "mfn.md"):
        assert (tmp_path / made).is_file(), made
    assert (tmp_path / "m.onnx").stat().st_size > 1_000_000


@pytest.mark.slow
def test_the_python_snippet_runs(tmp_path):
    snippet = fenced(section("Quick tour"), "python")[0]
    r = subprocess.run(
        [str(BIN / "python"), "-c", snippet], cwd=tmp_path, env=user_env(), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("<Profile mobilefacenet (width=0.75)") and len(first) < 200
    assert "rf" in r.stdout and "jump" in r.stdout and "rows aligned by role" in r.stdout
