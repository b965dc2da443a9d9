"""The tiny tables the tests run on: a few named variants, each as small as its tests allow.

Tests get them written to a file through the ``tiny_table`` fixture (``tests/conftest.py``); module-scoped
fixtures and subprocess drivers call :func:`write`. Tests that need a changed table say how with ``replace``
(every old text must be in the table, so an edit never silently stops applying) or ``head``.

Variants (their numbers are pinned by tests: change a table and you change those tests' expectations):

``embedding``
    BN + PReLU, 16x16: a stride-2 3x3 conv (3 -> 8: 216 weights, 13,824 MAdds), a residual bottleneck pair,
    a stride-2 depthwise-separable row, a GDConv head and a 6-wide linear embedding. Foldable BN everywhere.
    Used by BN folding, export, ``profile --latency``, sweeps, ``compare`` and ``report``.
``prelu_block``
    ``embedding`` without its depthwise-separable row: stem conv, the residual bottleneck pair (4 PReLUs), GDConv
    head. Used by the ONNX export, the profiled-layers mapping and the runtime-table tests.
``classifier``
    BN + ReLU, 16x16: the same stem conv, a residual bottleneck pair (``1.0.add``), global average pooling and
    a 10-class linear classifier. Used by the per-layer latency and roofline tests, and edited line by line by
    the table-error tests (the bottleneck is line 6).
``residual``
    No BN, no activation, integer rounding, 2 input channels on a 4x4 map: conv 2 -> 4 (1x1), then one
    inverted residual block (t=2) whose input 0.0.conv is read again by the add, so every tensor is one line
    below. fp32 bytes: input 2x4x4 = 128 B, 0.0.conv 4x4x4 = 256, 1.0.expand 8x4x4 = 512, 1.0.dw 512,
    1.0.project 256, 1.0.add 256. Used by the memory (liveness) tests.
``two_outputs``
    Two outputs on two branches (a 1x1 conv and a 3x3 conv both reading the stem): a detector-like table for
    the instrumented pass and the runtime checks on every output.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

TABLES = {
    "embedding": """
        name: tiny
        input: [16, 16]
        defaults: {norm: bn, act: prelu}
        rows:
          - {type: conv, c: 8, k: 3, s: 2}
          - {type: bottleneck, t: 2, c: 8, n: 2, s: 1}
          - {type: dwsep, c: 12, s: 2}
        head: {pool: gdconv, embedding: {size: 6, layer: linear}}
        """,
    "prelu_block": """
        name: tiny
        input: [16, 16]
        defaults: {norm: bn, act: prelu}
        rows:
          - {type: conv, c: 8, k: 3, s: 2}
          - {type: bottleneck, t: 2, c: 8, n: 2, s: 1}
        head: {pool: gdconv, embedding: {size: 6, layer: linear}}
        """,
    "classifier": """
        name: tiny
        input: [16, 16]
        defaults: {norm: bn, act: relu}
        rows:
          - {type: conv, c: 8, k: 3, s: 2}
          - {type: bottleneck, t: 2, c: 8, n: 2, s: 1}
        head: {pool: gap, classifier: {classes: 10}}
        """,
    "residual": """
        name: tiny
        input: [4, 4]
        in_channels: 2
        defaults: {norm: none, act: none, round: int}
        rows:
          - {type: conv, c: 4, k: 1}
          - {type: bottleneck, t: 2, c: 4, n: 1, s: 1}
        """,
    "two_outputs": """
        name: two-heads
        input: [16, 16]
        rows:
          - {type: conv, c: 8, s: 2}
          - {type: conv, c: 4, k: 1, output: true}
          - {type: conv, from: 0, c: 6, k: 3, output: true}
        """,
}
TABLES = {name: textwrap.dedent(text).lstrip() for name, text in TABLES.items()}


def text(name: str, *, replace: dict[str, str] | None = None, head: str | bool | None = None) -> str:
    """The YAML of variant ``name``; ``replace`` {old: new} edits it (every old must occur), ``head`` replaces
    its head line (``False``: no head; a string: ``head: <string>``)."""
    out = TABLES[name]
    for old, new in (replace or {}).items():
        assert old in out, f"{old!r} is not in the {name!r} tiny table"
        out = out.replace(old, new)
    if head is not None:
        lines = [line for line in out.splitlines() if not line.startswith("head:")]
        if head:
            lines.append(f"head: {head}")
        out = "\n".join(lines) + "\n"
    return out


def write(folder: Path, name: str, filename: str | None = None, **edits) -> Path:
    """Write variant ``name`` (edited as :func:`text` says) to ``folder / filename`` (default ``<name>.yaml``)."""
    path = Path(folder) / (filename or f"{name}.yaml")
    path.write_text(text(name, **edits), encoding="utf-8")
    return path
