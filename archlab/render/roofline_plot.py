"""The roofline figure (matplotlib, Agg): each layer a point, coloured by op type, under one roof per memory level.

x: arithmetic intensity (FLOP/byte), y: achieved GFLOP/s, both logarithmic. Each memory level of the ceilings
(L1, L2, last-level cache, DRAM) is a roof: its copy bandwidth x intensity (diagonal) up to the measured peak
(horizontal), labelled with its bandwidths and capacity; a layer whose footprint fits a cache is bound by that
level's roof (static/roofline.py). The DRAM ridge is marked. Layers with no FLOPs (pad,
concat, flatten) or that do not run (folded BN) cannot be drawn on log axes and are counted in the caption.
The most time-consuming memory-bound and compute-bound layers are labelled.
"""

from __future__ import annotations

import math
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.timing.anatomy import LatencyReport

COLORS = {
    "conv kxk": "#1f77b4",
    "conv 1x1": "#ff7f0e",
    "conv dw": "#2ca02c",
    "conv grouped": "#17becf",
    "linear": "#9467bd",
    "bn": "#8c564b",
    "act": "#e377c2",
    "add": "#7f7f7f",
    "mul": "#bcbd22",
    "pool": "#d62728",
}
FORMATS = (".png", ".svg", ".pdf")
ROOF_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")  # the caches' roofs, fastest first (DRAM: black)


def roofline_figure(report: LatencyReport, path: str | Path, *, label_top: int = 3, dpi: int = 150) -> dict:
    """Draw the roofline of ``report`` (which needs ceilings) into ``path`` (.png, .svg or .pdf).

    Returns what was drawn: ``{"points": n, "skipped": n, "labelled": [names]}``. Labels never overlap each
    other or a point (:func:`archlab.render.report_plots.place_labels`); the legend sits below the axes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from archlab.render.report_plots import STYLE, place_labels, pyplot

    path = check_path(path)
    ceil = report.ceilings
    if ceil is None:
        raise ArchlabError("the roofline figure needs the machine's ceilings")
    pts = [
        layer for layer in report.layers if layer.ran and layer.flops > 0 and layer.bytes > 0 and layer.latency_ms > 0
    ]
    skipped = sum(1 for layer in report.layers) - len(pts)
    with pyplot().rc_context(STYLE):
        fig = Figure(figsize=(8, 6.4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        _ceilings(ax, ceil, [p.intensity for p in pts if p.intensity is not None])
        _points(ax, pts, report.e2e.median or 1.0)
        ys = [p.gflops for p in pts if p.gflops] + [ceil.peak_gflops]
        ax.set_ylim(min(ys) / 3, max(ys) * 3)
        ax.set_xlabel("arithmetic intensity (FLOP/byte, fp32; bytes = inputs + weights + output)")
        ax.set_ylabel("achieved GFLOP/s")
        not_drawn = (
            f"; {skipped} layer{'s' if skipped != 1 else ''} not drawn (no FLOPs, or not run)" if skipped else ""
        )
        ax.set_title(
            f"{report.model}: roofline ({report.runtime}, {report.threads} thread"
            f"{'s' if report.threads != 1 else ''}, batch {report.batch})\npoint area ~ share of time{not_drawn}"
        )
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
        fig.legend(loc="outside lower center", ncols=2, frameon=False)
        top = [m for bound in ("memory", "compute") for m in report.top(bound, label_top)]
        place_labels(ax, [(m.intensity, m.gflops) for m in top], [m.name for m in top], "0.15")
        from archlab.render.output import save_figure

        save_figure(fig, path, dpi=dpi)
    return {"points": len(pts), "skipped": skipped, "labelled": [m.name for m in top]}


def _ceilings(ax, ceil, xs: list[float]) -> None:
    """One roof per memory level (its copy bandwidth x intensity, up to the peak; DRAM solid, the caches
    dashed, fastest first) and the DRAM ridge, over the points' intensities."""
    lo = min(xs + [ceil.ridge]) / 4 if xs else ceil.ridge / 100
    hi = max(xs + [ceil.ridge]) * 4 if xs else ceil.ridge * 100
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    levels = ceil.memory_levels
    for i, level in enumerate(levels):
        last = i == len(levels) - 1
        ax.plot(
            grid,
            [min(ceil.peak_gflops, x * level.gbs) for x in grid],
            color="black" if last else ROOF_COLORS[i % len(ROOF_COLORS)],
            lw=1.5 if last else 1.1,
            ls="-" if last else "--",
            zorder=1,
            label=_roof_label(level),
        )
    ax.axhline(
        ceil.peak_gflops, color="black", lw=0.6, ls="-.", zorder=0, label=f"peak {ceil.peak_gflops:.3g} GFLOP/s (sgemm)"
    )
    ax.axvline(ceil.ridge, color="grey", lw=0.6, ls=":", zorder=0, label=f"DRAM ridge {ceil.ridge:.3g} FLOP/B")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)


def _roof_label(level) -> str:
    """``L2 roof: 40.1 GB/s copy, 63.2 update (fits 2 MiB)``."""
    update = f", {level.update_gbs:.3g} update" if level.update_gbs else ""
    fits = "" if math.isinf(level.capacity) else f" (fits {_size(level.capacity)})"
    return f"{level.name} roof: {level.gbs:.3g} GB/s copy{update}{fits}"


def _size(nbytes: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


def _points(ax, pts, total_ms: float) -> None:
    by_cat: dict[str, list] = {}
    for p in pts:
        by_cat.setdefault(p.category, []).append(p)
    for cat, members in sorted(by_cat.items()):
        ax.scatter(
            [m.intensity for m in members],
            [m.gflops for m in members],
            s=[max(8.0, 400.0 * m.latency_ms / total_ms) for m in members],
            alpha=0.7,
            color=COLORS.get(cat, "#333333"),
            label=f"{cat} ({len(members)})",
            edgecolors="none",
            zorder=2,
        )


def check_path(path: str | Path) -> Path:
    """The figure's path, or an ArchlabError: the format comes from the suffix; the folder must exist."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ArchlabError(f"--roofline {path}: the figure format comes from the suffix, one of {', '.join(FORMATS)}")
    if not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise ArchlabError(f"cannot write {path}: folder {path.parent} does not exist")
    return path
