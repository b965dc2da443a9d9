"""`archlab rf`: receptive fields at FMap-end and the embedding-head study (GAP vs GDConv vs FC)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from archlab.cli.common import Format, FormatOpt, NetArg, OutputOpt, user_errors, with_overrides

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


class StudyHead(str, Enum):
    all = "all"
    gap = "gap"
    gdconv = "gdconv"
    fc = "fc"
    none = "none"


StudyHeadOpt = Annotated[StudyHead, typer.Option("--head", help="heads to compare (none: the unit grid alone)")]
SamplesOpt = Annotated[
    int, typer.Option("--samples", "-n", min=1, help="N: samples (input, initialisation) to average")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="random seed of inputs, initialisations and unit vectors")]
WeightsOpt = Annotated[
    Path | None, typer.Option("--weights", metavar="FILE", help="trained state_dict (torch.save), loaded strictly")
]
KeyMapOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-map", metavar="FILE", help="YAML: a list of (pattern, replacement) regex pairs, or old: new names"
    ),
]
ImageOpt = Annotated[
    Path | None,
    typer.Option("--image", metavar="FILE", help="an aligned face crop: input (+ noise) and figure backdrop"),
]
OutDirOpt = Annotated[
    Path | None, typer.Option("--out", metavar="DIR", help="write the figures (PNG, 150 dpi) into DIR")
]
SvgOpt = Annotated[bool, typer.Option("--svg", help="also write SVG figures (with --out)")]


class UnitsChoice(str, Enum):
    all = "all"
    key = "key"


UnitsOpt = Annotated[
    UnitsChoice,
    typer.Option("--units", help="FMap-end units to measure: all, or key (corners, edge midpoints, centre; faster)"),
]


@user_errors
@with_overrides(exclude=("head",))
def rf(
    net: NetArg,
    overrides: dict | None = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    head: StudyHeadOpt = StudyHead.all,
    samples: SamplesOpt = 8,
    units: UnitsOpt = UnitsChoice.all,
    seed: SeedOpt = 0,
    weights: WeightsOpt = None,
    key_map: KeyMapOpt = None,
    image: ImageOpt = None,
    out: OutDirOpt = None,
    svg: SvgOpt = False,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    from archlab import api
    from archlab.errors import OptionError
    from archlab.render.output import emit
    from archlab.render.progress import progress_bar
    from archlab.render.rf import outputs_data, outputs_table, rf_header, rf_tables

    if svg and out is None:
        raise OptionError("--svg writes figures; give --out DIR too")
    if out is not None and out.exists() and not out.is_dir():
        raise OptionError(f"--out {out}: exists and is not a folder")
    value = head.value if hasattr(head, "value") else head
    heads = api.HEADS if value == "all" else (() if value == "none" else (value,))
    fmt = format.value if hasattr(format, "value") else format
    plan = api.plan(net, **(overrides or {}))  # table and option errors before torch is imported
    if len(plan.outputs) > 1:  # a detector: the receptive field of each prediction head (analytic)
        fields = api.output_fields(plan)
        emit([outputs_table(plan, fields)], outputs_data(plan, fields), fmt, str(output) if output else None)
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
            units=units.value if hasattr(units, "value") else units,
            progress=callback,
            **(overrides or {}),
        )
    finally:
        stop()
    files = []
    if out is not None:
        from archlab.render.plots import save_figures

        files = save_figures(study, out, svg=svg)
    data = study.to_dict()
    data["files"] = files
    emit(rf_tables(study, files), data, fmt, str(output) if output else None, header=rf_header(study))
