"""`archlab rf`: receptive fields at FMap-end and the embedding-head study (GAP vs GDConv vs FC)."""

from __future__ import annotations

import click

from archlab.cli.common import (
    Count,
    command,
    emit,
    format_option,
    max_memory_option,
    net_argument,
    output_option,
    override_options,
    progress_display,
    quiet_option,
    source_options,
)

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
A torch module, FILE.py:CALLABLE (--arg KEY=VALUE for its arguments), is
studied at --input with its own weights (--weights replaces them); it has
no head study (--head none; compare heads on its table: archlab extract).
FMap-end: the head's input, else the last map larger than 1x1 (for a module:
the input of its global pool); --fmap-end LAYER names another layer.
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
    default=None,
    help="heads to compare (none: the unit grid alone) [default: all; none for a torch module]",
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
@click.option(
    "--key-map",
    metavar="auto|FILE",
    help="rename --weights' keys: auto (by module order and shapes) or a key-map file (`archlab weights map`)",
)
@click.option("--fmap-end", metavar="LAYER", help="the layer whose output is FMap-end (default: see above)")
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
@source_options
@max_memory_option
@quiet_option
@format_option()
@output_option
def rf(
    net: str,
    overrides: dict,
    head: str | None,
    samples: int,
    fmap_units: str,
    seed: int,
    weights: str | None,
    trained_head: str | None,
    key_map: str | None,
    fmap_end: str | None,
    image: str,
    canvas: bool,
    erf: str,
    out: str | None,
    svg: bool,
    strict: bool,
    max_memory: str | None,
    quiet: bool,
    fmt: str,
    output: str | None,
) -> None:
    from pathlib import Path

    from archlab import api
    from archlab.errors import OptionError
    from archlab.render.rf import outputs_data, outputs_table, rf_header, rf_tables

    if svg and out is None:
        raise OptionError("--svg writes figures; give --out DIR too")
    if trained_head is not None:
        if weights is None:
            raise OptionError("--trained-head names the head of --weights; give --weights too")
        overrides = {**overrides, "head": trained_head}
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise OptionError(f"--out {out}: exists and is not a folder")
    if key_map is not None and weights is None:
        raise OptionError("--key-map renames the keys of --weights; give --weights too")
    heads = None if head is None else api.HEADS if head == "all" else (() if head == "none" else (head,))
    plan = api.plan(net, strict=strict, **overrides)  # table and option errors before the study
    if len(plan.outputs) > 1:  # a detector: the receptive field of each prediction head (analytic)
        fields = api.output_fields(plan)
        emit([outputs_table(plan, fields)], outputs_data(plan, fields), fmt, output)
        return
    with progress_display("rf", quiet) as progress:
        study = api.rf(
            net,
            heads=heads,
            samples=samples,
            seed=seed,
            weights=weights,
            key_map=key_map,
            image=image,
            units=fmap_units,
            progress=progress,
            method="canvas" if canvas else "real",
            erf=erf,
            fmap_end=fmap_end,
            strict=strict,
            max_memory=max_memory,
            **overrides,
        )
    files = []
    if out is not None:
        from archlab.render.erf_figures import save_figures

        files = save_figures(study, out, svg=svg)
    data = study.to_dict()
    data["files"] = files
    emit(rf_tables(study, files), data, fmt, output, header=rf_header(study))
