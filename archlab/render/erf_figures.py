"""Figures of ``archlab rf`` (matplotlib, Agg): the FMap-end unit grid and the head maps, honestly drawn.

* a backdrop is drawn under a map only when the network saw that image (the drawn or LFW probe faces: their
  mean; a user image); with noise inputs the maps stand alone, with the face region outlined;
* every ratio in a title carries its 95% interval over the samples and, where the interval covers 1 with
  random weights, the words "no structure beyond initialisation noise";
* position weights are drawn on a fixed scale, 1 ± at least 0.5 (GAP's uniform weight is 1), so that
  initialisation noise does not read as structure.

Sizes as :mod:`archlab.render.plots` (``UNITS_SIZE``, ``heads_size``); the unit figure with trained weights
has a fourth panel (the random-weight face share beside the trained one).
"""

from __future__ import annotations

from pathlib import Path

from archlab.errors import ArchlabError
from archlab.render.plots import DPI, UNITS_SIZE, heads_size

UNITS_PAIR_SIZE = (19.5, 5.2)  # inches: corner | centre | face share (trained) | face share (random)
POSITION_SPREAD = 0.5  # the position-weight colour scale spans at least 1 ± this


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _grey(img):
    return img.mean(axis=2) if img.ndim == 3 else img


def _subtitle(study) -> str:
    opts = ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in study.options.items())
    who = "random weights" if study.weights is None else f"weights: {Path(study.weights).name}"
    how = "real network" if study.method == "real" else "zero canvas (hypothetical network)"
    return (
        f"{study.model}{' (' + opts + ')' if opts else ''}, input {study.image_hw[0]}x{study.image_hw[1]}, "
        f"N={study.samples}, seed {study.seed}; {who}; ERF {study.erf} on the {how}; inputs: {study.image_source}"
    )


def _outline(ax, study, extent=None) -> None:
    if study.face_region is not None:
        ax.contour(
            study.face_region.astype(float),
            levels=[0.5],
            colors="white",
            linestyles="--",
            linewidths=1.0,
            extent=extent,
            origin="upper",
        )


def _unit_panel(ax, study, u, vmax):
    import numpy as np
    from matplotlib.patches import Rectangle

    g = study.grid
    top, left, ch, cw = g.canvas
    ih, iw = study.image_hw
    extent = (-left - 0.5, cw - left - 0.5, ch - top - 0.5, -top - 0.5)  # image pixel coordinates
    if study.image is not None:
        backdrop = np.zeros((ch, cw))
        backdrop[top : top + ih, left : left + iw] = _grey(study.image)
        ax.imshow(backdrop, cmap="gray", extent=extent, vmin=0, vmax=1)
    im = ax.imshow(
        g.maps[u], cmap="inferno", alpha=0.75 if study.image is not None else 1.0, extent=extent, vmin=0, vmax=vmax
    )
    _outline(ax, study, (-0.5, iw - 0.5, ih - 0.5, -0.5))
    ax.add_patch(Rectangle((-0.5, -0.5), iw, ih, fill=False, ec="white", lw=1.2))
    (y0, y1), (x0, x1) = study.rf.box(*u)
    ax.add_patch(
        Rectangle(
            (x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, ec="cyan", ls="--", lw=1, label="theoretical RF"
        )
    )
    cy, cx = g.centres[u[0]][u[1]]
    ax.plot([cx], [cy], "c+", ms=10, mew=2, label="RF centre")
    ax.plot([g.com[u][1]], [g.com[u][0]], "wx", ms=8, mew=2, label="ERF centre of mass")
    ax.set_title(f"unit {u}: {g.face_share[u]:.1%} of its ERF on the face region", fontsize=9)
    pad = max(ih, iw) * (0.6 if study.method == "canvas" else 0.02)
    ax.set_xlim(-pad - 0.5, iw - 0.5 + pad)
    ax.set_ylim(ih - 0.5 + pad, -pad - 0.5)
    ax.set_xlabel("x (input pixels)")
    ax.set_ylabel("y (input pixels)")
    ax.legend(loc="lower right", fontsize=7, framealpha=0.6)
    return im


def _share_panel(fig, ax, grid, label: str) -> None:
    import numpy as np

    h, w = grid.shape
    share = np.ma.masked_invalid(grid.face_share)
    im = ax.imshow(share, cmap="viridis", vmin=0, vmax=1)
    for i in range(h):
        for j in range(w):
            if not np.isnan(grid.face_share[i, j]):
                ax.text(j, i, f"{grid.face_share[i, j]:.2f}", ha="center", va="center", fontsize=7, color="white")
    iv = grid.ratio("face")
    ratio = f"\ncentre/corner {iv.label(2)}: {iv.verdict(grid.weights == 'random')}" if iv is not None else ""
    ax.set_title(f"face share of each unit's ERF ({label}){ratio}", fontsize=9)
    ax.set_xlabel("unit column j")
    ax.set_ylabel("unit row i")
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    fig.colorbar(im, ax=ax, shrink=0.85, label="share of ERF mass on the face region")


def plot_units(study):
    """Corner and centre unit ERFs (shared colour scale) and the grid of face shares (trained and random side
    by side when the study has both). Returns the matplotlib figure."""
    plt = _pyplot()
    g = study.grid
    h, w = g.shape
    pair = study.random_grid is not None
    picks = [u for u in ((0, 0), (h // 2, w // 2)) if u in g.maps] or g.units[:2]
    fig, axes = plt.subplots(1, 4 if pair else 3, figsize=UNITS_PAIR_SIZE if pair else UNITS_SIZE, layout="constrained")
    vmax = max(float(g.maps[u].max()) for u in picks)
    im = None
    for ax, u in zip(axes[:2], picks + [None] * (2 - len(picks))):
        if u is None:
            ax.set_axis_off()
            continue
        im = _unit_panel(ax, study, u, vmax)
    if im is not None:
        fig.colorbar(im, ax=list(axes[:2]), shrink=0.85, label="ERF mass per pixel (each unit sums to 1)")
    _share_panel(fig, axes[2], g, f"{g.weights} weights")
    if pair:
        _share_panel(fig, axes[3], study.random_grid, "random weights")
    seen = "backdrop: the mean probe face (the inputs)" if study.image is not None else "no backdrop: noise inputs"
    fig.suptitle(
        f"Effective receptive fields at FMap-end ({study.fmap}, theoretical RF {study.rf.label()} px, jump "
        f"{study.rf.label('jump')}); dashed white: the face region; {seen}\n{_subtitle(study)}",
        fontsize=10,
    )
    return fig


def _importance_panel(ax, study, r, vmax):
    ih, iw = study.image_hw
    if study.image is not None:
        ax.imshow(_grey(study.image), cmap="gray", vmin=0, vmax=1)
    im = ax.imshow(r.importance, cmap="inferno", alpha=0.7 if study.image is not None else 1.0, vmin=0, vmax=vmax)
    _outline(ax, study)
    ax.plot([(iw - 1) / 2], [(ih - 1) / 2], "c+", ms=12, mew=2, label="image centre")
    ax.plot([r.com[1]], [r.com[0]], "wx", ms=9, mew=2, label="centre of mass")
    face = f"face share {r.face_share.label(2)}" if r.face_share is not None else ""
    ax.set_title(f"{r.name} ({r.weights}): {r.params:,} params, {r.madds:,} MAdds\nimportance, {face}", fontsize=9)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.legend(loc="lower right", fontsize=7, framealpha=0.6)
    return im


def _position_panel(ax, r, spread):
    hh, ww = r.position_weight.shape
    rel = r.position_weight * hh * ww  # 1 = the uniform weight 1/HW
    pm = ax.imshow(rel, cmap="coolwarm", vmin=1 - spread, vmax=1 + spread)
    for i in range(hh):
        for j in range(ww):
            ax.text(j, i, f"{rel[i, j]:.2f}", ha="center", va="center", fontsize=6)
    iv = r.position_cc
    said = iv.verdict(r.weights == "random") if iv is not None else ""
    if r.weights == "backbone" and r.name != "gap":
        said = "one random head on the trained backbone: not learned"
    ratio = f"centre/corner {iv.label(2)}\n{said}" if iv is not None else ""
    ax.set_title(f"{r.name}: weight per FMap-end position (x HW)\n{ratio}", fontsize=9)
    ax.set_xlabel("unit column j")
    ax.set_ylabel("unit row i")
    ax.set_xticks(range(ww))
    ax.set_yticks(range(hh))
    return pm


def plot_heads(study):
    """Per head: the importance map (over the input only when it was seen) and the weight it gives each
    FMap-end position on a fixed scale, each ratio with its interval. Returns the matplotlib figure."""
    plt = _pyplot()
    heads = [r for r in study.heads.values() if r.importance is not None]
    k = len(heads)
    fig, axes = plt.subplots(2, k, figsize=heads_size(k), layout="constrained", squeeze=False)
    vmax = max(float(r.importance.max()) for r in heads)
    spread = max([POSITION_SPREAD] + [float(abs(r.position_weight * r.position_weight.size - 1).max()) for r in heads])
    im = pm = None
    for col, r in enumerate(heads):
        im = _importance_panel(axes[0, col], study, r, vmax)
        pm = _position_panel(axes[1, col], r, spread)
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8, label="importance (each map sums to 1)")
    fig.colorbar(pm, ax=list(axes[1]), shrink=0.8, label="weight share x HW (1 = uniform, as GAP)")
    fig.suptitle(
        f"Embedding heads after FMap-end ({study.fmap_shape[1]}x{study.fmap_shape[2]}x{study.fmap_shape[0]}); "
        f"dashed white: the face region\n{_subtitle(study)}",
        fontsize=10,
    )
    return fig


FIGURE_SET = ("rf_units", "rf_heads")  # the files of one `archlab rf --out DIR` (.png, and .svg with --svg)


def save_figures(study, out_dir: str | Path, *, svg: bool = False) -> list[str]:
    """Write ``rf_units.png`` (when the unit grid was measured) and ``rf_heads.png`` (when heads were compared),
    plus SVG copies with ``svg``, into ``out_dir`` (created if missing). Returns the paths written.

    The set is published together (:func:`archlab.storage.publish.publish_files`): every figure is rendered and
    staged before any is renamed into place, and members of an earlier set that this one lacks are removed, so
    ``out_dir`` never holds figures of two studies, and a failure leaves the old set whole."""
    import io

    from archlab.storage.publish import publish_files

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ArchlabError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ArchlabError(f"--out {out}: cannot create the folder: {e.strerror or e}") from None
    plt = _pyplot()
    rendered: dict[Path, bytes] = {}
    jobs = []
    if study.grid is not None and study.grid.maps:
        jobs.append(("rf_units", plot_units))
    if any(r.importance is not None for r in study.heads.values()):
        jobs.append(("rf_heads", plot_heads))
    for stem, draw in jobs:
        fig = draw(study)
        try:
            for fmt in ("png", "svg") if svg else ("png",):
                buf = io.BytesIO()
                fig.savefig(buf, format=fmt, dpi=DPI)
                rendered[out / f"{stem}.{fmt}"] = buf.getvalue()
        finally:
            plt.close(fig)
    return publish_files(rendered, remove=[out / f"{stem}.{fmt}" for stem in FIGURE_SET for fmt in ("png", "svg")])
