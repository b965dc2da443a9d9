"""`archlab report`: the MobileFaceNets study end to end for one network (Markdown, HTML or JSON)."""

from __future__ import annotations

import click

from archlab.cli.common import Count, Number, command, echo, net_argument
from archlab.cli.compare_cmd import command_line, documents_option

HELP = """The MobileFaceNets study end to end, for any network: the architecture table (from the layer
table), counts against the published figures (with the shipped variants and, for 112x112 face crops,
112x96), the head study (GDConv vs GAP vs FC: cost, receptive and effective receptive fields), the first-layer
study (stride 2 vs 1 vs 1 + max-pool: FMap-end, MAdds, latency), the width sweep, conventions and environment.
For a face table (3x112x112, one output) also the learned head study (archlab heads: GAP, GDConv and FC
trained on drawn faces, their accuracy beside their cost, the learned maps, the ERF random vs trained).

\b
--quick   no latency measurements; effective receptive fields from 2
          samples at the key units (full: 8 samples, every unit), none
          above 1G MAdds; the learned head study with one seed and few
          steps (a smoke run, and the report says so)
--heads-from DIR  the learned study from a finished `archlab heads
          --out DIR` instead of training (the full study: ~30 minutes)
-o FILE   FILE.md (+ FILE_files/ with the figures), FILE.html (one
          self-contained page) or FILE.json; repeat it to write several
          from one measurement (--out works too). Default: NAME.html
"""
EPILOG = "Example: archlab report mobilefacenet --quick -o reports/mobilefacenet.md -o reports/mobilefacenet.html"


@command("report", HELP, EPILOG)
@net_argument()
@click.option("--quick", is_flag=True, help="skip the latency measurements; fewer ERF samples")
@documents_option("FILE.md, FILE.html or FILE.json (repeatable; default NAME.html)")
@click.option("--threads", type=Count(), default=1, show_default=True, help="torch threads for the latency")
@click.option(
    "--budget",
    type=Number(),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="seconds of latency rounds at most",
)
@click.option("--samples", type=Count(), default=None, help="ERF samples (default 2 with --quick, else 8)")
@click.option("--dpi", type=click.IntRange(30, 300), default=80, show_default=True, help="resolution of the figures")
@click.option(
    "--heads-from", metavar="DIR", default=None, help="read the learned head study from `archlab heads --out DIR`"
)
def report(
    net: str,
    quick: bool,
    outputs: tuple[str, ...],
    threads: int,
    budget: float,
    samples: int | None,
    dpi: int,
    heads_from: str | None,
) -> None:
    from pathlib import Path

    from archlab import api
    from archlab.errors import OptionError
    from archlab.render.document import check_out, write_document
    from archlab.render.report_page import report_document

    if quick and budget != 60.0:
        raise OptionError("--budget sets the latency rounds, which --quick skips")
    spec = api.load_table(net)  # table errors before any work
    paths = list(outputs or [str(Path(f"{spec.name}.html"))])
    for path in paths:
        check_out(path)
    study = api.report(
        net,
        quick=quick,
        threads=threads,
        budget=None if quick else budget,
        rf_samples=samples,
        progress=lambda msg: echo(f"report: {msg}", err=True),
        **({"heads_from": heads_from} if heads_from is not None else {}),
    )
    parts = [net] + (["--quick"] if quick else [f"--threads={threads}", f"--budget={budget:g}"])
    if samples is not None:
        parts.append(f"--samples={samples}")
    if heads_from is not None:
        parts.append(f"--heads-from={heads_from}")
    doc = report_document(study, command=command_line("report", parts), dpi=dpi)
    for path in paths:
        for written in write_document(doc, path):
            echo(f"wrote {written}")
