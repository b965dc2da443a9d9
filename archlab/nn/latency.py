"""Per-layer latency in any runtime: the instrumented pass for the eager runtimes
(:func:`archlab.nn.layer_latency.measure`), the profilers for TorchScript and ONNX Runtime and end to end only
for ``compile`` (:func:`archlab.nn.profiled_layers.measure_profiled`); with the machine's ceilings."""

from __future__ import annotations

from archlab.errors import OptionError
from archlab.ir.plan import Plan
from archlab.nn.layer_latency import ALL_RUNTIMES, DEFAULT_THREADS, RUNTIMES, measure
from archlab.static.roofline import Ceilings
from archlab.timing.anatomy import LatencyReport
from archlab.timing.progress import Progress
from archlab.timing.rounds import clock_for


def latency(
    plan: Plan,
    *,
    runtime: str = "eager",
    threads: int | None = None,
    ceilings: Ceilings | None = None,
    **options,
) -> LatencyReport:
    """Per-layer latency of ``plan`` in any runtime (see the module docstring); ``options`` as :func:`measure`."""
    if runtime in RUNTIMES:
        return measure(plan, runtime=runtime, threads=threads, ceilings=ceilings, **options)
    if runtime not in ALL_RUNTIMES:
        raise OptionError(f"--runtime: one of {', '.join(ALL_RUNTIMES)}, not {runtime!r}")
    from archlab.nn.profiled_layers import measure_profiled

    return measure_profiled(plan, runtime=runtime, threads=threads, ceilings=ceilings, **options)


def measure_against_ceilings(
    plan: Plan, *, threads: int | None = None, remeasure: bool = False, progress: Progress | None = None, **options
) -> LatencyReport:
    """:func:`latency` with the machine's ceilings at the same thread count (cached; ``remeasure`` to refresh).
    ``progress``: the stage ``ceilings`` (1 step), then the measurement's."""
    from archlab.nn.ceilings import ceilings

    runtime = options.get("runtime", "eager")
    if runtime not in ALL_RUNTIMES:  # before the ceilings, which may take seconds to measure
        raise OptionError(f"--runtime: one of {', '.join(ALL_RUNTIMES)}, not {runtime!r}")
    n = threads or DEFAULT_THREADS
    clock_for(n, options.get("clock", "auto"))  # an unknown clock, or cpu at >= 2 threads: refused before the ceilings
    if progress is not None:
        progress(0, 1, f"ceilings: peak GFLOP/s and bandwidth at {n} thread(s) (cached per machine)")
    ceil = ceilings(n, remeasure=remeasure)
    if progress is not None:
        progress(1, 1, "ceilings: done")
    return latency(plan, threads=threads, ceilings=ceil, progress=progress, **options)
