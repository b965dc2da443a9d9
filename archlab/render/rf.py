"""RF study records -> tables and header lines (``archlab rf``)."""

from __future__ import annotations

import math

from archlab.render.tables import Table, shape_str
from archlab.render.text import pct, sig
from archlab.static.erf_records import NOISE_WORDS

HEAD_COLUMNS = [
    "head",
    "params",
    "params_deployed",
    "madds",
    "out",
    "weights",
    "importance_com",
    "com_offset",
    "r50",
    "r90",
    "face share [95% CI]",
    "centre/corner [95% CI]",
    "verdict",
]
ERF_WORDS = {"abs": "|d unit / d input| summed over channels", "grad2": "(d unit / d input)^2 summed over channels"}


def _f(v):
    """A measured value for a cell (3 significant digits when shown), None when missing."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def rf_header(study) -> list[str]:
    rf = study.rf
    opts = ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in study.options.items())
    start = "x".join(str(int(v) if float(v).is_integer() else v) for v in rf.start)
    lines = [
        f"{study.model}: input {study.image_hw[0]}x{study.image_hw[1]}"
        + (f" | options: {opts}" if opts else "")
        + f" | FMap-end {study.fmap} {shape_str(study.fmap_shape)} | theoretical RF {rf.label()} px, "
        f"jump {rf.label('jump')}, unit 0 centred at {start}"
    ]
    lines.append(
        f"N = {study.samples} sample(s), seed {study.seed}; inputs: {study.inputs}; "
        f"weights: {study.weights or 'random'}"
    )
    lines.append(
        f"ERF: {ERF_WORDS.get(study.erf, study.erf)}, on the "
        + ("real network (zero padding inside every layer)" if study.method == "real" else "zero canvas (--canvas)")
        + (f"; face region {study.face_area:.1%} of the image" if study.face_area is not None else "")
    )
    return lines


def _verdict(iv, random: bool) -> str:
    return iv.verdict(random) if iv is not None else ""


def heads_table(study) -> Table:
    t = Table(
        "heads (everything after FMap-end up to the output vector)",
        HEAD_COLUMNS,
        numeric={"params", "params_deployed", "madds", "out", "com_offset", "r50", "r90"},
        drop=["weights", "params_deployed", "out", "importance_com", "r90", "com_offset"],
    )
    for r in study.heads.values():
        com = f"{sig(r.com[0])}, {sig(r.com[1])}" if r.com else ""
        t.rows.append(
            [
                r.name,
                r.params,
                r.params_deployed,
                r.madds,
                r.out_dim,
                r.weights,
                com,
                _f(r.com_offset),
                _f(r.r50),
                _f(r.r90),
                r.face_share.label() if r.face_share is not None else "",
                r.position_cc.label() if r.position_cc is not None else "",
                "one random head on the trained backbone: not learned"
                if r.weights == "backbone" and r.name != "gap"
                else _verdict(r.position_cc, r.weights == "random"),
            ]
        )
    t.notes = [
        "importance: |d(u.e)/d input| (u a random unit vector per sample), each map normalised to 1 and averaged; "
        "importance_com (y, x) in pixels, com_offset = largest |com - image centre| / image size; r50/r90: radius "
        "around it holding 50%/90%",
        "face share: the share of the importance map on the face region; centre/corner: the head's weight on "
        "the central FMap-end position over the mean of the four corners (GAP 1 by construction; GDConv mean "
        "|kernel|; FC mean |weight| per position); [95% CI]: t interval over the samples (random weights: a "
        "fresh initialisation per sample)",
    ]
    return t


GRID_TITLES = {
    "face": "share of each FMap-end unit's ERF mass on the face region, rows i x columns j",
    "erf_inside": "share of each FMap-end unit's ERF mass on the image (rest: the canvas margin), rows i x columns j",
    "r50": "radius (px) holding 50% of each unit's ERF mass",
}


def grid_table(study, key: str = "face", grid=None) -> Table:
    g = grid if grid is not None else study.grid
    h, w = g.shape
    values = {"face": g.face_share, "erf_inside": g.erf_inside, "r50": g.r50}[key]
    title = GRID_TITLES[key] + (f" ({g.weights} weights)" if study.random_grid is not None else "")
    cols = ["i"] + [f"j={j}" for j in range(w)]
    t = Table(title, cols, numeric=set(cols[1:]))
    for i in range(h):
        t.rows.append([i] + [_f(values[i, j]) for j in range(w)])
    return t


def ratios_table(study) -> Table:
    """Every centre/corner ratio of the unit grids with its interval and what it says."""
    t = Table(
        "centre/corner ratios of the unit grid (centre unit over the mean of the four corners, per sample)",
        ["measure", "weights", "N", "ratio [95% CI]", "verdict"],
        numeric={"N"},
    )
    for g in [x for x in (study.grid, study.random_grid) if x is not None]:
        for which, label in (("face", "ERF share on the face region"), ("image", "ERF share on the image (canvas)")):
            iv, note = g.ratio(which), g.ratio_note(which)
            if iv is not None:
                t.rows.append([label, g.weights, iv.n, iv.label(), _verdict(iv, g.weights == "random")])
            elif note:
                t.rows.append([label, g.weights, "", "—", note])
    t.notes = [
        "95% CI: mean ± t(0.975, N-1) sd / sqrt(N) over the samples (random weights: a fresh initialisation "
        f'and a probe per sample; trained: a probe per sample); where it covers 1: "{NOISE_WORDS}" (random)'
    ]
    return t


def rf_tables(study, files: list[str]) -> list[Table]:
    tables = []
    if study.heads:
        tables.append(heads_table(study))
    g = study.grid
    if g is not None:
        tables.append(ratios_table(study))
        tables.append(grid_table(study, "face"))
        if study.random_grid is not None:
            tables.append(grid_table(study, "face", study.random_grid))
        if study.method == "canvas":
            t = grid_table(study, "erf_inside")
            top, left, ch, cw = g.canvas
            t.notes = [
                f"ERF measured on a {ch}x{cw} zero canvas (image at row {top}, column {left}) that holds every "
                "unit's theoretical RF; each sample's map normalised to mass 1"
            ]
            tables.append(t)
        tables.append(grid_table(study, "r50"))
    last = tables[-1]
    last.notes = list(last.notes) + list(study.notes) + [f"wrote {f}" for f in files]
    return tables


def outputs_table(plan, fields) -> Table:
    """A detector's outputs with their theoretical receptive fields."""
    t = Table(
        f"{plan.model}: receptive field of each output (theoretical)",
        ["output", "row", "shape", "rf", "jump", "start", "centre unit on image", "corner unit on image"],
        drop=["start", "row", "jump"],
    )
    for f in fields:
        t.rows.append(
            [
                f.name,
                f.row,
                shape_str(f.shape),
                f.rf.label(),
                f.rf.label("jump"),
                f.rf.label("start"),
                pct(f.centre_inside),
                pct(f.corner_inside),
            ]
        )
    t.notes = [
        "rf: input pixels one unit sees (size), the step between neighbouring units' centres (jump) and "
        "the centre of unit 0 (start); 'on image': the share of a unit's RF box that is not padding.",
        "The effective receptive field (archlab rf on a single-output network) is a fraction of these.",
    ]
    return t


def outputs_data(plan, fields) -> dict:
    """The JSON of ``archlab rf`` for a network with several outputs (a detector)."""
    return {
        "schema_version": 1,
        "model": plan.model,
        "input": list(plan.input),
        "options": plan.options,
        "outputs": [f.to_dict() for f in fields],
    }
