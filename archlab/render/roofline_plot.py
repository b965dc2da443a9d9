"""The roofline figure (matplotlib, Agg): each layer a point, coloured by op type, the machine's two ceilings.

x: arithmetic intensity (FLOP/byte), y: achieved GFLOP/s, both logarithmic. The ceilings are the measured peak
(horizontal) and bandwidth x intensity (diagonal), meeting at the ridge point. Layers with no FLOPs (pad,
concat, flatten) or that do not run (folded BN) cannot be drawn on log axes and are counted in the caption.
The most time-consuming memory-bound and compute-bound layers are labelled.
"""

from __future__ import annotations

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


def roofline_figure(report: LatencyReport, path: str | Path, *, label_top: int = 3, dpi: int = 150) -> dict:
    """Draw the roofline of ``report`` (which needs ceilings) into ``path`` (.png, .svg or .pdf).

    Returns what was drawn: ``{"points": n, "skipped": n, "labelled": [names]}``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = check_path(path)
    ceil = report.ceilings
    if ceil is None:
        raise ArchlabError("the roofline figure needs the machine's ceilings")
    fig = Figure(figsize=(8, 5.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    pts = [
        layer for layer in report.layers if layer.ran and layer.flops > 0 and layer.bytes > 0 and layer.latency_ms > 0
    ]
    skipped = sum(1 for layer in report.layers) - len(pts)
    xs = [p.intensity for p in pts if p.intensity is not None]
    lo = min(xs + [ceil.ridge]) / 4 if xs else ceil.ridge / 100
    hi = max(xs + [ceil.ridge]) * 4 if xs else ceil.ridge * 100
    # the two ceilings
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(
        grid,
        [ceil.attainable_gflops(x) for x in grid],
        color="black",
        lw=1.5,
        zorder=1,
        label=f"roof: {ceil.bandwidth_gbs:.2f} GB/s (copy) x intensity, peak {ceil.peak_gflops:.1f} GFLOP/s (sgemm)",
    )
    ax.axvline(ceil.ridge, color="grey", lw=0.6, ls=":", zorder=0, label=f"ridge {ceil.ridge:.1f} FLOP/B")
    by_cat: dict[str, list] = {}
    for p in pts:
        by_cat.setdefault(p.category, []).append(p)
    total = report.e2e.median or 1.0
    for cat, members in sorted(by_cat.items()):
        sizes = [max(8.0, 400.0 * m.latency_ms / total) for m in members]
        ax.scatter(
            [m.intensity for m in members],
            [m.gflops for m in members],
            s=sizes,
            alpha=0.7,
            color=COLORS.get(cat, "#333333"),
            label=f"{cat} ({len(members)})",
            edgecolors="none",
            zorder=2,
        )
    labelled = []
    for bound in ("memory", "compute"):
        for m in report.top(bound, label_top):
            ax.annotate(m.name, (m.intensity, m.gflops), textcoords="offset points", xytext=(4, 4), fontsize=7)
            labelled.append(m.name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ys = [p.gflops for p in pts if p.gflops] + [ceil.peak_gflops]
    ax.set_ylim(min(ys) / 3, max(ys) * 3)
    ax.set_xlabel("arithmetic intensity (FLOP/byte, fp32; bytes = inputs + weights + output)")
    ax.set_ylabel("achieved GFLOP/s")
    ax.set_title(
        f"{report.model}: roofline ({report.runtime}, {report.threads} thread"
        f"{'s' if report.threads != 1 else ''}, batch {report.batch}); point area ~ share of time",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    if skipped:
        fig.text(
            0.01, 0.01, f"{skipped} layer{'s' if skipped != 1 else ''} not drawn (no FLOPs, or not run)", fontsize=7
        )
    fig.tight_layout()
    from archlab.render.output import save_figure

    save_figure(fig, path, dpi=dpi)
    return {"points": len(pts), "skipped": skipped, "labelled": labelled}


def check_path(path: str | Path) -> Path:
    """The figure's path, or an ArchlabError: the format comes from the suffix; the folder must exist."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ArchlabError(f"--roofline {path}: the figure format comes from the suffix, one of {', '.join(FORMATS)}")
    if not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise ArchlabError(f"cannot write {path}: folder {path.parent} does not exist")
    return path
