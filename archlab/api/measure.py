"""Building and measuring networks (imports torch): the build, the cross-check, the ceilings, latency,
runtimes, deploy and export. Each is refused first when its estimated peak memory does not fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archlab.api.tables import Net, plan
from archlab.errors import OptionError
from archlab.ir.plan import Plan
from archlab.spec.table import NetSpec
from archlab.timing import resources

if TYPE_CHECKING:  # result types, for readers and type checkers only
    from archlab.nn.export import ExportReport
    from archlab.static.crosscheck import CheckReport
    from archlab.static.roofline import Ceilings
    from archlab.studies.deploy import DeployResult
    from archlab.timing.anatomy import LatencyReport
    from archlab.timing.runtime_table import RuntimeTable


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
        net=net.name if isinstance(net, NetSpec) else str(net) if isinstance(net, (str, Path)) else net,
        runtimes=tuple(runtimes) if runtimes else None,
        threads=threads,
        batch=batch,
        budget=budget,
        progress=progress,
        clock=clock,
    )


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
    is dynamic and PReLU is written as max(x, a*x) when its slopes lie in [0, 1], else relu(x) + a*min(x, 0)
    (``prelu='keep'``: ONNX PRelu nodes); the report holds the ONNX graph's op histogram before and after ONNX
    Runtime's optimiser."""
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
