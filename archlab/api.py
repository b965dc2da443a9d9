"""The Python API: one function for every command; the CLI is a thin layer over it.

``net`` is a shipped network name (``mobilefacenet``), a path to a YAML table, or a :class:`NetSpec`;
``**overrides`` are the table overrides (``input``, ``width``, ``stem_stride``, ``stem_pool``, ``head``,
``embedding``, ``classes``; :mod:`archlab.ir.overrides`). Functions that need torch import it themselves;
``plan``, ``profile``, ``memory``, ``lint``, ``diff`` and ``compare`` (without latency) never do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archlab.ir.expand import expand
from archlab.ir.overrides import Overrides
from archlab.ir.plan import Plan
from archlab.spec.registry import resolve
from archlab.spec.rows.head import POOLS as HEADS
from archlab.spec.table import NetSpec
from archlab.timing import resources
from archlab.timing.resources import MemoryLimitError, ResourceNote  # noqa: F401  (re-exported for the CLI)

if TYPE_CHECKING:  # result types, for readers and type checkers only
    from archlab.nn.export import ExportReport
    from archlab.static.counts import Profile
    from archlab.static.crosscheck import CheckReport
    from archlab.static.diff import Diff
    from archlab.static.erf_records import RFStudy
    from archlab.static.lint import Finding
    from archlab.static.memory import MemoryReport
    from archlab.static.receptive import OutputField
    from archlab.static.roofline import Ceilings
    from archlab.studies.compare import Comparison
    from archlab.studies.report_study import Study
    from archlab.studies.sweep import SweepOptions, SweepResult
    from archlab.timing.anatomy import LatencyReport

Net = str | Path | NetSpec
__all__ = [
    "HEADS",
    "build",
    "ceilings",
    "compare",
    "crosscheck",
    "diff",
    "entries",
    "export",
    "latency",
    "lint",
    "load_table",
    "memory",
    "network_names",
    "networks",
    "output_fields",
    "plan",
    "profile",
    "report",
    "rf",
    "schema",
    "sweep",
    "table_errors",
    "units",
]


# -- tables and plans ---------------------------------------------------------------------------------------


def load_table(net: Net) -> NetSpec:
    """Read and validate a table: a shipped network name (``mobilefacenet``) or a path to a YAML file."""
    if isinstance(net, NetSpec):
        return net
    from archlab.spec.table import load_table as read

    return read(net)


def plan(net: Net, **overrides) -> Plan:
    """Expand a table into primitive layers (no torch)."""
    return expand(load_table(net), Overrides.from_kwargs(**overrides))


def table_errors(path: str | Path) -> tuple[str, list, Plan | None]:
    """Every error of a table file at once (``archlab validate``): (the file, the errors, its plan if valid)."""
    from archlab.errors import ArchlabError
    from archlab.spec.table import checked_table

    file = resolve(str(path))
    spec, errors = checked_table(file)  # one reading of the file
    result = None
    if spec is not None:
        try:
            result = expand(spec)  # shape errors: the first one (later shapes depend on it)
        except ArchlabError as e:
            errors = [e]
    return str(file), errors, result


def networks() -> list[dict]:
    """The shipped networks: name, input, params, params_deployed, MAdds, published figures, description."""
    from archlab.spec import registry

    out = []
    for name in registry.names():
        spec = load_table(name)
        tot = expand(spec).totals()
        out.append(
            {
                "name": name,
                "input": [spec.in_channels, *spec.input],
                "params": tot["params"],
                "params_deployed": tot["params_deployed"],
                "madds": tot["madds"],
                "published": {k: v for k, v in spec.published.items() if k != "note"},
                "description": spec.description,
            }
        )
    return out


def schema() -> dict:
    """A JSON Schema of the table format (for editors)."""
    from archlab.spec.schema import table_schema

    return table_schema()


def build(net: Net, *, fold_bn: bool = False, **overrides):
    """Build the network as an ``nn.Module`` whose module paths equal the plan's layer names.

    ``fold_bn=True``: the deployed form, in eval mode: every BN that follows a conv/linear is folded into its
    weights and removed (:mod:`archlab.nn.fold`); its parameter count is the plan's ``params_deployed``."""
    from archlab.nn.build import build_plan

    module = build_plan(plan(net, **overrides))
    if fold_bn:
        from archlab.nn.fold import fold_bn as fold

        module = fold(module)
    return module


# -- analyses of the plan (no torch) --------------------------------------------------------------------------


def units(compute: str = "madds", batch: int = 1):
    """The units counts are reported in: ``madds`` or ``flops`` (= 2 x MAdds), per batch of ``batch`` images."""
    from archlab.static.units import Units

    return Units(compute, batch)


def network_names() -> list[str]:
    """The shipped networks' names."""
    from archlab.spec import registry

    return registry.names()


def profile(net: Net, **overrides) -> Profile:
    """Per-layer and per-row parameters, MAdds, other ops and activations (``archlab.ir.ops.CONVENTIONS``)."""
    from archlab.static.counts import Profile

    spec = load_table(net)
    return Profile.from_plan(expand(spec, Overrides.from_kwargs(**overrides)), spec)


def memory(net: Net | Plan, batch: int = 1, **overrides) -> MemoryReport:
    """Per-layer output bytes, peak activation memory of inference and weight bytes (no torch)."""
    from archlab.static.memory import memory as plan_memory

    return plan_memory(net if isinstance(net, Plan) else plan(net, **overrides), batch)


def lint(net: Net | Plan, **overrides) -> list[Finding]:
    """Architecture smells, each naming its table row (``archlab lint``)."""
    from archlab.static.lint import lint_plan

    return lint_plan(net if isinstance(net, Plan) else plan(net, **overrides))


def output_fields(net: Net | Plan, **overrides) -> list[OutputField]:
    """The theoretical receptive field of every network output (a detector's prediction heads)."""
    from archlab.static.receptive import output_fields as fields

    return fields(net if isinstance(net, Plan) else plan(net, **overrides))


def diff(a: Net, b: Net, a_options: dict | list[str] | None = None, b_options: dict | list[str] | None = None) -> Diff:
    """Row-by-row comparison of two networks, or of one network under two option sets. Options: API keywords, or
    ``KEY=VALUE`` strings (``["input=112x96"]``)."""
    from archlab.ir.overrides import parse_pairs
    from archlab.static.diff import diff as run

    def options(given, where):
        return parse_pairs(given, where) if isinstance(given, list) else dict(given or {})

    return run(
        profile(a, **options(a_options, "--a-option")), profile(b, **options(b_options, "B's options")), str(a), str(b)
    )


def entries(nets: list[str], variants: list[str] | None = None) -> list:
    """Comparison entries from ``NAME[:key=value,...]`` texts: the networks, then the ``--variant`` ones."""
    from archlab.errors import OptionError
    from archlab.ir.overrides import parse_entry

    out = [parse_entry(n, "entry") for n in nets] + [parse_entry(v, "--variant") for v in variants or []]
    if not out:
        raise OptionError("give at least one network (NAME ...) or --variant NAME:key=value")
    return out


def compare(*entries, latency: bool = False, progress: Callable[[str], Any] | None = None, **options) -> Comparison:
    """Networks or variants side by side: ``archlab.compare("mobilefacenet", "mobilefacenet:head=gap")``.
    One record per entry (``NAME[:key=value,...]``); ``latency=True`` also times them (imports torch)."""
    from archlab.studies.compare import compare as run

    if "threads" in options:
        options["threads"] = resources.usable_threads(options["threads"])
    return run(list(entries), latency=latency, progress=progress, **options)


# -- measurements (torch) -----------------------------------------------------------------------------------


def crosscheck(net: Net | Plan, batch: int = 1, *, max_memory=None, **overrides) -> CheckReport:
    """Build the network and compare every layer's counts with fvcore and thop (imports torch, fvcore, thop).
    Refused first when it would not fit in memory (``max_memory``: "4G" instead of what is available)."""
    from archlab.nn.tools import crosscheck as run

    p = net if isinstance(net, Plan) else plan(net, **overrides)
    resources.guard(resources.crosscheck_need(p, batch), max_memory)
    return run(p, batch)


def ceilings(threads: int | None = None, *, remeasure: bool = False) -> Ceilings:
    """The machine's peak GFLOP/s and memory bandwidth at ``threads`` (default: torch's; cached per machine)."""
    from archlab.nn.ceilings import ceilings as measured

    return measured(resources.usable_threads(threads), remeasure=remeasure)


def latency(
    net: Net | Plan,
    *,
    runtime: str = "eager",
    threads: int | None = None,
    batch: int = 1,
    channels_last: bool = False,
    budget: float = 10.0,
    remeasure: bool = False,
    max_memory=None,
    **overrides,
) -> LatencyReport:
    """Where the time goes: per-layer and per-row latency against the machine's ceilings (``profile --latency``).
    Refused first when it would not fit in memory; ``threads`` above the usable CPUs are capped (a note)."""
    from archlab.nn.layer_latency import measure_against_ceilings

    p = net if isinstance(net, Plan) else plan(net, **overrides)
    threads = resources.guard(resources.latency_need(p, batch, runtime), max_memory, threads)
    return measure_against_ceilings(
        p,
        runtime=runtime,
        threads=threads,
        batch=batch,
        channels_last=channels_last,
        budget_s=budget,
        remeasure=remeasure,
    )


def rf(
    net: Net,
    *,
    heads=HEADS,
    samples: int = 8,
    seed: int = 0,
    weights=None,
    key_map=None,
    image=None,
    units=None,
    progress: Callable[[int, int, str], Any] | None = None,
    max_memory=None,
    **overrides,
) -> RFStudy:
    """Effective receptive fields at FMap-end and the embedding-head study (``archlab rf``; imports torch).
    Refused first when it would not fit in memory (``max_memory``: "4G" instead of what is available)."""
    from archlab.studies.rf import rf_study

    resources.guard(
        resources.rf_need(plan(net, **overrides), units=units, heads=len(heads), samples=samples), max_memory
    )

    return rf_study(
        net,
        heads=heads,
        samples=samples,
        seed=seed,
        weights=weights,
        key_map=key_map,
        image=image,
        units=units,
        progress=progress,
        **overrides,
    )


def sweep(
    net: str | SweepOptions,
    *,
    out: str | Path | None = None,
    fresh: bool = False,
    progress=None,
    baseline: str | dict | None = None,
    max_memory=None,
    **grid,
) -> SweepResult:
    """A latency sweep over a grid of configurations, resumable in ``out`` (``archlab sweep``).

    ``grid``: the :class:`archlab.studies.sweep.SweepOptions` fields (widths, stems, inputs, heads, threads,
    batches, runtimes, channels_last, budget, target, warmup, seed, ...); ``baseline``: ``"width=1.0,stem=2"`` or
    a mapping. Or pass a ready ``SweepOptions`` as ``net``. Refused first when the grid's networks would not fit
    in memory (``max_memory``); thread counts above the usable CPUs are capped (a note)."""
    from archlab.studies.sweep import SweepOptions, make_grid, parse_baseline, run_sweep

    if isinstance(net, SweepOptions):
        options = net
    else:
        base = parse_baseline(baseline) if isinstance(baseline, str) or baseline is None else dict(baseline)
        options = SweepOptions(net=str(net), baseline=base, **grid)
    options.threads = resources.sweep_threads(options.threads)
    resources.guard_sweep(make_grid(options), max_memory)
    return run_sweep(options, out=out, fresh=fresh, progress=progress)


def export(
    net: Net | Plan,
    *,
    onnx: str | Path | None = None,
    torchscript: str | Path | None = None,
    fold_bn: bool = False,
    channels_last: bool = False,
    batch: int = 1,
    weights=None,
    key_map=None,
    exporter: str = "dynamo",
    max_memory=None,
    **overrides,
) -> ExportReport:
    """The deployable network as ONNX and/or TorchScript, checked (``archlab export``). Refused first when it
    would not fit in memory (``max_memory``: "4G" instead of what is available)."""
    from archlab.nn.export import export as run

    p = net if isinstance(net, Plan) else plan(net, **overrides)
    resources.guard(resources.export_need(p, batch), max_memory)
    return run(
        p,
        onnx=onnx,
        torchscript=torchscript,
        fold_bn=fold_bn,
        channels_last=channels_last,
        batch=batch,
        weights=weights,
        key_map=key_map,
        exporter=exporter,
    )


def report(net: Net, *, quick: bool = False, progress: Callable[[str], Any] | None = None, **options) -> Study:
    """The MobileFaceNets study of one network (``archlab report``; imports torch for the receptive fields).
    Render it with :func:`archlab.render.report_page.report_document`."""
    from archlab.studies.report_study import run_study

    if "threads" in options:
        options["threads"] = resources.usable_threads(options["threads"])
    return run_study(str(net), quick=quick, progress=progress, **options)
