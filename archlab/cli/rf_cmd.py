"""`archlab rf`: receptive fields at FMap-end and the embedding-head study (GAP vs GDConv vs FC)."""

from __future__ import annotations

import click

from archlab.cli.common import Count, command, emit, format_option, net_argument, output_option, override_options

HELP = """Receptive fields at FMap-end (the last feature map) and what each embedding head looks at.

\b
Unit grid: each FMap-end unit's effective receptive field (Luo et al.
  2016: |d unit / d input| summed over channels, averaged over N (input,
  initialisation) pairs), measured on a zero canvas around the image: the
  share of its mass on the image (the rest falls on padding), its centre
  of mass, the radii holding 50% / 90% of it.
Heads: one backbone with GAP, GDConv and FC heads: importance
  |d(u.e) / d input| (u a random unit vector per sample), the weight each
  head gives each FMap-end position, each head's params and MAdds.
Random weights show the architecture's geometry, not what a trained
model learned; --weights FILE loads a trained state_dict.
"""
EPILOG = (
    "Example: archlab rf mobilefacenet --head all --out figures/  "
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
@click.option("--key-map", metavar="FILE", help="YAML: a list of (pattern, replacement) regex pairs, or old: new names")
@click.option("--image", metavar="FILE", help="an aligned face crop: input (+ noise) and figure backdrop")
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
    key_map: str | None,
    image: str | None,
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
            **overrides,
        )
    finally:
        stop()
    files = []
    if out is not None:
        from archlab.render.plots import save_figures

        files = save_figures(study, out, svg=svg)
    data = study.to_dict()
    data["files"] = files
    emit(rf_tables(study, files), data, fmt, output, header=rf_header(study))
