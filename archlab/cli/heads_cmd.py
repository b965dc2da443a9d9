"""`archlab heads`: the learned head study (GAP vs GDConv vs FC trained on drawn faces)."""

from __future__ import annotations

import click

from archlab.cli.common import Count, Number, command, emit, format_option, net_argument, output_option

HELP = """Train GAP, GDConv and FC heads on procedurally drawn aligned faces and verify them on held-out
identities: the MobileFaceNets argument (Sec. 3.1), learned.

\b
Per seed every head starts from the same backbone initialisation and
sees the same batches (paired); CosFace loss, SGD Nesterov, warm-up +
cosine. Reported: AUC, 10-fold accuracy, TAR@FAR 1e-2 / 1e-3 (mean ±
sd over seeds), paired differences with their sign count, the learned
weight per FMap-end position (GDConv: mean |kernel|; FC: mean |weight|)
with centre/corner and inner/ring ratios, FMap-end feature energy, and
each head's params and MAdds.
--out DIR  keeps every finished (seed, head) run (run the command again
           to resume), the trained state_dicts seed<S>/<head>.pt (they
           load strictly: archlab rf NET --width W --trained-head HEAD
           --weights DIR/seed0/HEAD.pt) and a grid of the drawn faces.
--quick    one seed, 40 steps, fewer faces: a smoke run, not the study.
"""
EPILOG = "Example: archlab heads mobilefacenet --out runs/heads --workers 2"


def _heads(value: str) -> tuple[str, ...]:
    from archlab.errors import OptionError

    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    bad = [n for n in names if n not in ("gap", "gdconv", "fc")]
    if bad or not names:
        raise OptionError(f"--heads: use gap, gdconv and/or fc (comma-separated), got {value!r}")
    return names


@command("heads", HELP, EPILOG)
@net_argument()
@click.option("--width", type=Number(), default=0.125, show_default=True, help="width multiplier of the network")
@click.option("--steps", type=Count(), default=None, help="training steps per run [default: 600; --quick 40]")
@click.option("--seeds", type=Count(), default=None, help="seeds 0..N-1 [default: 3; --quick 1]")
@click.option("--heads", "head_list", default="gap,gdconv,fc", show_default=True, help="heads to train")
@click.option("--batch", type=Count(at_least=2), default=None, help="batch size [default: 64; --quick 32]")
@click.option(
    "--train-identities", type=Count(at_least=2), default=None, help="training identities (10 images each) [400]"
)
@click.option(
    "--test-identities", type=Count(at_least=2), default=None, help="held-out identities (10 images each) [100]"
)
@click.option("--out", metavar="DIR", help="keep runs, state_dicts and the face grid here (resumable)")
@click.option("--workers", type=Count(), default=1, show_default=True, help="processes, one torch thread each")
@click.option("--quick", is_flag=True, help="one seed, 40 steps, a small face set (a smoke run)")
@format_option(("table", "json", "md"))
@output_option
def heads(
    net: str,
    width: float,
    steps: int | None,
    seeds: int | None,
    head_list: str,
    batch: int | None,
    train_identities: int | None,
    test_identities: int | None,
    out: str | None,
    workers: int,
    quick: bool,
    fmt: str,
    output: str | None,
) -> None:
    from pathlib import Path

    from archlab import api
    from archlab.errors import OptionError
    from archlab.render.heads import heads_header, heads_tables
    from archlab.render.progress import progress_bar

    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise OptionError(f"--out {out}: exists and is not a folder")
    chosen = _heads(head_list)
    api.plan(net, width=width)  # table and option errors before torch is imported
    settings = {"batch": batch, "train_identities": train_identities, "test_identities": test_identities}
    callback, stop = progress_bar("heads")
    try:
        study = api.heads(
            net,
            width=width,
            steps=steps,
            seeds=seeds,
            heads=chosen,
            out=out,
            workers=workers,
            quick=quick,
            progress=callback,
            **{k: v for k, v in settings.items() if v is not None},
        )
    finally:
        stop()
    files = list(study.files)
    if out is not None:
        files = [str(Path(out) / "result.json"), *files]
    emit(heads_tables(study, files), study.to_dict(), fmt, output, header=heads_header(study))
