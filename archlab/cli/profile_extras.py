"""`archlab profile` options of the counts: --check (fvcore/thop cross-check), --units, --batch, and memory.

Kept apart from ``profile_cmd`` so the command stays a thin option parser; torch is imported only with --check.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class UnitsChoice(str, Enum):
    madds = "madds"
    flops = "flops"


CheckOpt = Annotated[
    bool,
    typer.Option(
        "--check",
        help="build the network and cross-check every layer with fvcore and thop; exit 1 on a disagreement",
        rich_help_panel="Analysis",
    ),
]
UnitsOpt = Annotated[
    UnitsChoice,
    typer.Option("--units", help="compute units: madds, or flops (= 2 x MAdds)", rich_help_panel="Analysis"),
]
BatchOpt = Annotated[
    int,
    typer.Option(
        "--batch", min=1, help="count per batch of N images (per-image figures alongside)", rich_help_panel="Analysis"
    ),
]

CHECK_HELP = """
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


def run(
    prof, depth: str, fmt: str, output: str | None, *, units: str = "madds", batch: int = 1, check: bool = False
) -> None:
    """Render a profile with units, memory and (optionally) the cross-check; exit 1 when the check fails."""
    from archlab import api
    from archlab.render.output import emit
    from archlab.render.profile import profile_view

    u = api.units(units.value if hasattr(units, "value") else units, batch)
    report = api.crosscheck(prof.plan, u.batch) if check else None
    tables, data, header = profile_view(prof, depth, api.memory(prof.plan, u.batch), api.lint(prof.plan), u, report)
    if fmt == "csv" and report is not None:
        tables = tables[1:]  # csv: one record type per file, the one asked for
    emit(tables, data, fmt, output, header=header)
    if report is not None and not report.ok:
        first = report.failures[0]
        more = f" (and {len(report.failures) - 1} more)" if len(report.failures) > 1 else ""
        typer.echo(f"archlab: check failed: {first}{more}", err=True)
        raise typer.Exit(1)
