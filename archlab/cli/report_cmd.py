"""`archlab report`: the MobileFaceNets study end to end for one network (Markdown, HTML or JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from archlab.cli.common import NetArg, user_errors

HELP = """The MobileFaceNets study end to end, for any network: the architecture table (from the layer
table), counts against the published figures (with the shipped variants and, for 112x112 face crops,
112x96), the head study (GDConv vs GAP vs FC: cost, receptive and effective receptive fields), the first-layer
study (stride 2 vs 1 vs 1 + max-pool: FMap-end, MAdds, latency), the width sweep, conventions and environment.

\b
--quick   no latency measurements; effective receptive fields from 2
          samples at the key units (full: 8 samples, every unit), none
          above 1G MAdds
--out     FILE.md (+ FILE_files/ with the figures), FILE.html (one
          self-contained page) or FILE.json; repeat it to write several
          from one measurement. Default: NAME.html
"""
EPILOG = "Example: archlab report mobilefacenet --quick --out reports/mobilefacenet.md --out reports/mobilefacenet.html"

QuickOpt = Annotated[bool, typer.Option("--quick", help="skip the latency measurements; fewer ERF samples")]
OutOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--out",
        metavar="FILE",
        help="FILE.md, FILE.html or FILE.json (repeatable; default NAME.html)",
        show_default=False,
    ),
]
ThreadsOpt = Annotated[int, typer.Option("--threads", min=1, help="torch threads for the latency measurements")]
BudgetOpt = Annotated[
    float, typer.Option("--budget", min=0.1, metavar="SECONDS", help="seconds of latency rounds at most")
]
SamplesOpt = Annotated[
    int | None, typer.Option("--samples", min=1, help="ERF samples (default 2 with --quick, else 8)")
]
DpiOpt = Annotated[int, typer.Option("--dpi", min=30, max=300, help="resolution of the figures")]


@user_errors
def report(
    net: NetArg,
    quick: QuickOpt = False,
    out: OutOpt = None,
    threads: ThreadsOpt = 1,
    budget: BudgetOpt = 60.0,
    samples: SamplesOpt = None,
    dpi: DpiOpt = 80,
) -> None:
    from archlab import api
    from archlab.cli.compare_cmd import command_line
    from archlab.errors import OptionError
    from archlab.render.document import check_out, write_document
    from archlab.render.report_page import report_document

    if quick and budget != 60.0:
        raise OptionError("--budget sets the latency rounds, which --quick skips")
    spec = api.load_table(net)  # table errors before any work
    paths = list(out or [Path(f"{spec.name}.html")])
    for path in paths:
        check_out(path)
    study = api.report(
        net,
        quick=quick,
        threads=threads,
        budget=None if quick else budget,
        rf_samples=samples,
        progress=lambda msg: typer.echo(f"report: {msg}", err=True),
    )
    parts = [net] + (["--quick"] if quick else [f"--threads={threads}", f"--budget={budget:g}"])
    if samples is not None:
        parts.append(f"--samples={samples}")
    doc = report_document(study, command=command_line("report", parts), dpi=dpi)
    for path in paths:
        for written in write_document(doc, path):
            typer.echo(f"wrote {written}")
