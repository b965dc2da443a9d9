"""Figures of ``archlab rf`` (matplotlib, Agg): the FMap-end unit grid and the head maps, honestly drawn.

* a backdrop is drawn under a map only when the network saw that image (the drawn or LFW probe faces: their
  mean; a user image); with noise inputs the maps stand alone, with the face region outlined;
* every unit panel shows the theoretical RF boxes of the drawn units whole (the view holds them and the canvas);
* every ratio in a title carries its 95% interval over the samples and, where the interval covers 1 with
  random weights, the words "no structure beyond initialisation noise";
* position weights are drawn relative to uniform (1 = GAP's 1/HW) on a scale symmetric around 1 that spans at
  least ``1 ± WEIGHT_SCALE_FLOOR``, so that a few percent read as a few percent, not as the whole colour range.
  With random head weights the spread that initialisation noise alone gives is drawn on the colour bar (grey
  band) and a head whose map stays inside it is flagged "no structure beyond init noise": each position's
  weight is a mean of |w| over ``M`` He-normal draws (GDConv: channels x samples; FC: outputs x channels x
  samples; a random head on a trained backbone is drawn once, not per sample), whose relative standard
  deviation is ``sqrt(pi/2 - 1) / sqrt(M)`` (|w| is half-normal); the band is :data:`NOISE_SIGMAS` of those.

Every figure has a fixed size (``*_SIZE`` in inches, saved at ``DPI`` without tight cropping), so a PNG is
always ``size * DPI`` pixels; its text is 9 pt or more, scaled up for figures wider than 12 inches
(:func:`archlab.render.report_plots.text_scale`), so that a page showing it 960 px wide still shows 9 px text.
The unit figure with trained weights has a fourth panel (the random-weight face share beside the trained one).
"""

from __future__ import annotations

import math
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.render.report_plots import MIN_TEXT_PT, STYLE, figure_style, pyplot, text_scale

DPI = 150
UNITS_SIZE = (15.0, 5.2)  # inches: corner unit ERF | centre unit ERF | face-share grid
UNITS_PAIR_SIZE = (15.0, 10.4)  # inches: corner | centre over face share (trained) | face share (random)
HEAD_PANEL = (3.6, 7.4)  # inches per head: importance map over the face / position weights
WEIGHT_SCALE_FLOOR = 0.5  # the position-weight scale spans at least 0.5 ... 1.5 (x uniform)
NOISE_SIGMAS = 3.0
CELL_TEXT_MAX = 8  # grids up to 8 x 8 print their values in the cells
FIGURE_SET = ("rf_units", "rf_heads")  # the files of one `archlab rf --out DIR` (.png, and .svg with --svg)


def figure_pixels(size: tuple[float, float]) -> tuple[int, int]:
    """(width, height) in pixels of a figure of ``size`` inches saved at DPI."""
    return round(size[0] * DPI), round(size[1] * DPI)


def heads_size(n_heads: int) -> tuple[float, float]:
    return (HEAD_PANEL[0] * n_heads + 0.9, HEAD_PANEL[1])


def init_noise(study, head) -> float | None:
    """The relative spread (NOISE_SIGMAS standard deviations) of a head's position weights that random
    He-normal initialisation alone gives (see the module docstring); None for trained head weights or a head
    that weighs every position alike (GAP)."""
    if head.weights == "trained" or head.name not in ("gdconv", "fc"):
        return None
    draws_per_sample = study.fmap_shape[0] * (head.out_dim if head.name == "fc" else 1)
    samples = 1 if head.weights == "backbone" else max(1, study.samples)  # one random head on a trained backbone
    return NOISE_SIGMAS * math.sqrt(math.pi / 2 - 1) / math.sqrt(draws_per_sample * samples)


def _grey(img):
    return img.mean(axis=2) if img.ndim == 3 else img


def _subtitle(study) -> list[str]:
    opts = ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in study.options.items())
    who = "random weights" if study.weights is None else f"weights: {Path(study.weights).name}"
    how = "real network" if study.method == "real" else "zero canvas (hypothetical network)"
    return [
        f"{study.model}{' (' + opts + ')' if opts else ''}, input {study.image_hw[0]}x{study.image_hw[1]}, "
        f"N={study.samples}, seed {study.seed}; {who}; ERF {study.erf} on the {how}",
        f"inputs: {study.image_source}",
    ]


def _wrap(lines: list[str], width_in: float, size_pt: float) -> str:
    """``lines`` joined, each wrapped to ``width_in`` inches of text ``size_pt`` high (never cut at an edge)."""
    import textwrap

    chars = max(16, int(width_in * 72 / (0.6 * size_pt)))  # DejaVu Sans: about 0.6 em a character
    return "\n".join(textwrap.fill(line, chars) for line in lines if line)


def _suptitle(fig, lines: list[str], scale: float) -> None:
    fig.suptitle(_wrap(lines, fig.get_figwidth(), STYLE["figure.titlesize"] * scale))


def _set_title(ax, lines: list[str]) -> None:
    """A panel's title wrapped to its column of the figure (less the colour bars' share)."""
    width = 0.85 * ax.figure.get_figwidth() / ax.get_gridspec().ncols
    ax.set_title(_wrap(lines, width, ax.title.get_fontsize()))


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


def _cell_values(ax, values, fontsize: float, color: str = "black") -> None:
    """The value of each cell of a small grid (up to CELL_TEXT_MAX per side), NaN cells left blank."""
    import numpy as np

    h, w = values.shape
    if max(h, w) > CELL_TEXT_MAX:
        return
    for i in range(h):
        for j in range(w):
            if not np.isnan(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=fontsize, color=color)


def _unit_view(study, units) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x limits, y limits) of the unit panels: the drawn canvas (the image and a margin with the canvas
    method) and every drawn unit's theoretical RF box, whole, with a little more."""
    ih, iw = study.image_hw
    pad = max(ih, iw) * (0.6 if study.method == "canvas" else 0.02)
    xs, ys = [-pad - 0.5, iw - 0.5 + pad], [-pad - 0.5, ih - 0.5 + pad]
    for u in units:
        (y0, y1), (x0, x1) = study.rf.box(*u)
        xs += [x0 - 0.5, x1 + 0.5]
        ys += [y0 - 0.5, y1 + 0.5]
    margin = 0.02 * max(max(xs) - min(xs), max(ys) - min(ys))  # no RF box touches the frame
    return (min(xs) - margin, max(xs) + margin), (max(ys) + margin, min(ys) - margin)


def _unit_panel(ax, study, u, vmax, view):
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
    ax.add_patch(Rectangle((-0.5, -0.5), iw, ih, fill=False, ec="white", lw=1.2, label="image"))
    (y0, y1), (x0, x1) = study.rf.box(*u)
    ax.add_patch(
        Rectangle(
            (x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, ec="cyan", ls="--", lw=1, label="theoretical RF"
        )
    )
    cy, cx = g.centres[u[0]][u[1]]
    ax.plot([cx], [cy], "c+", ms=10, mew=2, label="RF centre")
    ax.plot([g.com[u][1]], [g.com[u][0]], "wx", ms=8, mew=2, label="ERF centre of mass")
    share = g.face_share[u] if g.face_share is not None else float("nan")
    _set_title(ax, [f"unit {u}: {share:.1%} of its ERF on the face region"])
    ax.set_xlim(*view[0])
    ax.set_ylim(*view[1])
    ax.set_xlabel("x (input pixels)")
    ax.set_ylabel("y (input pixels)")
    return im


def _share_panel(fig, ax, grid, label: str, fontsize: float) -> None:
    import numpy as np

    h, w = grid.shape
    values = grid.face_share if grid.face_share is not None else np.full((h, w), np.nan)
    im = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0, vmax=1)
    _cell_values(ax, values, fontsize, color="white")
    iv = grid.ratio("face")
    ratio = [f"centre/corner {iv.label(2)}:", iv.verdict(grid.weights == "random")] if iv is not None else []
    _set_title(ax, [f"face share of each unit's ERF ({label})", *ratio])
    ax.set_xlabel("unit column j")
    ax.set_ylabel("unit row i")
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    fig.colorbar(im, ax=ax, shrink=0.85, label="share of ERF mass on the face region")


def plot_units(study):
    """Corner and centre unit ERFs (shared colour scale; the view holds both units' theoretical RF boxes whole)
    and the grid of face shares; with trained weights the random-weight grid beside the trained one (a second
    row). Returns the matplotlib figure."""
    g = study.grid
    h, w = g.shape
    pair = study.random_grid is not None
    size = UNITS_PAIR_SIZE if pair else UNITS_SIZE
    picks = [u for u in ((0, 0), (h // 2, w // 2)) if u in g.maps] or g.units[:2]
    scale = text_scale(size[0])
    with figure_style(scale) as plt:
        fig, grid_axes = plt.subplots(2 if pair else 1, 2 if pair else 3, figsize=size, layout="constrained")
        axes = list(grid_axes.flat)
        vmax = max(float(g.maps[u].max()) for u in picks)
        view = _unit_view(study, picks)
        im = None
        for ax, u in zip(axes[:2], picks + [None] * (2 - len(picks))):
            if u is None:
                ax.set_axis_off()
                continue
            im = _unit_panel(ax, study, u, vmax, view)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=4, facecolor="0.25", labelcolor="white")
        if im is not None:
            fig.colorbar(im, ax=axes[:2], shrink=0.85, label="ERF mass per pixel\n(each unit sums to 1)")
        _share_panel(fig, axes[2], g, f"{g.weights} weights", MIN_TEXT_PT * scale)
        if pair:
            _share_panel(fig, axes[3], study.random_grid, "random weights", MIN_TEXT_PT * scale)
        seen = "backdrop: the mean probe face (the inputs)" if study.image is not None else "no backdrop: noise inputs"
        headline = (
            f"Effective receptive fields at FMap-end ({study.fmap}, theoretical RF {study.rf.label()} px, jump "
            f"{study.rf.label('jump')}); dashed white: the face region; {seen}"
        )
        _suptitle(fig, [headline, *_subtitle(study)], scale)
    return fig


def _importance_panel(ax, study, r, vmax):
    ih, iw = study.image_hw
    if study.image is not None:
        ax.imshow(_grey(study.image), cmap="gray", vmin=0, vmax=1)
    im = ax.imshow(r.importance, cmap="inferno", alpha=0.7 if study.image is not None else 1.0, vmin=0, vmax=vmax)
    _outline(ax, study)
    ax.plot([(iw - 1) / 2], [(ih - 1) / 2], "c+", ms=12, mew=2, label="image centre")
    ax.plot([r.com[1]], [r.com[0]], "wx", ms=9, mew=2, label="centre of mass")
    face = f"importance, face share {r.face_share.label(2)}" if r.face_share is not None else "importance"
    _set_title(ax, [f"{r.name} ({r.weights}): {r.params:,} params, {r.madds:,} MAdds", face])
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.legend(loc="lower right", framealpha=0.6)
    return im


def _position_panel(ax, r, spread: float, noise: float | None, fontsize: float):
    """Position weights x HW on 1 ± spread; the title says where the map stands against the init-noise band
    and what the centre/corner interval says."""
    import numpy as np

    hh, ww = r.position_weight.shape
    rel = r.position_weight * hh * ww  # 1 = the uniform weight 1/HW
    pm = ax.imshow(rel, cmap="coolwarm", vmin=1 - spread, vmax=1 + spread)
    _cell_values(ax, rel, fontsize)
    away = float(np.abs(rel - 1).max())
    if noise is not None and away <= noise:
        band = f"±{away:.1%}: no structure beyond init noise (±{noise:.1%})"
    elif noise is not None:
        band = f"±{away:.1%}: beyond init noise (±{noise:.1%})"
    else:
        band = f"±{away:.1%} around uniform"
    iv = r.position_cc
    said = iv.verdict(r.weights == "random") if iv is not None else ""
    if r.weights == "backbone" and r.name != "gap":
        said = "one random head on the trained backbone: not learned"
    ratio = [f"centre/corner {iv.label(2)}:", said] if iv is not None else []
    _set_title(ax, [f"{r.name}: weight x HW per position", band, *ratio])
    ax.set_xlabel("unit column j")
    ax.set_ylabel("unit row i")
    ax.set_xticks(range(ww))
    ax.set_yticks(range(hh))
    return pm


def plot_heads(study):
    """Per head: the importance map (over the input only when it was seen) and the weight it gives each
    FMap-end position on a scale symmetric around 1, with the init-noise band of random heads and each ratio
    with its interval. Returns the matplotlib figure."""
    heads = [r for r in study.heads.values() if r.importance is not None]
    k = len(heads)
    spread = max(
        [WEIGHT_SCALE_FLOOR] + [float(abs(r.position_weight * r.position_weight.size - 1).max()) for r in heads]
    )
    noise = {r.name: init_noise(study, r) for r in heads}
    scale = text_scale(heads_size(k)[0])
    with figure_style(scale) as plt:
        fig, axes = plt.subplots(2, k, figsize=heads_size(k), layout="constrained", squeeze=False)
        vmax = max(float(r.importance.max()) for r in heads)
        im = pm = None
        for col, r in enumerate(heads):
            im = _importance_panel(axes[0, col], study, r, vmax)
            pm = _position_panel(axes[1, col], r, spread, noise[r.name], MIN_TEXT_PT * scale)
        fig.colorbar(im, ax=list(axes[0]), shrink=0.8, label="importance (each map sums to 1)")
        band = max((v for v in noise.values() if v is not None), default=None)
        label = "weight x HW (1 = uniform, as GAP)" + ("\ngrey: init noise" if band is not None else "")
        bar = fig.colorbar(pm, ax=list(axes[1]), shrink=0.8, label=label)
        if band is not None:
            bar.ax.axhspan(1 - band, 1 + band, color="0.35", alpha=0.7)
        headline = (
            f"Embedding heads after FMap-end ({study.fmap_shape[1]}x{study.fmap_shape[2]}x{study.fmap_shape[0]}); "
            "dashed white: the face region"
        )
        _suptitle(fig, [headline, *_subtitle(study)], scale)
    return fig


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
    plt = pyplot()
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
