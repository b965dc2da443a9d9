"""Running archlab in a subprocess with bounds: a timeout (the only time limit the tests ever enforce: never a
timed assertion) and an address-space limit (``RLIMIT_AS``) set in the child before it starts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 500 * 2**20  # the bound: every refusal under 500 MB

TINY = """
name: tiny
input: [16, 16]
defaults: {norm: bn, act: relu, round: divisible8}
rows:
  - {type: conv, c: 8, k: 3, s: 2}
  - {type: bottleneck, t: 2, c: 8, n: 1, s: 1}
  - {type: conv, c: 16, k: 1}
head: {pool: gap, embedding: {size: 8, layer: linear}}
"""


def write_tiny(folder: Path, name: str = "tiny.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(TINY).lstrip(), encoding="utf-8")
    return path


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.setdefault("OMP_NUM_THREADS", "1")
    return e


def limit_memory(limit: int = MEMORY_LIMIT):
    """A preexec_fn: the child may map at most ``limit`` bytes."""

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def archlab(*args, timeout: float = 60, memory: int | None = MEMORY_LIMIT, cwd=None) -> subprocess.CompletedProcess:
    """``python -m archlab ARGS`` bounded by ``timeout`` seconds (TimeoutExpired fails the test) and ``memory``
    bytes of address space (None: unbounded, for commands that import torch and really run)."""
    return subprocess.run(
        [sys.executable, "-m", "archlab", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(),
        cwd=cwd,
        preexec_fn=limit_memory(memory) if memory else None,
    )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single ``archlab: error: ...`` line of a refused command (exit 2, no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in lines if line.startswith("archlab: error:")]
    assert len(errors) == 1, lines
    return errors[0]
