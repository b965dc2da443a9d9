"""Figures (matplotlib, Agg backend): the FMap-end unit grid and the head importance maps of ``archlab rf``.

Every figure has a fixed size (``*_SIZE`` in inches, saved at ``DPI`` without tight cropping), so a PNG is
always ``size * DPI`` pixels. Files are written atomically (temporary file, then rename).
"""

from __future__ import annotations

from pathlib import Path

from archlab.errors import ArchlabError

DPI = 150
UNITS_SIZE = (15.0, 5.2)  # inches: corner unit ERF | centre unit ERF | share-on-image grid
HEAD_PANEL = (4.6, 8.6)  # inches per head: importance map over the face / position weights
RANDOM_NOTE = "random weights: the architecture's geometry, not what a trained model learned"


def figure_pixels(size: tuple[float, float]) -> tuple[int, int]:
    """(width, height) in pixels of a figure of ``size`` inches saved at DPI."""
    return round(size[0] * DPI), round(size[1] * DPI)


def heads_size(n_heads: int) -> tuple[float, float]:
    return (HEAD_PANEL[0] * n_heads + 0.9, HEAD_PANEL[1])


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
    """Corner and centre unit ERFs on the measuring canvas (shared colour scale) and the 2-D grid of ERF mass
    share on the image. Returns the matplotlib figure."""
    import numpy as np
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    g = study.grid
    h, w = g.shape
    top, left, ch, cw = g.canvas
    ih, iw = study.image_hw
    corner, centre = (0, 0), (h // 2, w // 2)
    picks = [u for u in (corner, centre) if u in g.maps] or g.units[:2]
    fig, axes = plt.subplots(1, 3, figsize=UNITS_SIZE, layout="constrained")
    backdrop = np.zeros((ch, cw))
    backdrop[top : top + ih, left : left + iw] = _grey(study.image)
    extent = (-left - 0.5, cw - left - 0.5, ch - top - 0.5, -top - 0.5)  # image pixel coordinates
    vmax = max(float(g.maps[u].max()) for u in picks)
    im = None
    for ax, u in zip(axes[:2], picks + [None] * (2 - len(picks))):
        if u is None:
            ax.set_axis_off()
            continue
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
                lw=1,
                label="theoretical RF",
            )
        )
        cy, cx = g.centres[u[0]][u[1]]
        ax.plot([cx], [cy], "c+", ms=10, mew=2, label="RF centre")
        ax.plot([g.com[u][1]], [g.com[u][0]], "wx", ms=8, mew=2, label="ERF centre of mass")
        ax.set_title(f"unit {u}: {g.erf_inside[u]:.1%} of ERF mass on the image")
        pad = max(ih, iw) * 0.6  # the image and its surroundings; the RF box may run past the view
        ax.set_xlim(-pad - 0.5, iw - 0.5 + pad)
        ax.set_ylim(ih - 0.5 + pad, -pad - 0.5)
        ax.set_xlabel("x (input pixels)")
        ax.set_ylabel("y (input pixels)")
        ax.legend(loc="lower right", fontsize=7, framealpha=0.6)
    if im is not None:
        fig.colorbar(im, ax=list(axes[:2]), shrink=0.85, label="ERF mass per pixel (each unit sums to 1)")
    ax = axes[2]
    share = np.ma.masked_invalid(g.erf_inside)
    im2 = ax.imshow(share, cmap="viridis", vmin=float(np.nanmin(g.erf_inside)) if share.count() else 0, vmax=1)
    for i in range(h):
        for j in range(w):
            if not np.isnan(g.erf_inside[i, j]):
                ax.text(j, i, f"{g.erf_inside[i, j]:.2f}", ha="center", va="center", fontsize=7, color="white")
    ax.set_title(f"share of ERF mass on the image ({h}x{w} units)")
    ax.set_xlabel("unit column j")
    ax.set_ylabel("unit row i")
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    fig.colorbar(im2, ax=ax, shrink=0.85, label="share of ERF mass on image pixels (rest: padding)")
    fig.suptitle(
        f"Effective receptive fields at FMap-end ({study.fmap}, theoretical RF {study.rf.label()} px, "
        f"jump {study.rf.label('jump')})\n{_subtitle(study)}",
        fontsize=10,
    )
    return fig


def plot_heads(study):
    """Per head: the importance map over the face (shared colour scale) and the weight it gives each FMap-end
    position (shared colour scale). Returns the matplotlib figure."""

    plt = _pyplot()
    heads = [r for r in study.heads.values() if r.importance is not None]
    k = len(heads)
    fig, axes = plt.subplots(2, k, figsize=heads_size(k), layout="constrained", squeeze=False)
    vmax = max(float(r.importance.max()) for r in heads)
    spread = max(float(abs(r.position_weight * r.position_weight.size - 1).max()) for r in heads) or 0.05
    ih, iw = study.image_hw
    im = pm = None
    for col, r in enumerate(heads):
        ax = axes[0, col]
        ax.imshow(_grey(study.image), cmap="gray", vmin=0, vmax=1)
        im = ax.imshow(r.importance, cmap="inferno", alpha=0.7, vmin=0, vmax=vmax)
        ax.plot([(iw - 1) / 2], [(ih - 1) / 2], "c+", ms=12, mew=2, label="image centre")
        ax.plot([r.com[1]], [r.com[0]], "wx", ms=9, mew=2, label="centre of mass")
        ax.set_title(
            f"{r.name}: {r.params:,} params, {r.madds:,} MAdds\nimportance |d(u.e)/dx|, "
            f"r50 {r.r50:.0f} px, r90 {r.r90:.0f} px",
            fontsize=9,
        )
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
        ax.legend(loc="lower right", fontsize=7, framealpha=0.6)
        ax = axes[1, col]
        hh, ww = r.position_weight.shape
        rel = r.position_weight * hh * ww  # 1 = the uniform weight 1/HW
        pm = ax.imshow(rel, cmap="coolwarm", vmin=1 - spread, vmax=1 + spread)
        for i in range(hh):
            for j in range(ww):
                ax.text(j, i, f"{rel[i, j]:.2f}", ha="center", va="center", fontsize=6)
        rule = {"gap": "uniform 1/HW", "gdconv": "mean |kernel| per position", "fc": "mean |weight| per position"}.get(
            r.name, ""
        )
        ax.set_title(f"{r.name}: weight per FMap-end position\n({rule}; x HW, 1 = uniform)", fontsize=9)
        ax.set_xlabel("unit column j")
        ax.set_ylabel("unit row i")
        ax.set_xticks(range(ww))
        ax.set_yticks(range(hh))
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8, label="importance (each map sums to 1)")
    fig.colorbar(pm, ax=list(axes[1]), shrink=0.8, label="weight share x HW (1 = uniform, as GAP)")
    fig.suptitle(
        f"Embedding heads after FMap-end ({study.fmap_shape[1]}x{study.fmap_shape[2]}x"
        f"{study.fmap_shape[0]})\n{_subtitle(study)}",
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
