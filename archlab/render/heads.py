"""The learned head study (``archlab heads``) as tables: verification per head with its cost, the paired
differences, the learned position maps and the FMap-end feature energy (text, Markdown; JSON is the record's
``to_dict()``)."""

from __future__ import annotations

from archlab.render.tables import Table

METRIC_LABELS = {"auc": "AUC", "accuracy": "acc 10-fold", "tar_1e-2": "TAR@FAR1e-2", "tar_1e-3": "TAR@FAR1e-3"}
MAP_RULES = {
    "gap": "uniform (1 / HW by construction)",
    "gdconv": "mean |kernel| over channels of the 7x7 depthwise conv",
    "fc": "mean |weight| over outputs and channels of the linear layer, per position",
}
QUICK_NOTE = (
    "quick run (--quick): one seed, few steps, a small face set: a smoke run of the pipeline, not the study; "
    "its numbers are far from converged"
)


def pm(spread: dict | None, digits: int = 3) -> str:
    """``mean ± sd`` (sd left out for one seed); empty without a value."""
    if not spread:
        return ""
    sd = spread.get("sd")
    return f"{spread['mean']:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd is not None else "")


def _range(spread: dict, digits: int = 2) -> str:
    if spread["sd"] is None:
        return pm(spread, digits)
    return f"{pm(spread, digits)} [{spread['min']:.{digits}f}-{spread['max']:.{digits}f}]"


def heads_header(study) -> list[str]:
    c = study.config
    lines = [
        f"learned head study: {c['net']} width {c['width']:g}, {c['steps']} steps x batch {c['batch']}, "
        f"seeds {', '.join(map(str, study.seeds))}; CosFace s {c['cosface_s']:g} m {c['cosface_m']:g}, "
        f"SGD Nesterov lr {c['lr']:g}, warm-up + cosine, wd {c['weight_decay']:g}",
        f"faces (drawn by archlab): {c['train_identities']} x {c['train_images']} training, "
        f"{c['test_identities']} x {c['test_images']} held-out identities (data seed {c['data_seed']}, clutter "
        f"{c['clutter']}); wall {study.wall_seconds:.0f} s, {len(study.trained)} run(s) trained, "
        f"{len(study.resumed)} resumed" + (f" from {study.out}" if study.resumed and study.out else ""),
    ]
    if getattr(study, "quick", False):
        lines.append(QUICK_NOTE)
    return lines


def verification_table(study) -> Table:
    cols = ["head", *METRIC_LABELS.values(), "params", "madds", "head params", "head madds", "s/step"]
    t = Table(
        "verification on held-out identities (mean ± sd over seeds)",
        cols,
        numeric={"params", "madds", "head params", "head madds", "s/step"},
    )
    for s in study.summaries:
        t.rows.append(
            [s.head]
            + [pm(s.metrics[m]) for m in METRIC_LABELS]
            + [s.params, s.madds, s.head_params, s.head_madds, round(s.seconds_per_step or 0.0, 3)]
        )
    t.notes = [
        "AUC and TAR@FAR over every held-out pair (cosine score); acc 10-fold: all genuine pairs and as many "
        "impostor pairs, threshold chosen on 9 folds, applied to the 10th; params and MAdds: the whole network "
        "and the head row alone"
    ]
    return t


def differences_table(study) -> Table:
    t = Table(
        "paired differences (same backbone initialisation and data order per seed)",
        ["pair", "metric", "per seed", "mean ± sd", "sign"],
    )
    for d in study.differences:
        t.rows.append(
            [
                f"{d.a} - {d.b}",
                METRIC_LABELS[d.metric],
                " ".join(f"{x:+.3f}" for x in d.diffs),
                pm({"mean": d.mean, "sd": d.sd}),
                f"{d.positive}/{d.n} > 0",
            ]
        )
    return t


def maps_table(study) -> Table:
    t = Table(
        "learned weight per FMap-end position (mean 1; ratios: mean ± sd [lowest-highest] over seeds)",
        ["head", "centre/corner", "inner/ring", "ring range", "inner range", "lowest (row,col)", "rule"],
    )
    for s in study.summaries:
        t.rows.append(
            [
                s.head,
                _range(s.learned_centre_corner),
                _range(s.learned_inner_ring),
                f"{s.learned_ring_range[0]:.2f}-{s.learned_ring_range[1]:.2f}",
                f"{s.learned_inner_range[0]:.2f}-{s.learned_inner_range[1]:.2f}",
                " ".join(f"({r},{c})" for r, c in s.learned_lowest) if s.head != "gap" else "-",
                MAP_RULES.get(s.head, ""),
            ]
        )
    t.notes = [
        "ring: the outer units of the FMap-end grid; inner: the rest; centre/corner: the central unit over the "
        "mean of the four corners"
    ]
    return t


def energy_table(study) -> Table:
    t = Table(
        "FMap-end feature energy (mean squared activation per position on held-out faces, mean 1)",
        ["backbone", "centre/corner", "inner/ring", "corner units"],
    )
    for s in study.summaries:
        t.rows.append(
            [
                f"{s.head}-trained",
                _range(s.energy_centre_corner),
                _range(s.energy_inner_ring),
                f"{s.energy_corner_range[0]:.2f}-{s.energy_corner_range[1]:.2f}",
            ]
        )
    if study.init_energy:
        e = study.init_energy
        t.rows.append(
            [
                "untrained",
                _range(e["centre_corner"]),
                _range(e["inner_ring"]),
                f"{e['corner_range'][0]:.2f}-{e['corner_range'][1]:.2f}",
            ]
        )
    t.notes = ["where GAP, which weighs every position alike, could hide a weighting: in the backbone's features"]
    return t


def mean_map(study, head: str, which: str = "learned_map"):
    """The (H, W) map of a head averaged over its seeds (each map has mean 1)."""
    import numpy as np

    return np.mean([getattr(r, which).map for r in study.runs if r.head == head], axis=0)


def map_grid_table(study, head: str, which: str = "learned_map") -> Table:
    grid = mean_map(study, head, which)
    what = "learned weight" if which == "learned_map" else "feature energy"
    cols = ["i"] + [f"j={j}" for j in range(grid.shape[1])]
    t = Table(f"{head}: {what} per FMap-end position, mean over seeds (mean 1)", cols, numeric=set(cols[1:]))
    for i, row in enumerate(grid):
        t.rows.append([i] + [f"{v:.2f}" for v in row])
    return t


def heads_tables(study, files: list[str] | tuple = ()) -> list[Table]:
    """Every table of the study, the figures written named after the last one."""
    tables = [verification_table(study)]
    diffs = differences_table(study)
    if diffs.rows:
        tables.append(diffs)
    tables += [maps_table(study), energy_table(study)]
    tables += [map_grid_table(study, h) for h in study.heads if h != "gap"]
    tables[-1].notes = list(tables[-1].notes) + [f"wrote {f}" for f in files]
    return tables


LEARNED_SIZE = (4.4, 4.2)  # inches per head panel of the learned-map figure


def plot_learned_maps(study):
    """The learned weight per FMap-end position of each head but GAP (mean over seeds, mean 1), on one fixed
    scale (1 ± at least 0.5) with each map's ratios over seeds. Returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    heads = [h for h in study.heads if h != "gap"]
    maps = {h: mean_map(study, h) for h in heads}
    spread = max([0.5] + [float(abs(m - 1).max()) for m in maps.values()])
    fig, axes = plt.subplots(
        1,
        len(heads),
        figsize=(LEARNED_SIZE[0] * len(heads) + 0.8, LEARNED_SIZE[1]),
        layout="constrained",
        squeeze=False,
    )
    im = None
    for ax, h in zip(axes[0], heads):
        m = maps[h]
        im = ax.imshow(m, cmap="coolwarm", vmin=1 - spread, vmax=1 + spread)
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7)
        s = study.summary(h)
        ax.set_title(
            f"{h}: learned weight per position\ncentre/corner {pm(s.learned_centre_corner, 2)}, inner/ring "
            f"{pm(s.learned_inner_ring, 2)}",
            fontsize=9,
        )
        ax.set_xlabel("unit column j")
        ax.set_ylabel("unit row i")
    if im is not None:
        fig.colorbar(im, ax=list(axes[0]), shrink=0.85, label="mean 1 (GAP: 1 everywhere)")
    fig.suptitle(f"learned head study: mean over seeds {', '.join(map(str, study.seeds))}", fontsize=10)
    return fig
