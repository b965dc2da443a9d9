"""`archlab profile`: per-row or per-layer parameters, MAdds, other ops and activations; --check; --latency."""

from __future__ import annotations

import click

from archlab.cli import profile_latency
from archlab.cli.common import (
    Count,
    command,
    emit,
    fail,
    format_option,
    net_argument,
    output_option,
    output_path,
    override_options,
    source_options,
    units_option,
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

\b
--check   build the network (eval mode), run fvcore and thop, join their
          per-module counts to the plan's layers by name. Conv/linear
          MAdds, activations and params must agree exactly (else exit 1,
          naming the layer); any other difference must be the tool's rule:
          fvcore BN 2/element, PReLU/ReLU6/add/max-pool unsupported (listed);
          thop BN 4/element, PReLU 1/element, pools on inputs and outputs;
          neither counts residual adds.
--units   flops = 2 x MAdds;  --batch N: counts per batch of N images.
Memory    peak activation bytes (tensors freed after their last reader,
          residual inputs kept), model bytes fp32/fp16/int8: README "Memory".
"""
    + profile_latency.HELP
)
EPILOG = (
    "Example: archlab profile mobilefacenet --width 0.5 --input 112x96 --depth layer --format json\n\n"
    "  a torch module: archlab profile examples/models/resnet.py:resnet18 --arg num_classes=10 --input 224x224"
)


@command("profile", HELP, EPILOG)
@net_argument()
@override_options
@click.option(
    "--depth",
    type=click.Choice(("row", "layer")),
    default="row",
    show_default=True,
    help="one line per table row or per layer",
)
@format_option()
@output_option
@click.option(
    "--check",
    is_flag=True,
    help="build the network and cross-check every layer with fvcore and thop; exit 1 on a disagreement",
)
@units_option
@click.option(
    "--batch",
    type=Count(),
    default=1,
    show_default=True,
    help="count per batch of N images (per-image figures alongside)",
)
@profile_latency.options
@source_options
def profile(
    net: str,
    overrides: dict,
    depth: str,
    fmt: str,
    output: str | None,
    check: bool,
    units: str,
    batch: int,
    latency: dict,
    strict: bool,
) -> None:
    from archlab import api

    prof = api.profile(net, strict=strict, **overrides)
    if latency:
        return profile_latency.run(prof, depth, fmt, output_path(output), batch=batch, check=check, **latency)
    _counts(api, prof, depth, fmt, output, units, batch, check)


def _counts(api, prof, depth: str, fmt: str, output: str | None, units: str, batch: int, check: bool) -> None:
    """Render a profile with units, memory and (optionally) the cross-check; exit 1 when the check fails."""
    from archlab.render.profile import profile_view

    u = api.units(units, batch)
    report = api.crosscheck(prof.plan, u.batch) if check else None
    tables, data, header = profile_view(prof, depth, api.memory(prof.plan, u.batch), api.lint(prof.plan), u, report)
    if fmt == "csv" and report is not None:
        tables = tables[1:]  # csv: one record type per file, the one asked for
    emit(tables, data, fmt, output, header=header)
    if report is not None and not report.ok:
        first = report.failures[0]
        more = f" (and {len(report.failures) - 1} more)" if len(report.failures) > 1 else ""
        fail(f"check failed: {first}{more}", 1)
