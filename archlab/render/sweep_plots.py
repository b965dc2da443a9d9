"""The sweep figure (matplotlib, Agg): latency vs width per stem with CI bands, and latency vs MAdds with
the Pareto front marked.

Pareto front (right panel): the configurations that no other configuration beats on both axes, i.e. none
has at least as many MAdds (the compute the network spends, a rough proxy for capacity) at no more latency.
Read it as "the most compute per millisecond": points above the line pay latency for MAdds they could have
had cheaper with another width/stem.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_EXTRA = ("input", "head", "threads", "batch", "runtime", "channels_last")


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points (madds, latency) not dominated: no other point has madds >= and latency <=
    with one of them strict. Sorted by MAdds."""
    idx = []
    for i, (m, t) in enumerate(points):
        dominated = any((m2 >= m and t2 <= t) and (m2 > m or t2 < t) for j, (m2, t2) in enumerate(points) if j != i)
        if not dominated:
            idx.append(i)
    return sorted(idx, key=lambda i: points[i][0])


def _series_label(row: dict, varying: list[str]) -> str:
    parts = [f"stem {row['stem']}"]
    for c in varying:
        v = row[c]
        parts.append(
            {"threads": f"{v} thr", "batch": f"batch {v}", "channels_last": "NHWC" if v else "NCHW"}.get(c, str(v))
        )
    return ", ".join(parts)


def _fixed(col: str, v) -> str:
    if col == "channels_last":
        return "channels_last" if v else "NCHW"
    return f"{col} {v}"


def plot_sweep(rows: list[dict], path: str | Path, title: str | None = None, dpi: int = 110) -> Path:
    """Write the two-panel figure for typed sweep rows (``SweepResult.typed_rows()``); returns the path."""
    import io

    from archlab.render.output import write_atomic
    from archlab.render.report_plots import pyplot

    path = Path(path)
    fig = sweep_figure(rows, title)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=(path.suffix.lstrip(".") or "png").lower(), dpi=dpi, metadata={"Software": None})
    finally:
        pyplot().close(fig)
    write_atomic(path, buf.getvalue())
    return path


def sweep_figure(rows: list[dict], title: str | None = None):
    """The two panels (latency vs width per stem; latency vs MAdds with the Pareto front), 12 x 5 inches."""
    from archlab.render.report_plots import MIN_TEXT_PT, figure_style, place_labels

    rows = [r for r in rows if r.get("median_ms") is not None]
    varying = [c for c in CONFIG_EXTRA if len({r[c] for r in rows}) > 1]
    series: dict[str, list[dict]] = {}
    for r in rows:
        series.setdefault(_series_label(r, varying), []).append(r)
    with figure_style() as plt:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        labels: list = []  # (madds, ms, width text, colour) of every point: placed once the axes are final
        for i, (label, rs) in enumerate(series.items()):
            color = colors[i % len(colors)]
            _series(ax1, ax2, sorted(rs, key=lambda r: r["width"]), label, color, MIN_TEXT_PT)
            labels += [(r["madds"] / 1e6, r["median_ms"], f"{r['width']:g}", color) for r in rs]
        ax1.set_xlabel("width multiplier")
        ax1.set_ylabel("median latency per call (ms), log scale")
        ax1.set_yscale("log")
        ax1.set_title("latency vs width (band: 95% CI of the median; bars: p10–p90)")
        ax1.grid(True, which="both", alpha=0.3)
        ax1.legend()
        _front(ax2, rows)
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_xlabel("MAdds (M), log scale")
        ax2.set_ylabel("median latency per call (ms), log scale")
        ax2.set_title("latency vs MAdds (labels: width; circled: Pareto front)")
        ax2.grid(True, which="both", alpha=0.3)
        ax2.legend()
        _log_ticks(ax1, ax2)
        if title:
            fixed = [_fixed(c, rows[0][c]) for c in CONFIG_EXTRA if c not in varying] if rows else []
            fig.suptitle(title + (f" ({', '.join(fixed)})" if fixed else ""))
        ax2.margins(0.08)
        place_labels(ax2, [(m, t) for m, t, _, _ in labels], [w for _, _, w, _ in labels], [c for *_, c in labels])
    return fig


def _series(ax1, ax2, rs: list[dict], label: str, color, fontsize: float) -> None:
    x = [r["width"] for r in rs]
    y = [r["median_ms"] for r in rs]
    lo = [r["ci_low_ms"] if r["ci_low_ms"] is not None else r["median_ms"] for r in rs]
    hi = [r["ci_high_ms"] if r["ci_high_ms"] is not None else r["median_ms"] for r in rs]
    ax1.plot(x, y, marker="o", color=color, label=label)
    ax1.fill_between(x, lo, hi, color=color, alpha=0.25, linewidth=0)
    ax1.vlines(x, [r["p10_ms"] for r in rs], [r["p90_ms"] for r in rs], color=color, alpha=0.35, linewidth=1)
    ax2.scatter([r["madds"] / 1e6 for r in rs], y, color=color, label=label, zorder=3)


def _front(ax2, rows: list[dict]) -> None:
    pts = [(r["madds"], r["median_ms"]) for r in rows]
    front = pareto_front(pts)
    if not front:
        return
    xs, ys = [pts[i][0] / 1e6 for i in front], [pts[i][1] for i in front]
    ax2.plot(xs, ys, color="black", linestyle="--", linewidth=1, zorder=2, label="Pareto front")
    ax2.scatter(xs, ys, s=120, facecolors="none", edgecolors="black", zorder=4)


def _log_ticks(ax1, ax2) -> None:
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for ax in (ax1, ax2):
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "2468" else ""))
    ax2.xaxis.set_major_formatter(plain)
