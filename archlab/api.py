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


def build(name_or_path: str | Path | NetSpec, *, fold_bn: bool = False, **overrides):
    """Build the network as an ``nn.Module`` whose module paths equal the plan's layer names.

    ``fold_bn=True``: the deployed form, in eval mode: every BN that follows a conv/linear is folded into its
    weights and removed (``archlab.analysis.fold``); its parameter count is the plan's ``params_deployed``."""
    from archlab.build import build_plan

    module = build_plan(plan(name_or_path, **overrides))
    if fold_bn:
        from archlab.analysis.fold import fold_bn as _fold

        module = _fold(module)
    return module


def profile(name_or_path: str | Path | NetSpec, **overrides):
    """Per-layer and per-row parameters, MAdds, other ops and activations (see ``archlab.plan.CONVENTIONS``)."""
    from archlab.analysis.counts import Profile

    spec = name_or_path if isinstance(name_or_path, NetSpec) else load_table(name_or_path)
    return Profile.from_plan(expand(spec, Overrides.from_kwargs(**overrides)), spec)


def memory(name_or_path: str | Path | NetSpec, batch: int = 1, **overrides):
    """Per-layer output bytes, peak activation memory of inference and weight bytes (no torch)."""
    from archlab.analysis.memory import memory as plan_memory

    return plan_memory(plan(name_or_path, **overrides), batch)


def crosscheck(name_or_path: str | Path | NetSpec, batch: int = 1, **overrides):
    """Build the network and compare every layer's counts with fvcore and thop (imports torch, fvcore, thop)."""
    from archlab.analysis.crosscheck import crosscheck as run

    return run(plan(name_or_path, **overrides), batch)


def diff(a: str | Path | NetSpec, b: str | Path | NetSpec, a_options: dict | None = None,
         b_options: dict | None = None):
    """Row-by-row comparison of two networks, or of one network under two option sets."""
    from archlab.analysis.diff import diff as run

    return run(profile(a, **(a_options or {})), profile(b, **(b_options or {})), str(a), str(b))


def compare(*entries, latency: bool = False, **options):
    """Networks or variants side by side: ``archlab.compare("mobilefacenet", "mobilefacenet:head=gap")``.
    One record per entry (``NAME[:key=value,...]``); ``latency=True`` also times them (imports torch)."""
    from archlab.analysis.compare import compare as run

    return run(list(entries), latency=latency, **options)


def report(name_or_path: str | Path, *, quick: bool = False, **options):
    """The MobileFaceNets study of one network (``archlab.analysis.study.Study``); render it with
    ``archlab.render.report.report_document`` and ``write_document``. Imports torch (receptive fields)."""
    from archlab.analysis.study import run_study

    return run_study(str(name_or_path), quick=quick, **options)
