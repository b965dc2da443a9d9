"""`archlab profile`: per-row or per-layer parameters, MAdds, other ops and activations."""

from __future__ import annotations

from archlab.cli.common import Depth, Format, FormatOpt, NetArg, OutputOpt, user_errors, with_overrides
from archlab.cli.profile_extras import CHECK_HELP, BatchOpt, CheckOpt, UnitsChoice, UnitsOpt
from archlab.cli.profile_latency import (
    LATENCY_HELP,
    BudgetOpt,
    ChannelsLastOpt,
    LatencyOpt,
    LayerRuntime,
    RemeasureOpt,
    RooflineOpt,
    RuntimeOpt,
    ThreadsOpt,
)

HELP = (
    """Per-row (or per-layer) parameters, MAdds, other ops and activations of a network, from its table.

\b
Conventions (README "Conventions"; compared with fvcore, thop, ptflops and
torchinfo: README "Conventions compared"):
  madds       multiply-adds of conv and linear layers, bias not counted
              (MobileNet papers)
  other_ops   BN 2/element, activation 1/element, residual add 1/element,
              SE scale 1/element, avg pool 1/input element,
              max-pool k*k-1/output element
  activations output elements of conv and linear layers (fvcore's rule)
  params      trainable; params_deployed: BN folded into the conv/linear
              before it
"""
    + CHECK_HELP
    + LATENCY_HELP
)
EPILOG = "Example: archlab profile mobilefacenet --width 0.5 --input 112x96 --depth layer --format json"


@user_errors
@with_overrides
def profile(
    net: NetArg,
    overrides: dict | None = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    depth: Depth = Depth.row,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    check: CheckOpt = False,
    units: UnitsOpt = UnitsChoice.madds,
    batch: BatchOpt = 1,
    latency: LatencyOpt = False,
    threads: ThreadsOpt = None,
    runtime: RuntimeOpt = LayerRuntime.eager,
    channels_last: ChannelsLastOpt = False,
    budget: BudgetOpt = 10.0,
    remeasure: RemeasureOpt = False,
    roofline: RooflineOpt = None,
) -> None:
    import archlab
    from archlab.cli import profile_extras, profile_latency

    if not profile_latency.wanted(latency, roofline):
        profile_latency.reject_unused(threads, runtime, channels_last, budget, remeasure, 10.0)
    prof = archlab.profile(net, **(overrides or {}))
    fmt = format.value if hasattr(format, "value") else format
    if profile_latency.wanted(latency, roofline):
        return profile_latency.run(
            prof,
            depth.value,
            fmt,
            str(output) if output else None,
            batch=batch,
            threads=threads,
            runtime=runtime,
            channels_last=channels_last,
            budget=budget,
            remeasure=remeasure,
            roofline=roofline,
            check=check,
        )
    profile_extras.run(prof, depth.value, fmt, str(output) if output else None, units=units, batch=batch, check=check)
