"""A tiny learned head study written by the CLI (`archlab heads ... --out DIR`): a handful of steps at width
0.125 on a few drawn faces, shared by the tests of the heads CLI, of `rf --weights` and of the report."""

from __future__ import annotations

from pathlib import Path

TINY_ARGS = (
    "--steps",
    "2",
    "--seeds",
    "1",
    "--batch",
    "8",
    "--train-identities",
    "4",
    "--test-identities",
    "3",
)


def run_tiny_heads(cli, out: Path, *extra: str):
    """`archlab heads mobilefacenet` on the tiny settings into ``out``; returns the click result."""
    return cli("heads", "mobilefacenet", *TINY_ARGS, "--out", out, *extra)
