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


def plot_sweep(rows: list[dict], path: str | Path, title: str | None = None) -> Path:
    """Write the two-panel figure for typed sweep rows (``SweepResult.typed_rows()``); returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get("median_ms") is not None]
    varying = [c for c in CONFIG_EXTRA if len({r[c] for r in rows}) > 1]
    series: dict[str, list[dict]] = {}
    for r in rows:
        series.setdefault(_series_label(r, varying), []).append(r)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, rs) in enumerate(series.items()):
        rs = sorted(rs, key=lambda r: r["width"])
        color = colors[i % len(colors)]
        x = [r["width"] for r in rs]
        y = [r["median_ms"] for r in rs]
        lo = [r["ci_low_ms"] if r["ci_low_ms"] is not None else r["median_ms"] for r in rs]
        hi = [r["ci_high_ms"] if r["ci_high_ms"] is not None else r["median_ms"] for r in rs]
        ax1.plot(x, y, marker="o", color=color, label=label)
        ax1.fill_between(x, lo, hi, color=color, alpha=0.25, linewidth=0)
        ax1.vlines(x, [r["p10_ms"] for r in rs], [r["p90_ms"] for r in rs], color=color, alpha=0.35, linewidth=1)
        ax2.scatter([r["madds"] / 1e6 for r in rs], y, color=color, label=label, zorder=3)
        for r in rs:
            ax2.annotate(
                f"{r['width']:g}",
                (r["madds"] / 1e6, r["median_ms"]),
                textcoords="offset points",
                xytext=(4, 3),
                fontsize=7,
                color=color,
            )
    ax1.set_xlabel("width multiplier")
    ax1.set_ylabel("median latency per call (ms), log scale")
    ax1.set_yscale("log")
    ax1.set_title("latency vs width (band: 95% CI of the median; bars: p10–p90)", fontsize=9)
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)

    pts = [(r["madds"], r["median_ms"]) for r in rows]
    front = pareto_front(pts)
    if front:
        ax2.plot(
            [pts[i][0] / 1e6 for i in front],
            [pts[i][1] for i in front],
            color="black",
            linestyle="--",
            linewidth=1,
            zorder=2,
            label="Pareto front",
        )
        ax2.scatter(
            [pts[i][0] / 1e6 for i in front],
            [pts[i][1] for i in front],
            s=120,
            facecolors="none",
            edgecolors="black",
            zorder=4,
        )
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("MAdds (M), log scale")
    ax2.set_ylabel("median latency per call (ms), log scale")
    ax2.set_title("latency vs MAdds (labels: width; circled: Pareto front = most MAdds per ms)", fontsize=9)
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8)
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for ax in (ax1, ax2):
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "2468" else ""))
    ax2.xaxis.set_major_formatter(plain)
    if title:
        fixed = [_fixed(c, rows[0][c]) for c in CONFIG_EXTRA if c not in varying] if rows else []
        fig.suptitle(title + (f" ({', '.join(fixed)})" if fixed else ""), fontsize=11)

    path = Path(path)
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=(path.suffix.lstrip(".") or "png").lower(), dpi=110)
    plt.close(fig)
    from archlab.render.output import write_atomic

    write_atomic(path, buf.getvalue())
    return path
