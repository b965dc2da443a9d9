"""Figures (matplotlib, Agg backend): the FMap-end unit grid and the head importance maps of ``archlab rf``.

Every figure has a fixed size (``*_SIZE`` in inches, saved at ``DPI`` without tight cropping), so a PNG is
always ``size * DPI`` pixels; its text is 9 pt or more, scaled up for figures wider than 12 inches, so that a
page showing it 960 px wide still shows 9 px text (:mod:`archlab.render.report_plots`). Files are written atomically
(temporary file, then rename).

**Honest colour scales.** The weight each head gives each FMap-end position is drawn relative to uniform
(1 = GAP's 1/HW) on a scale symmetric around 1 that spans at least ``1 ± WEIGHT_SCALE_FLOOR``, so that a few
percent read as a few percent, not as the whole colour range. With random head weights the spread that
initialisation noise alone gives is drawn on the colour bar (grey band) and a head whose map stays inside it is
flagged "no structure beyond init noise": each position's weight is a mean of |w| over ``M`` He-normal draws
(GDConv: channels x samples; FC: outputs x channels x samples), whose relative standard deviation is
``sqrt(pi/2 - 1) / sqrt(M)`` (|w| is half-normal); the band is 3 of those.
"""

from __future__ import annotations

import math
from pathlib import Path

from archlab.render.report_plots import MIN_TEXT_PT, figure_style, text_scale

DPI = 150
UNITS_SIZE = (15.0, 5.2)  # inches: corner unit ERF | centre unit ERF | share-on-image grid
HEAD_PANEL = (3.6, 7.4)  # inches per head: importance map over the face / position weights
RANDOM_NOTE = "random weights: the architecture's geometry, not what a trained model learned"
WEIGHT_SCALE_FLOOR = 0.5  # the position-weight scale spans at least 0.5 ... 1.5 (x uniform)
NOISE_SIGMAS = 3.0
CELL_TEXT_MAX = 8  # grids up to 8 x 8 print their values in the cells


def figure_pixels(size: tuple[float, float]) -> tuple[int, int]:
    """(width, height) in pixels of a figure of ``size`` inches saved at DPI."""
    return round(size[0] * DPI), round(size[1] * DPI)


def heads_size(n_heads: int) -> tuple[float, float]:
    return (HEAD_PANEL[0] * n_heads + 0.9, HEAD_PANEL[1])


def init_noise(study, head) -> float | None:
    """The relative spread (NOISE_SIGMAS standard deviations) of a head's position weights that random
    He-normal initialisation alone gives (see the module docstring); None for trained head weights or a
    head that weighs every position alike (GAP)."""
    if head.weights == "trained" or head.name not in ("gdconv", "fc"):
        return None
    c = study.fmap_shape[0]
    draws = c * max(1, study.samples) * (head.out_dim if head.name == "fc" else 1)
    return NOISE_SIGMAS * math.sqrt(math.pi / 2 - 1) / math.sqrt(draws)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _grey(img):
    return img.mean(axis=2) if img.ndim == 3 else img


def _subtitle(study) -> str:
    opts = ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in study.options.items())
    who = RANDOM_NOTE if study.weights is None else f"weights: {Path(study.weights).name}"
    return (
        f"{study.model}{' (' + opts + ')' if opts else ''}, input {study.image_hw[0]}x{study.image_hw[1]}, "
        f"N={study.samples} sample(s), seed {study.seed}; {who}"
    )


def plot_units(study):
    """Corner and centre unit ERFs on the measuring canvas (shared colour scale; the view holds the whole
    canvas, so every unit's theoretical RF box is drawn whole) and the 2-D grid of ERF mass share on the image.
    Returns the matplotlib figure."""
    import numpy as np

    g = study.grid
    h, w = g.shape
    corner, centre = (0, 0), (h // 2, w // 2)
    picks = [u for u in (corner, centre) if u in g.maps] or g.units[:2]
    scale = text_scale(UNITS_SIZE[0])
    with figure_style(scale) as plt:
        fig, axes = plt.subplots(1, 3, figsize=UNITS_SIZE, layout="constrained")
        vmax = max(float(g.maps[u].max()) for u in picks)
        im = None
        for ax, u in zip(axes[:2], picks + [None] * (2 - len(picks))):
            if u is None:
                ax.set_axis_off()
                continue
            im = _unit_panel(ax, study, u, vmax)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=4, facecolor="0.25", labelcolor="white")
        if im is not None:
            fig.colorbar(im, ax=list(axes[:2]), shrink=0.85, label="ERF mass per pixel (each unit sums to 1)")
        ax = axes[2]
        share = np.ma.masked_invalid(g.erf_inside)
        im2 = ax.imshow(share, cmap="viridis", vmin=float(np.nanmin(g.erf_inside)) if share.count() else 0, vmax=1)
        if max(h, w) <= CELL_TEXT_MAX:
            for i in range(h):
                for j in range(w):
                    if not np.isnan(g.erf_inside[i, j]):
                        ax.text(
                            j,
                            i,
                            f"{g.erf_inside[i, j]:.2f}",
                            ha="center",
                            va="center",
                            color="white",
                            fontsize=MIN_TEXT_PT * scale,
                        )
        ax.set_title(f"share of ERF mass on the image\n({h}x{w} units)")
        ax.set_xlabel("unit column j")
        ax.set_ylabel("unit row i")
        ax.set_xticks(range(w))
        ax.set_yticks(range(h))
        fig.colorbar(im2, ax=ax, shrink=0.85, label="share of ERF mass on the image")
        fig.suptitle(
            f"Effective receptive fields at FMap-end ({study.fmap}, theoretical RF {study.rf.label()} px, "
            f"jump {study.rf.label('jump')})\n{_subtitle(study)}"
        )
    return fig


def _unit_panel(ax, study, u, vmax: float):
    """One unit's ERF over the canvas, the image outline, its theoretical RF box, RF centre and ERF centre of
    mass; the view is the whole canvas (it holds every unit's RF box)."""
    import numpy as np
    from matplotlib.patches import Rectangle

    g = study.grid
    top, left, ch, cw = g.canvas
    ih, iw = study.image_hw
    backdrop = np.zeros((ch, cw))
    backdrop[top : top + ih, left : left + iw] = _grey(study.image)
    extent = (-left - 0.5, cw - left - 0.5, ch - top - 0.5, -top - 0.5)  # image pixel coordinates
    ax.imshow(backdrop, cmap="gray", extent=extent, vmin=0, vmax=1)
    im = ax.imshow(g.maps[u], cmap="inferno", alpha=0.75, extent=extent, vmin=0, vmax=vmax)
    ax.add_patch(Rectangle((-0.5, -0.5), iw, ih, fill=False, ec="white", lw=1.2, label="image"))
    (y0, y1), (x0, x1) = study.rf.box(*u)
    ax.add_patch(
        Rectangle(
            (x0 - 0.5, y0 - 0.5),
            x1 - x0 + 1,
            y1 - y0 + 1,
            fill=False,
            ec="cyan",
            ls="--",
            lw=1.2,
            label="theoretical RF",
        )
    )
    cy, cx = g.centres[u[0]][u[1]]
    ax.plot([cx], [cy], "c+", ms=10, mew=2, label="RF centre")
    ax.plot([g.com[u][1]], [g.com[u][0]], "wx", ms=8, mew=2, label="ERF centre of mass")
    ax.set_title(f"unit {u}: {g.erf_inside[u]:.1%} of its ERF\nmass on the image")
    margin = 0.02 * max(ch, cw)  # the canvas and a little more: no RF box touches the frame
    ax.set_xlim(min(extent[0], x0 - 0.5) - margin, max(extent[1], x1 + 0.5) + margin)
    ax.set_ylim(max(extent[2], y1 + 0.5) + margin, min(extent[3], y0 - 0.5) - margin)
    ax.set_xlabel("x (input pixels)")
    ax.set_ylabel("y (input pixels)")
    return im


def plot_heads(study):
    """Per head: the importance map over the face (shared colour scale) and the weight it gives each FMap-end
    position, relative to uniform, on a scale symmetric around 1 (see the module docstring). Returns the
    matplotlib figure."""
    import numpy as np

    heads = [r for r in study.heads.values() if r.importance is not None]
    k = len(heads)
    rels = [r.position_weight * r.position_weight.size for r in heads]  # 1 = the uniform weight 1/HW
    spread = max(float(np.abs(rel - 1).max()) for rel in rels)
    weight_range = max(WEIGHT_SCALE_FLOOR, spread)
    noise = {r.name: init_noise(study, r) for r in heads}
    scale = text_scale(heads_size(k)[0])
    with figure_style(scale) as plt:
        fig, axes = plt.subplots(2, k, figsize=heads_size(k), layout="constrained", squeeze=False)
        vmax = max(float(r.importance.max()) for r in heads)
        im = pm = None
        for col, (r, rel) in enumerate(zip(heads, rels)):
            im = _importance_panel(axes[0, col], study, r, vmax)
            pm = _weight_panel(axes[1, col], r, rel, weight_range, noise[r.name], MIN_TEXT_PT * scale)
        fig.colorbar(im, ax=list(axes[0]), shrink=0.8, label="importance (each map sums to 1)")
        band = max((v for v in noise.values() if v is not None), default=None)
        label = "x uniform (GAP = 1)" + ("; grey: init noise" if band is not None else "")
        bar = fig.colorbar(pm, ax=list(axes[1]), shrink=0.8, label=label)
        if band is not None:
            bar.ax.axhspan(1 - band, 1 + band, color="0.35", alpha=0.7)
        fig.suptitle(
            f"Embedding heads after FMap-end ({study.fmap_shape[1]}x{study.fmap_shape[2]}x"
            f"{study.fmap_shape[0]})\n{_subtitle(study)}"
        )
    return fig


def _importance_panel(ax, study, r, vmax: float):
    ih, iw = study.image_hw
    ax.imshow(_grey(study.image), cmap="gray", vmin=0, vmax=1)
    im = ax.imshow(r.importance, cmap="inferno", alpha=0.7, vmin=0, vmax=vmax)
    ax.plot([(iw - 1) / 2], [(ih - 1) / 2], "c+", ms=12, mew=2, label="image centre")
    ax.plot([r.com[1]], [r.com[0]], "wx", ms=9, mew=2, label="centre of mass")
    ax.set_title(
        f"{r.name}: {r.params:,} params,\n{r.madds:,} MAdds; importance\n|d(u.e)/dx|, "
        f"r50 {r.r50:.0f} px, r90 {r.r90:.0f} px"
    )
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.legend(loc="lower right", framealpha=0.7)
    return im


def _weight_panel(ax, r, rel, scale: float, noise: float | None, fontsize: float):
    """Position weights x HW on 1 +- scale; the title says when the map stays inside the init-noise band."""
    import numpy as np

    hh, ww = rel.shape
    pm = ax.imshow(rel, cmap="coolwarm", vmin=1 - scale, vmax=1 + scale)
    if max(hh, ww) <= CELL_TEXT_MAX:
        for i in range(hh):
            for j in range(ww):
                ax.text(j, i, f"{rel[i, j]:.2f}", ha="center", va="center", fontsize=fontsize)
    rule = {"gap": "uniform 1/HW", "gdconv": "mean |kernel|", "fc": "mean |weight|"}.get(r.name, "")
    spread = float(np.abs(rel - 1).max())
    if noise is not None and spread <= noise:
        verdict = f"no structure beyond init noise\n±{spread:.1%} (noise ±{noise:.1%})"
    elif noise is not None:
        verdict = f"±{spread:.1%}: beyond init noise\n(±{noise:.1%})"
    else:
        verdict = f"±{spread:.1%} around uniform"
    ax.set_title(f"{r.name}: weight x HW ({rule})\n{verdict}")
    ax.set_xlabel("unit column j")
    ax.set_ylabel("unit row i")
    ax.set_xticks(range(ww))
    ax.set_yticks(range(hh))
    return pm
