"""The Python API: one function for every command; the CLI is a thin layer over it.

``net`` is a shipped network name (``mobilefacenet``), a path to a YAML table, a :class:`NetSpec`, or a torch
module: an ``nn.Module`` or a ``FILE.py:CALLABLE`` / ``package.module:CALLABLE`` source (traced,
:func:`trace`); ``**overrides`` are the table overrides (``input``, ``width``, ``stem_stride``, ``stem_pool``,
``head``, ``embedding``, ``classes``; :mod:`archlab.ir.overrides`); a module takes ``input`` only (the others
need a table: :func:`extract`). ``strict=True`` refuses networks with ops archlab has no rule for. Functions
that need torch import it themselves; for tables ``plan``, ``profile``, ``memory``, ``lint``, ``diff`` and
``compare`` (without latency) never do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archlab.errors import OptionError
from archlab.ir.expand import expand
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
    from archlab.studies.deploy import DeployResult
    from archlab.studies.heads import HeadsStudy
    from archlab.studies.report_study import Study
    from archlab.studies.sweep import SweepResult
    from archlab.timing.anatomy import LatencyReport
    from archlab.timing.runtime_table import RuntimeTable

Net = str | Path | NetSpec | Any  # ... or a torch.nn.Module
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
    "heads",
    "extract",
    "latency",
    "lint",
    "load_module",
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
    "trace",
    "units",
    "weights_map",
]


# -- tables and plans ---------------------------------------------------------------------------------------


def load_table(net: Net) -> NetSpec:
    """Read and validate a table: a shipped network name (``mobilefacenet``) or a path to a YAML file."""
    from archlab.studies.sources import module_of, table_of

    if not isinstance(net, (str, Path, NetSpec)) and module_of(net) is not None:
        raise OptionError(f"a {type(net).__name__} module is not a table: archlab.extract(module, input=...) makes one")
    return table_of(net)


def plan(net: Net, *, strict: bool = False, **overrides) -> Plan:
    """Expand a table into primitive layers (no torch), or trace a module (:func:`trace`)."""
    from archlab.studies.sources import plan_of

    return plan_of(net, strict=strict, **overrides)


def load_module(source: str, args: list[str] | dict | None = None):
    """The ``nn.Module`` of ``FILE.py:CALLABLE`` / ``package.module:CALLABLE``, called with ``args`` (``--arg``)."""
    from archlab.nn.model_source import load_module as load

    return load(source, args)


def trace(module, input=None, *, name: str | None = None, strict: bool = False) -> Plan:
    """The plan of a torch module (or source) at ``input`` ((H, W), (C, H, W), ``"224x224"``): :mod:`archlab.nn.trace`;
    ops without a rule are listed (``Plan.uncounted()``) and refused with ``strict``."""
    from archlab.nn.trace import trace as run
    from archlab.studies.sources import the_module

    return run(the_module(module), input, name=name, strict=strict)


def extract(module, input=None, *, out: str | Path | None = None, name: str | None = None) -> NetSpec:
    """A torch module (or source) as a layer table, written to ``out`` (YAML) when given: same layers, params,
    MAdds and shapes; ``build(table, weights=module, key_map="auto")`` runs like it (:mod:`archlab.studies.extract`)."""
    from archlab.studies.extract import extract as run
    from archlab.studies.sources import the_module

    return run(the_module(module), input, out=out, name=name)


def weights_map(source, net: Net, *, out: str | Path | None = None, **overrides) -> dict:
    """What ``key_map="auto"`` maps (checkpoint key -> network key) from ``source`` (checkpoint, state_dict or
    nn.Module) to ``net``'s build; written as YAML to ``out`` when given."""
    from archlab.nn.key_map import weights_map as find

    return find(source, plan(net, **overrides), out=out)


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


def build(net: Net | Plan, *, fold_bn: bool = False, weights=None, key_map=None, inplace: bool = True, **overrides):
    """Build the network as an ``nn.Module`` whose module paths equal the plan's layer names.

    ``weights``: a checkpoint path, a state_dict or an nn.Module to load (strictly), its keys renamed by
    ``key_map``: ``"auto"`` (matched by module order and shapes, :mod:`archlab.nn.key_map`), a key-map file or
    None. ``fold_bn=True``: the deployed form, in eval mode: every BN that follows a conv/linear is folded into
    its weights and removed (:mod:`archlab.nn.fold`); its parameter count is the plan's ``params_deployed``.
    ``inplace=True`` (inference): ReLU/ReLU6/hard-swish in place where their input has one reader
    (:func:`archlab.nn.build.inplace_layers`); ``inplace=False`` for training code that needs every tensor."""
    from archlab.nn.build import build_plan

    the_plan = net if isinstance(net, Plan) else plan(net, **overrides)
    module = build_plan(the_plan, inplace=inplace)
    if weights is not None:
        from archlab.nn.key_map import load_weights

        load_weights(module, weights, key_map, what=f"network {the_plan.model}", plan=the_plan)
    elif key_map is not None:
        raise OptionError("key_map renames the keys of weights; give weights too")
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


def profile(net: Net | Plan, *, strict: bool = False, **overrides) -> Profile:
    """Per-layer and per-row parameters, MAdds, other ops and activations (``archlab.ir.ops.CONVENTIONS``); a
    traced module's ops without a rule are listed (``Profile.uncounted``)."""
    from archlab.static.counts import Profile
    from archlab.studies.sources import module_of, plan_of

    if isinstance(net, Plan) or module_of(net) is not None:
        return Profile.from_plan(plan_of(net, strict=strict, **overrides))
    spec = load_table(net)
    return Profile.from_plan(plan_of(spec, strict=strict, **overrides), spec)


def memory(net: Net | Plan, batch: int = 1, *, strict: bool = False, **overrides) -> MemoryReport:
    """Per-layer output bytes, peak activation memory of inference and weight bytes (no torch for tables)."""
    from archlab.static.memory import memory as plan_memory

    return plan_memory(plan(net, strict=strict, **overrides), batch)


def lint(net: Net | Plan, *, strict: bool = False, **overrides) -> list[Finding]:
    """Architecture smells, each naming its table row (``archlab lint``)."""
    from archlab.static.lint import lint_plan

    return lint_plan(plan(net, strict=strict, **overrides))


def output_fields(net: Net | Plan, *, strict: bool = False, **overrides) -> list[OutputField]:
    """The theoretical receptive field of every network output (a detector's prediction heads)."""
    from archlab.static.receptive import output_fields as fields

    return fields(plan(net, strict=strict, **overrides))


def diff(a: Net, b: Net, a_options: dict | list[str] | None = None, b_options: dict | list[str] | None = None) -> Diff:
    """Row-by-row comparison of two networks, or of one network under two option sets. Options: API keywords, or
    ``KEY=VALUE`` strings (``["input=112x96"]``)."""
    from archlab.ir.overrides import parse_pairs
    from archlab.static.diff import diff as run

    def options(given, where):
        return parse_pairs(given, where) if isinstance(given, list) else dict(given or {})

    from archlab.studies.sources import label_of

    return run(
        profile(a, **options(a_options, "--a-option")),
        profile(b, **options(b_options, "B's options")),
        label_of(a),
        label_of(b),
    )


def entries(nets: list[str], variants: list[str] | None = None) -> list:
    """Comparison entries from ``NAME[:key=value,...]`` texts: the networks, then the ``--variant`` ones."""
    from archlab.errors import OptionError
    from archlab.ir.overrides import parse_entry

    out = [parse_entry(n, "entry") for n in nets] + [parse_entry(v, "--variant") for v in variants or []]
    if not out:
        raise OptionError("give at least one network (NAME ...) or --variant NAME:key=value")
    return out


def compare(
    *entries,
    latency: bool = False,
    progress: Callable[..., Any] | None = None,
    input=None,
    strict: bool = False,
    **options,
) -> Comparison:
    """Networks or variants side by side: ``archlab.compare("mobilefacenet", "mobilefacenet:head=gap")``.
    One record per entry (``NAME[:key=value,...]``, a torch module or ``FILE.py:CALLABLE``, traced at ``input``);
    ``latency=True`` also times them (imports torch). ``progress(done, total, what)``:
    :mod:`archlab.timing.progress` (the latency's stages)."""
    from archlab.studies.compare import compare as run
    from archlab.studies.sources import traced_entries

    if "threads" in options:
        options["threads"] = resources.usable_threads(options["threads"])
    return run(traced_entries(entries, input, strict), latency=latency, progress=progress, **options)


# -- measurements (torch) -----------------------------------------------------------------------------------


def crosscheck(
    net: Net | Plan,
    batch: int = 1,
    *,
    strict: bool = False,
    progress: Callable[[int, int, str], Any] | None = None,
    max_memory=None,
    **overrides,
) -> CheckReport:
    """Build the network and compare every layer's counts with fvcore and thop (imports torch, fvcore, thop).
    A traced module is built from its own layers, so the tools count the module's modules by module path.
    Refused first when it would not fit in memory (``max_memory``: "4G" instead of what is available).
    ``progress(done, total, what)``: :mod:`archlab.timing.progress`."""
    from archlab.nn.tools import crosscheck as run

    p = plan(net, strict=strict, **overrides)
    resources.guard(resources.crosscheck_need(p, batch), max_memory)
    return run(p, batch, progress=progress)


def ceilings(threads: int | None = None, *, remeasure: bool = False) -> Ceilings:
    """The machine's peak GFLOP/s and copy bandwidth per memory level at ``threads`` (default: torch's), cached
    per machine and measured again when older than a day (the record says when and at what load)."""
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
    progress: Callable[[int, int, str], Any] | None = None,
    strict: bool = False,
    max_memory=None,
    clock: str = "auto",
    **overrides,
) -> LatencyReport:
    """Where the time goes: per-layer and per-row latency against each layer's bound (``profile --latency``).

    ``runtime``: eager | folded | channels-last (the instrumented pass), torchscript | onnxruntime (their
    profilers), compile (end to end only). ``threads``: None = 1 (the output says why); ``clock``: auto (the
    per-thread CPU clock at 1 thread, wall otherwise), cpu or wall. A traced module runs its own layers. Refused
    first when it would not fit in memory; ``threads`` above the usable CPUs are capped (a note).
    ``progress(done, total, what)``: :mod:`archlab.timing.progress`."""
    from archlab.nn.latency import measure_against_ceilings

    p = plan(net, strict=strict, **overrides)
    threads = resources.guard(resources.latency_need(p, batch, runtime), max_memory, threads)
    return measure_against_ceilings(
        p,
        runtime=runtime,
        threads=threads,
        batch=batch,
        channels_last=channels_last,
        budget_s=budget,
        remeasure=remeasure,
        progress=progress,
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
    progress: Callable[[int, int, str], Any] | None = None,
    strict: bool = False,
    max_memory=None,
    **overrides,
) -> RuntimeTable:
    """Every runtime (default: all that run here) end to end in interleaved rounds, with ratios to eager and CIs.
    ``progress(done, total, what)``: :mod:`archlab.timing.progress`. Refused first when it would not fit in memory."""
    from archlab.nn.runtime_table import measure_runtimes

    p = plan(net, strict=strict, **overrides)
    threads = resources.guard(resources.runtimes_need(p, batch, runtimes), max_memory, threads) or 1
    table, _ = measure_runtimes(
        p,
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
    progress: Callable[[int, int, str], Any] | None = None,
    strict: bool = False,
    max_memory=None,
    **overrides,
) -> DeployResult:
    """Pick the fastest runtime for this machine and write it into the folder ``out`` (``archlab deploy NAME``),
    with the per-runtime table as its evidence (``NAME.deploy.json``). ``progress(done, total, what)``:
    :mod:`archlab.timing.progress`. Refused first when it would not fit in memory."""
    from archlab.studies.deploy import deploy as run

    p = plan(net, strict=strict, **overrides)
    threads = resources.guard(resources.runtimes_need(p, batch, runtimes), max_memory, threads) or 1
    return run(
        p,
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
    heads=None,
    samples: int = 8,
    seed: int = 0,
    weights=None,
    key_map=None,
    image=None,
    units=None,
    progress: Callable[[int, int, str], Any] | None = None,
    method: str = "real",
    erf: str = "abs",
    fmap_end: str | None = None,
    strict: bool = False,
    max_memory=None,
    **overrides,
) -> RFStudy:
    """Effective receptive fields at FMap-end and the embedding-head study (``archlab rf``; imports torch).
    ``method``: ``real`` (the network as it runs) or ``canvas``; ``erf``: ``abs`` or ``grad2``; ``image``:
    ``faces`` (default), ``noise``, ``lfw``, a path or an array (:mod:`archlab.studies.rf_probes`).
    ``heads``: default all (gdconv, gap, fc) for a table, none for a module (the study swaps a table's head);
    ``fmap_end``: the layer that is FMap-end (default: the head's input, else the last map larger than 1x1).
    Refused first when it would not fit in memory (``max_memory``: "4G" instead of what is available)."""
    from archlab.studies.rf import rf_study
    from archlab.studies.sources import module_of

    n_heads = len(heads) if heads is not None else (0 if module_of(net) is not None else 3)
    need = resources.rf_need(plan(net, strict=strict, **overrides), units=units, heads=n_heads, samples=samples)
    resources.guard(need, max_memory)
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
        method=method,
        erf=erf,
        fmap_end=fmap_end,
        strict=strict,
        **overrides,
    )


def heads(
    net: str = "mobilefacenet",
    *,
    width: float | None = None,
    steps: int | None = None,
    seeds: int | None = None,
    heads=("gap", "gdconv", "fc"),
    out: str | Path | None = None,
    workers: int = 1,
    quick: bool = False,
    progress: Callable[[int, int, str], Any] | None = None,
    **settings,
) -> HeadsStudy:
    """The learned head study (``archlab heads``; imports torch): GAP, GDConv and FC heads trained from one
    backbone initialisation per seed on procedurally drawn faces, verified on held-out identities.

    Defaults: width 0.125, 600 steps, 3 seeds; ``quick``: :data:`archlab.studies.heads.config.QUICK` (one
    seed, fewer steps, fewer faces) for what is not given. ``out``: resumable by (seed, head); the trained
    state_dicts (``seed<S>/<head>.pt``) load strictly into ``build(net, width=width, head=<head>)``, and a grid
    of the drawn faces is written there. ``settings``: other :class:`archlab.studies.heads.HeadsConfig` fields."""
    from archlab.errors import OptionError
    from archlab.studies.heads import HeadsConfig, run_heads_study
    from archlab.studies.heads.config import QUICK
    from archlab.studies.heads.storage import save_face_grids

    base = dict(QUICK) if quick else {"steps": 600, "seeds": 3}
    given = {"steps": steps, "seeds": seeds, **settings}
    merged = {**base, **{k: v for k, v in given.items() if v is not None}}
    if workers < 1:
        raise OptionError(f"--workers must be >= 1, got {workers}")
    try:
        study = run_heads_study(
            str(net),
            width=0.125 if width is None else width,
            heads=heads,
            out=out,
            progress=progress,
            workers=workers,
            **merged,
        )
    except ValueError as e:
        raise OptionError(str(e)) from None
    study.quick = quick
    if out is not None:
        study.files = save_face_grids(out, HeadsConfig.from_dict(study.config))
    return study


def sweep(
    net,
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
    a mapping. Or pass a ready ``SweepOptions`` as ``net``. A torch module (or ``FILE.py:CALLABLE``) sweeps
    inputs, threads, batches and runtimes only (width, stem and head need a table). Refused first when the
    grid's networks would not fit in memory (``max_memory``); thread counts above the usable CPUs are capped."""
    from archlab.studies.sources import model_name, module_of
    from archlab.studies.sweep import SweepOptions, make_grid, parse_baseline, run_sweep

    if isinstance(net, SweepOptions):
        options = net
    else:
        base = parse_baseline(baseline) if isinstance(baseline, str) or baseline is None else dict(baseline)
        module = module_of(net)
        label = model_name(net) if module is not None else str(net)
        options = SweepOptions(net=label, baseline=base, module=module, **grid)
    options.threads = resources.sweep_threads(options.threads)
    resources.guard_sweep(make_grid(options), max_memory)
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
    progress: Callable[[int, int, str], Any] | None = None,
    strict: bool = False,
    max_memory=None,
    **overrides,
) -> ExportReport:
    """The deployable network as ONNX and/or TorchScript, checked (``archlab export``). ``weights`` (a checkpoint,
    a state_dict or an nn.Module) loads strictly, renamed by ``key_map`` (``"auto"``, a file or None). Refused
    first when it would not fit in memory (``max_memory``: "4G" instead of what is available).
    ``progress(done, total, what)``: :mod:`archlab.timing.progress`. By default BN is folded, the batch axis
    is dynamic and PReLU is written as relu + a*min (``prelu='keep'``: ONNX PRelu nodes); the report holds the
    ONNX graph's op histogram before and after ONNX Runtime's optimiser."""
    from archlab.nn.export import export as run

    p = plan(net, strict=strict, **overrides)
    resources.guard(resources.export_need(p, batch), max_memory)
    return run(
        p,
        onnx=onnx,
        torchscript=torchscript,
        fold_bn=fold_bn,
        channels_last=channels_last,
        batch=batch,
        dynamic_batch=dynamic_batch,
        weights=weights,
        key_map=key_map,
        exporter=exporter,
        progress=progress,
        prelu=prelu,
    )


def report(net: Net, *, quick: bool = False, progress: Callable[..., Any] | None = None, **options) -> Study:
    """The MobileFaceNets study of one network (``archlab report``; imports torch for the receptive fields).
    Render it with :func:`archlab.render.report_page.report_document`. A table only (its heads are varied).
    ``progress(done, total, what)``: its stages (:mod:`archlab.timing.progress`)."""
    from archlab.studies.report_study import run_study
    from archlab.studies.sources import module_of

    if not isinstance(net, (str, Path)) or module_of(net) is not None:
        raise OptionError("archlab report studies a table (its heads and widths): run `archlab extract` first")

    if "threads" in options:
        options["threads"] = resources.usable_threads(options["threads"])
    return run_study(str(net), quick=quick, progress=progress, **options)
