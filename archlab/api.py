"""The Python API the CLI is a thin layer over."""

from __future__ import annotations

from pathlib import Path

from archlab.expand import Overrides, expand
from archlab.plan import Plan
from archlab.registry import resolve
from archlab.table import NetSpec, load_table as _load_table


def load_table(name_or_path: str | Path) -> NetSpec:
    """Read and validate a table: a shipped network name (``mobilefacenet``) or a path to a YAML file."""
    return _load_table(resolve(str(name_or_path)))


def plan(name_or_path: str | Path | NetSpec, **overrides) -> Plan:
    """Expand a table into primitive layers (no torch). ``overrides``: input, width, stem_stride,
    stem_pool, head, embedding, classes."""
    spec = name_or_path if isinstance(name_or_path, NetSpec) else load_table(name_or_path)
    return expand(spec, Overrides.from_kwargs(**overrides))


def build(name_or_path: str | Path | NetSpec, **overrides):
    """Build the network as an ``nn.Module`` whose module paths equal the plan's layer names."""
    from archlab.build import build_plan

    return build_plan(plan(name_or_path, **overrides))


def profile(name_or_path: str | Path | NetSpec, **overrides):
    """Per-layer and per-row parameters, MAdds, other ops and activations (see ``archlab.plan.CONVENTIONS``)."""
    from archlab.analysis.counts import Profile

    spec = name_or_path if isinstance(name_or_path, NetSpec) else load_table(name_or_path)
    return Profile.from_plan(expand(spec, Overrides.from_kwargs(**overrides)), spec)
