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
    from archlab.studies.deploy import DeployResult
    from archlab.studies.report_study import Study
    from archlab.studies.sweep import SweepOptions, SweepResult
    from archlab.timing.anatomy import LatencyReport
    from archlab.timing.runtime_table import RuntimeTable

Net = str | Path | NetSpec
__all__ = [
    "HEADS",
    "build",
    "ceilings",
    "compare",
    "crosscheck",
    "deploy",
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
    "runtime_table",
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
    from archlab.spec.table import load_table as read
    from archlab.spec.table import table_errors as errors_of

    file = resolve(str(path))
    errors = errors_of(file)
    result = None
    if not errors:
        try:
            result = expand(read(file))  # shape errors: the first one (later shapes depend on it)
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


def build(net: Net | Plan, *, fold_bn: bool = False, inplace: bool = True, **overrides):
    """Build the network as an ``nn.Module`` whose module paths equal the plan's layer names.

    ``fold_bn=True``: the deployed form, in eval mode: every BN that follows a conv/linear is folded into its
    weights and removed (:mod:`archlab.nn.fold`); its parameter count is the plan's ``params_deployed``.
    ``inplace=True`` (inference): ReLU/ReLU6/hard-swish in place where their input has one reader
    (:func:`archlab.nn.build.inplace_layers`); ``inplace=False`` for training code that needs every tensor."""
    from archlab.nn.build import build_plan

    module = build_plan(net if isinstance(net, Plan) else plan(net, **overrides), inplace=inplace)
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

    return run(list(entries), latency=latency, progress=progress, **options)


# -- measurements (torch) -----------------------------------------------------------------------------------


def crosscheck(net: Net | Plan, batch: int = 1, **overrides) -> CheckReport:
    """Build the network and compare every layer's counts with fvcore and thop (imports torch, fvcore, thop)."""
    from archlab.nn.tools import crosscheck as run

    return run(net if isinstance(net, Plan) else plan(net, **overrides), batch)


def ceilings(threads: int | None = None, *, remeasure: bool = False) -> Ceilings:
    """The machine's peak GFLOP/s and copy bandwidth per memory level at ``threads`` (default: torch's), cached
    per machine and measured again when older than a day (the record says when and at what load)."""
    from archlab.nn.ceilings import ceilings as measured

    return measured(threads, remeasure=remeasure)


def latency(
    net: Net | Plan,
    *,
    runtime: str = "eager",
    threads: int | None = None,
    batch: int = 1,
    channels_last: bool = False,
    budget: float = 10.0,
    remeasure: bool = False,
    clock: str = "auto",
    **overrides,
) -> LatencyReport:
    """Where the time goes: per-layer and per-row latency against each layer's bound (``profile --latency``).

    ``runtime``: eager | folded | channels-last (the instrumented pass), torchscript | onnxruntime (their
    profilers), compile (end to end only). ``threads``: None = 1 (the output says why)."""
    from archlab.nn.latency import measure_against_ceilings

    return measure_against_ceilings(
        net if isinstance(net, Plan) else plan(net, **overrides),
        runtime=runtime,
        threads=threads,
        batch=batch,
        channels_last=channels_last,
        budget_s=budget,
        remeasure=remeasure,
        clock=clock,
    )


def runtime_table(
    net: Net | Plan,
    *,
    runtimes: tuple[str, ...] | list[str] | None = None,
    threads: int = 1,
    batch: int = 1,
    budget: float = 60.0,
    clock: str = "auto",
    progress: Callable[[str], Any] | None = None,
    **overrides,
) -> RuntimeTable:
    """Every runtime (default: all that run here) end to end in interleaved rounds, with ratios to eager and CIs."""
    from archlab.nn.runtime_table import measure_runtimes

    table, _ = measure_runtimes(
        net if isinstance(net, Plan) else plan(net, **overrides),
        runtimes=tuple(runtimes) if runtimes else None,
        threads=threads,
        batch=batch,
        budget_s=budget,
        progress=progress,
        clock=clock,
    )
    return table


def deploy(
    net: Net,
    *,
    out: str | Path = ".",
    runtimes: tuple[str, ...] | list[str] | None = None,
    threads: int = 1,
    batch: int = 1,
    budget: float = 60.0,
    clock: str = "auto",
    progress: Callable[[str], Any] | None = None,
    **overrides,
) -> DeployResult:
    """Pick the fastest runtime for this machine and write it into the folder ``out`` (``archlab deploy NAME``),
    with the per-runtime table as its evidence (``NAME.deploy.json``)."""
    from archlab.studies.deploy import deploy as run

    return run(
        plan(net, **overrides),
        out=out,
        net=str(net) if not isinstance(net, NetSpec) else net.name,
        runtimes=tuple(runtimes) if runtimes else None,
        threads=threads,
        batch=batch,
        budget=budget,
        progress=progress,
        clock=clock,
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
    **overrides,
) -> RFStudy:
    """Effective receptive fields at FMap-end and the embedding-head study (``archlab rf``; imports torch)."""
    from archlab.studies.rf import rf_study

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
    **grid,
) -> SweepResult:
    """A latency sweep over a grid of configurations, resumable in ``out`` (``archlab sweep``).

    ``grid``: the :class:`archlab.studies.sweep.SweepOptions` fields (widths, stems, inputs, heads, threads,
    batches, runtimes, channels_last, budget, target, warmup, seed, ...); ``baseline``: ``"width=1.0,stem=2"`` or
    a mapping. Or pass a ready ``SweepOptions`` as ``net``."""
    from archlab.studies.sweep import SweepOptions, parse_baseline, run_sweep

    if isinstance(net, SweepOptions):
        options = net
    else:
        base = parse_baseline(baseline) if isinstance(baseline, str) or baseline is None else dict(baseline)
        options = SweepOptions(net=str(net), baseline=base, **grid)
    return run_sweep(options, out=out, fresh=fresh, progress=progress)


def export(
    net: Net | Plan,
    *,
    onnx: str | Path | None = None,
    torchscript: str | Path | None = None,
    fold_bn: bool = True,
    channels_last: bool = False,
    batch: int = 1,
    dynamic_batch: bool = True,
    weights=None,
    key_map=None,
    exporter: str = "dynamo",
    prelu: str = "decomposed",
    **overrides,
) -> ExportReport:
    """The deployable network as ONNX and/or TorchScript, checked (``archlab export``): BN folded, a dynamic batch
    axis, the ONNX graph's op histogram; ``prelu='keep'`` exports ONNX PRelu nodes instead of relu + a*min."""
    from archlab.nn.export import export as run

    return run(
        net if isinstance(net, Plan) else plan(net, **overrides),
        onnx=onnx,
        torchscript=torchscript,
        fold_bn=fold_bn,
        channels_last=channels_last,
        batch=batch,
        dynamic_batch=dynamic_batch,
        weights=weights,
        key_map=key_map,
        exporter=exporter,
        prelu=prelu,
    )


def report(net: Net, *, quick: bool = False, progress: Callable[[str], Any] | None = None, **options) -> Study:
    """The MobileFaceNets study of one network (``archlab report``; imports torch for the receptive fields).
    Render it with :func:`archlab.render.report_page.report_document`."""
    from archlab.studies.report_study import run_study

    return run_study(str(net), quick=quick, progress=progress, **options)
