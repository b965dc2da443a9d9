"""`archlab rf`: receptive fields at FMap-end and the embedding-head study (GAP vs GDConv vs FC)."""

from __future__ import annotations

import click

from archlab.cli.common import Count, command, emit, format_option, net_argument, output_option, override_options

HELP = """Receptive fields at FMap-end (the last feature map) and what each embedding head looks at.

\b
Unit grid: each FMap-end unit's effective receptive field (Luo et al.
  2016: |d unit / d input|, or its square with --erf grad2, summed over
  channels, averaged over N (probe, initialisation) pairs) on the real
  network (zero padding inside every layer): the share of its mass on the
  face region of the probe, its centre of mass, the radii holding 50% /
  90% of it, and the centre/corner ratio of the face share with its 95%
  interval over the samples. --canvas measures on a zero canvas around
  the image instead (a hypothetical network; its caveat is printed).
Heads: one backbone with GAP, GDConv and FC heads: importance
  |d(u.e) / d input| (u a random unit vector per sample), its face share,
  the weight each head gives each FMap-end position with its centre/corner
  ratio and interval, each head's params and MAdds.
Probes (--image): faces drawn by archlab (default; held-out identities),
  noise, lfw (scikit-image's LFW faces, if installed) or an image FILE.
Random weights show the architecture's geometry, not what a trained
model learned; --weights FILE loads a trained state_dict (e.g. from
archlab heads --out DIR), and the unit grid is then also measured with
random weights, side by side.
"""
EPILOG = (
    "Example: archlab rf mobilefacenet --head all --out figures/; trained: archlab rf mobilefacenet --width 0.125 "
    "--trained-head gdconv --weights runs/heads/seed0/gdconv.pt  "
    "(theoretical RF per layer: archlab profile NET --depth layer)"
)


@command("rf", HELP, EPILOG)
@net_argument()
@override_options(exclude=("head",))
@click.option(
    "--head",
    type=click.Choice(("all", "gap", "gdconv", "fc", "none")),
    default="all",
    show_default=True,
    help="heads to compare (none: the unit grid alone)",
)
@click.option(
    "--samples", "-n", type=Count(), default=8, show_default=True, help="N: samples (input, initialisation) to average"
)
@click.option(
    "--fmap-units",
    type=click.Choice(("all", "key")),
    default="all",
    show_default=True,
    help="FMap-end units to measure: all, or key (corners, edge midpoints, centre; faster)",
)
@click.option("--seed", type=int, default=0, show_default=True, help="seed of inputs, initialisations, unit vectors")
@click.option("--weights", metavar="FILE", help="trained state_dict (torch.save), loaded strictly")
@click.option(
    "--trained-head",
    type=click.Choice(("gdconv", "gap", "fc")),
    default=None,
    help="the head --weights was trained with [default: the table's]",
)
@click.option("--key-map", metavar="FILE", help="YAML: a list of (pattern, replacement) regex pairs, or old: new names")
@click.option(
    "--image",
    metavar="FILE|faces|noise|lfw",
    default="faces",
    show_default=True,
    help="probes: drawn faces, noise, LFW (scikit-image) or an aligned face crop FILE (input + noise)",
)
@click.option("--canvas", is_flag=True, help="measure on a zero canvas around the image (hypothetical network)")
@click.option(
    "--erf",
    type=click.Choice(("abs", "grad2")),
    default="abs",
    show_default=True,
    help="|grad| or grad^2 (Luo et al.) summed over channels",
)
@click.option("--out", metavar="DIR", help="write the figures (PNG, 150 dpi) into DIR")
@click.option("--svg", is_flag=True, help="also write SVG figures (with --out)")
@format_option()
@output_option
def rf(
    net: str,
    overrides: dict,
    head: str,
    samples: int,
    fmap_units: str,
    seed: int,
    weights: str | None,
    trained_head: str | None,
    key_map: str | None,
    image: str,
    canvas: bool,
    erf: str,
    out: str | None,
    svg: bool,
    fmt: str,
    output: str | None,
) -> None:
    from pathlib import Path

    from archlab import api
    from archlab.errors import OptionError
    from archlab.render.progress import progress_bar
    from archlab.render.rf import outputs_data, outputs_table, rf_header, rf_tables

    if svg and out is None:
        raise OptionError("--svg writes figures; give --out DIR too")
    if trained_head is not None:
        if weights is None:
            raise OptionError("--trained-head names the head of --weights; give --weights too")
        overrides = {**overrides, "head": trained_head}
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise OptionError(f"--out {out}: exists and is not a folder")
    heads = api.HEADS if head == "all" else (() if head == "none" else (head,))
    plan = api.plan(net, **overrides)  # table and option errors before torch is imported
    if len(plan.outputs) > 1:  # a detector: the receptive field of each prediction head (analytic)
        fields = api.output_fields(plan)
        emit([outputs_table(plan, fields)], outputs_data(plan, fields), fmt, output)
        return
    callback, stop = progress_bar("rf")
    try:
        study = api.rf(
            net,
            heads=heads,
            samples=samples,
            seed=seed,
            weights=weights,
            key_map=key_map,
            image=image,
            units=fmap_units,
            progress=callback,
            method="canvas" if canvas else "real",
            erf=erf,
            **overrides,
        )
    finally:
        stop()
    files = []
    if out is not None:
        from archlab.render.erf_figures import save_figures

        files = save_figures(study, out, svg=svg)
    data = study.to_dict()
    data["files"] = files
    emit(rf_tables(study, files), data, fmt, output, header=rf_header(study))
