"""A plain-text summary of a head study (no torch, no rich): what the benchmark prints."""

from __future__ import annotations

import numpy as np

from archlab.studies.heads.records import HeadsStudy

METRIC_LABELS = {"auc": "AUC", "accuracy": "acc 10-fold", "tar_1e-2": "TAR@FAR1e-2", "tar_1e-3": "TAR@FAR1e-3"}


def pm(spread: dict, digits: int = 3) -> str:
    """``mean ± sd`` (sd omitted for one seed)."""
    sd = spread.get("sd")
    return f"{spread['mean']:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd is not None else "")


def _grid(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(str(r[k])) for r in [header] + rows) for k in range(len(header))]

    def line(r):
        return "  ".join(str(c).rjust(w) if k else str(c).ljust(w) for k, (c, w) in enumerate(zip(r, widths)))

    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _verification(study: HeadsStudy) -> list[str]:
    header = ["head"] + list(METRIC_LABELS.values()) + ["params", "MAdds", "head params", "s/step"]
    rows = []
    for s in study.summaries:
        rows.append(
            [s.head]
            + [pm(s.metrics[m]) for m in METRIC_LABELS]
            + [f"{s.params:,}", f"{s.madds:,}", f"{s.head_params:,}", f"{s.seconds_per_step:.3f}"]
        )
    return _grid(rows, header)


def _differences(study: HeadsStudy) -> list[str]:
    rows = []
    for d in study.differences:
        rows.append(
            [
                f"{d.a} - {d.b}",
                METRIC_LABELS[d.metric],
                " ".join(f"{x:+.3f}" for x in d.diffs),
                pm({"mean": d.mean, "sd": d.sd}),
                f"{d.positive}/{d.n} > 0",
            ]
        )
    return _grid(rows, ["pair", "metric", "per seed", "mean ± sd", "sign"])


def _maps(study: HeadsStudy) -> list[str]:
    rows = []
    for s in study.summaries:
        cc, ir = s.learned_centre_corner, s.learned_inner_ring
        rows.append(
            [
                s.head,
                f"{pm(cc, 2)} [{cc['min']:.2f}-{cc['max']:.2f}]",
                f"{pm(ir, 2)} [{ir['min']:.2f}-{ir['max']:.2f}]",
                f"{s.learned_ring_range[0]:.2f}-{s.learned_ring_range[1]:.2f}",
                f"{s.learned_inner_range[0]:.2f}-{s.learned_inner_range[1]:.2f}",
                " ".join(f"({r},{c})" for r, c in s.learned_lowest) if s.head != "gap" else "-",
            ]
        )
    return _grid(rows, ["head", "centre/corner", "inner/ring", "ring range", "inner range", "lowest (row,col)"])


def _energy_row(label: str, cc: dict, ir: dict, corners: list) -> list[str]:
    return [
        label,
        f"{pm(cc, 2)} [{cc['min']:.2f}-{cc['max']:.2f}]",
        f"{pm(ir, 2)} [{ir['min']:.2f}-{ir['max']:.2f}]",
        f"{corners[0]:.2f}-{corners[1]:.2f}",
    ]


def _energy(study: HeadsStudy) -> list[str]:
    rows = [
        _energy_row(s.head, s.energy_centre_corner, s.energy_inner_ring, s.energy_corner_range) for s in study.summaries
    ]
    if study.init_energy:
        e = study.init_energy
        rows.append(_energy_row("untrained", e["centre_corner"], e["inner_ring"], e["corner_range"]))
    return _grid(rows, ["backbone", "centre/corner", "inner/ring", "corner units (mean 1)"])


def mean_map(study: HeadsStudy, head: str, which: str = "learned_map") -> np.ndarray:
    """The map of a head averaged over its seeds (each map has mean 1)."""
    return np.mean([getattr(r, which).map for r in study.runs if r.head == head], axis=0)


def _map_block(study: HeadsStudy, which: str, title: str) -> list[str]:
    out = []
    if which == "energy_map" and study.init_energy:
        init = [r.init_energy_map.map for r in study.runs if r.head == study.heads[0] and r.init_energy_map]
        out.append("  untrained backbone: feature energy, mean over seeds")
        out += ["    " + " ".join(f"{v:5.2f}" for v in row) for row in np.mean(init, axis=0)]
    for head in study.heads:
        if which == "learned_map" and head == "gap":
            continue
        out.append(f"  {head}: {title}, mean over seeds")
        out += ["    " + " ".join(f"{v:5.2f}" for v in row) for row in mean_map(study, head, which)]
    return out


def format_study(study: HeadsStudy, maps: bool = True) -> str:
    """The study as text: verification per head, paired differences, learned maps, feature energy."""
    c = study.config
    lines = [
        f"Learned head study: {c['net']} width {c['width']}, {c['steps']} steps x batch {c['batch']}, "
        f"seeds {', '.join(map(str, study.seeds))}",
        f"  data: {c['train_identities']} x {c['train_images']} training faces, {c['test_identities']} x "
        f"{c['test_images']} held-out faces (data seed {c['data_seed']}, clutter {c['clutter']}); "
        f"CosFace s {c['cosface_s']} m {c['cosface_m']}, lr {c['lr']}",
        f"  wall {study.wall_seconds:.0f} s; trained {len(study.trained)} runs, resumed {len(study.resumed)}",
        "",
        "Verification on held-out identities (mean ± sd over seeds)",
    ]
    lines += _verification(study)
    lines += ["", "Paired differences (same backbone initialisation and data order per seed)"]
    lines += _differences(study)
    lines += ["", "Learned position weight over FMap-end (mean 1; GAP is uniform)"]
    lines += _maps(study)
    lines += ["", "FMap-end feature energy (mean squared activation per position on test faces, mean 1)"]
    lines += _energy(study)
    if maps:
        lines += ["", "Maps (rows top to bottom)"]
        lines += _map_block(study, "learned_map", "learned weight")
        lines += _map_block(study, "energy_map", "feature energy")
    return "\n".join(lines)
