"""Figures of ``archlab compare`` and ``archlab report`` (matplotlib, Agg), returned as PNG bytes.

Every figure has a fixed size in inches and is saved at the caller's DPI without tight cropping, then
reduced to a 256-colour palette (Pillow, median cut, deterministic) so that reports stay small: the same
records give the same bytes.
"""

from __future__ import annotations

import io

DPI = 100
STAGE_SIZE = (8.0, 3.6)
SCATTER_SIZE = (6.0, 4.6)
WIDTH_SIZE = (8.0, 3.4)


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig, dpi: int = DPI, *, close: bool = True, colors: int = 256) -> bytes:
    """The figure as a palette PNG (``colors`` colours; 0 keeps full colour)."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        if close:
            pyplot().close(fig)
    return shrink_png(buf.getvalue(), colors)


def shrink_png(data: bytes, colors: int = 256) -> bytes:
    """Re-encode a PNG with an adaptive palette of ``colors`` colours (0: unchanged), no metadata."""
    if not colors:
        return data
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    out = io.BytesIO()
    rgb.quantize(colors=colors).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _stage_order(records) -> list[str]:
    labels: dict[str, float] = {}
    for r in records:
        for s in r.stages:
            key = 1e9 if s.label == "head" else (1e8 if s.stride is None else s.stride)
            labels.setdefault(s.label, key)
    return sorted(labels, key=lambda k: labels[k])


def stage_bars(records, dpi: int = DPI) -> bytes:
    """Grouped bars: MAdds (left) and params (right) per stage (output stride; head last), one bar per record."""
    import numpy as np

    plt = pyplot()
    order = _stage_order(records)
    x = np.arange(len(order))
    k = max(1, len(records))
    width = 0.8 / k
    fig, axes = plt.subplots(1, 2, figsize=STAGE_SIZE, layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, key, unit, title in (
        (axes[0], "madds", 1e6, "MAdds (M) per stage"),
        (axes[1], "params", 1e3, "params (k) per stage"),
    ):
        for i, r in enumerate(records):
            by = {s.label: getattr(s, key) / unit for s in r.stages}
            ax.bar(
                x - 0.4 + width * (i + 0.5),
                [by.get(lbl, 0.0) for lbl in order],
                width,
                label=r.label,
                color=colors[i % len(colors)],
            )
        ax.set_xticks(x, order)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("stage (output stride; head = after FMap-end)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, k), fontsize=8, frameon=False)
    return png_bytes(fig, dpi)


def scatter(records, dpi: int = DPI) -> bytes:
    """Latency (median, 95% CI bars) against params when every record was timed, else MAdds against params."""
    plt = pyplot()
    timed = all(r.latency is not None for r in records)
    fig, ax = plt.subplots(figsize=SCATTER_SIZE, layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, r in enumerate(records):
        px = r.totals["params"] / 1e6
        c = colors[i % len(colors)]
        if timed:
            y = r.latency.median
            lo = y - (r.latency.ci_low if r.latency.ci_low is not None else y)
            hi = (r.latency.ci_high if r.latency.ci_high is not None else y) - y
            ax.errorbar([px], [y], yerr=[[lo], [hi]], fmt="o", color=c, capsize=3, label=f"{i + 1}: {r.label}")
        else:
            y = r.totals["madds"] / 1e6
            ax.plot([px], [y], "o", color=c, label=f"{i + 1}: {r.label}")
        ax.annotate(str(i + 1), (px, y), textcoords="offset points", xytext=(5, 3), fontsize=8, color=c)
    ax.set_xlabel("params (M)")
    ax.set_ylabel("median latency (ms), 95% CI" if timed else "MAdds (M)")
    ax.set_title("latency vs params" if timed else "MAdds vs params (latency not measured)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.margins(0.15)
    ax.tick_params(labelsize=8)
    fig.legend(
        loc="outside lower center", ncols=1 if len(records) > 4 else min(2, len(records)), fontsize=8, frameon=False
    )
    return png_bytes(fig, dpi)


def width_counts(rows, dpi: int = DPI) -> bytes:
    """MAdds and params against the width multiplier (``rows``: dicts with width, madds, params)."""
    plt = pyplot()
    rows = sorted(rows, key=lambda r: r["width"])
    fig, axes = plt.subplots(1, 2, figsize=WIDTH_SIZE, layout="constrained")
    w = [r["width"] for r in rows]
    for ax, key, unit, title in ((axes[0], "madds", 1e6, "MAdds (M)"), (axes[1], "params", 1e6, "params (M)")):
        ax.plot(w, [r[key] / unit for r in rows], "o-")
        for r in rows:
            ax.annotate(
                f"{r[key] / unit:.3g}",
                (r["width"], r[key] / unit),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=7,
            )
        ax.set_xlabel("width multiplier")
        ax.set_title(f"{title} vs width", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
    return png_bytes(fig, dpi)
