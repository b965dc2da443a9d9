"""Figures of ``archlab compare`` and ``archlab report`` (matplotlib, Agg), returned as PNG bytes.

Every figure has a fixed size in inches and is saved at the caller's DPI without tight cropping, as a full
RGB PNG (no palette: colour scales do not band), without metadata: the same records give the same bytes.

Legibility: a page shows a figure at most :data:`PAGE_PX` pixels wide (the content width at a 1280 px
window), so a figure ``w`` inches wide shows its text at ``pt * min(PAGE_PX / w, dpi) / 72`` px. Page figures
are at most :data:`PAGE_INCHES` wide and their text at least :data:`MIN_TEXT_PT`, which keeps every label at
9 px or more (``figure_text_px`` measures it; the HTML keeps an image wide enough for 9 px on a phone and
lets it scroll in its box).
"""

from __future__ import annotations

import io
from contextlib import contextmanager

DPI = 100
STAGE_SIZE = (8.0, 3.6)
SCATTER_SIZE = (6.0, 4.6)
WIDTH_SIZE = (8.0, 3.4)
PAGE_PX = 960  # widest a page shows a figure (main column at a 1280 px window)
PAGE_INCHES = 12.0  # widest page figure: 9 pt text stays >= 10 px when shown PAGE_PX wide
MIN_TEXT_PT = 9.0
MIN_TEXT_PX = 9.0  # rendered, at the page's displayed size
STYLE = {
    "font.size": 10.0,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.0,
    "figure.titlesize": 11.0,
    "legend.title_fontsize": 9.5,
}


def text_scale(width_in: float) -> float:
    """How much larger than :data:`STYLE` the text of a figure ``width_in`` inches wide must be: a page shows
    it at most :data:`PAGE_PX` wide, so a figure wider than :data:`PAGE_INCHES` scales its text up alike."""
    return max(1.0, width_in / PAGE_INCHES)


@contextmanager
def figure_style(scale: float = 1.0):
    """Matplotlib's rc for archlab's figures: text at ``scale`` x :data:`MIN_TEXT_PT` or larger."""
    plt = pyplot()
    with plt.rc_context({k: v * scale for k, v in STYLE.items()}):
        yield plt


def figure_text_px(fig, dpi: float) -> float:
    """The smallest text of ``fig`` (visible, non-empty), in pixels of the PNG saved at ``dpi``."""
    from matplotlib.text import Text

    sizes = [
        t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and t.get_alpha() != 0
    ]
    return min(sizes) * dpi / 72 if sizes else float("inf")


# where a point's label may go (points from the point; ha), nearest first; the far ones get a leader line
LABEL_SPOTS = [
    (7, 5, "left"),
    (7, -14, "left"),
    (-7, 5, "right"),
    (-7, -14, "right"),
    (0, 10, "center"),
    (0, -21, "center"),
    (18, 16, "left"),
    (18, -26, "left"),
    (-18, 16, "right"),
    (-18, -26, "right"),
    (30, 30, "left"),
    (-30, -40, "right"),
    (40, -8, "left"),
    (-40, -8, "right"),
]


def place_labels(ax, points, texts, colors=None, fontsize: float = MIN_TEXT_PT, marker_pt: float = 5.0) -> list:
    """Label ``points`` (data coordinates) with ``texts`` so that no label overlaps another label, a point's
    marker (``marker_pt`` points around it) or the axes' frame: each label takes the first free spot of
    :data:`LABEL_SPOTS`, a far one with a leader line. Returns the annotations."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()  # the layout first: the spots are measured where they will be drawn
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    r = marker_pt * fig.dpi / 72
    taken: list = [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in ax.transData.transform(list(points))]
    out = []
    for k, ((x, y), text) in enumerate(zip(points, texts)):
        color = colors[k] if isinstance(colors, (list, tuple)) else colors
        ann = None
        for n, (dx, dy, ha) in enumerate(LABEL_SPOTS):
            if ann is not None:
                ann.remove()
            far = n >= 6
            ann = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                fontsize=fontsize,
                color=color,
                arrowprops={"arrowstyle": "-", "color": color or "0.3", "lw": 0.6} if far else None,
            )
            box = ann.get_window_extent(renderer).expanded(1.06, 1.15)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(t) for t in taken):
                break
        assert ann is not None
        taken.append(ann.get_window_extent(renderer))
        out.append(ann)
    return out


def displayed_text_px(text_px: float, natural_width: int, shown_width: float = PAGE_PX) -> float:
    """The smallest text as the page shows it: the image scaled down to ``shown_width`` when wider."""
    return text_px * min(1.0, shown_width / natural_width)


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig, dpi: int = DPI, *, close: bool = True) -> bytes:
    """The figure as a full-colour RGB PNG (no palette), no metadata."""
    return figure_png(fig, dpi, close=close)[0]


def figure_png(fig, dpi: float = DPI, *, close: bool = True) -> tuple[bytes, float]:
    """(the PNG, its smallest text in image pixels) of a figure saved at ``dpi``."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        text_px = figure_text_px(fig, dpi)
    finally:
        if close:
            pyplot().close(fig)
    return shrink_png(buf.getvalue()), text_px


def shrink_png(data: bytes) -> bytes:
    """Re-encode a PNG as RGB (8 bits per channel, no alpha, no palette: full colour), compressed losslessly,
    without metadata."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
    out = io.BytesIO()
    rgb.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _stage_order(records) -> list[str]:
    labels: dict[str, float] = {}
    for r in records:
        for s in r.stages:
            key = 1e9 if s.label == "head" else (1e8 if s.stride is None else s.stride)
            labels.setdefault(s.label, key)
    return sorted(labels, key=lambda k: labels[k])


def figure_block(name: str, fig, alt: str, caption: str = "", dpi: float = DPI):
    """A document :class:`~archlab.render.document.Figure` of ``fig`` (closed), with its smallest text size."""
    from archlab.render.document import Figure

    png, text_px = figure_png(fig, dpi)
    return Figure(name, png, alt, caption, text_px=text_px)


def stage_figure(records):
    """Grouped bars: MAdds (left) and params (right) per stage (output stride; head last), one bar per record."""
    import numpy as np

    order = _stage_order(records)
    x = np.arange(len(order))
    k = max(1, len(records))
    width = 0.8 / k
    with figure_style() as plt:
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
            ax.set_title(title)
            ax.set_xlabel("stage (output stride; head = after FMap-end)")
            ax.grid(True, axis="y", alpha=0.3)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(2, k), frameon=False)
    return fig


def stage_bars(records, dpi: int = DPI) -> bytes:
    return png_bytes(stage_figure(records), dpi)


def scatter_figure(records):
    """Latency (median, 95% CI bars) against params when every record was timed, else MAdds against params."""
    timed = all(r.latency is not None for r in records)
    with figure_style() as plt:
        fig, ax = plt.subplots(figsize=SCATTER_SIZE, layout="constrained")
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        points: list[tuple[float, float]] = []
        point_colors: list = []
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
            points.append((px, y))
            point_colors.append(c)
        ax.set_xlabel("params (M)")
        ax.set_ylabel("median latency (ms), 95% CI" if timed else "MAdds (M)")
        ax.set_title("latency vs params" if timed else "MAdds vs params (latency not measured)")
        ax.grid(True, alpha=0.3)
        ax.margins(0.15)
        fig.legend(loc="outside lower center", ncols=1 if len(records) > 2 else len(records), frameon=False)
        place_labels(ax, points, [str(i + 1) for i in range(len(points))], point_colors)
    return fig


def scatter(records, dpi: int = DPI) -> bytes:
    return png_bytes(scatter_figure(records), dpi)


def width_figure(rows):
    """MAdds and params against the width multiplier (``rows``: dicts with width, madds, params)."""
    rows = sorted(rows, key=lambda r: r["width"])
    with figure_style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=WIDTH_SIZE, layout="constrained")
        w = [r["width"] for r in rows]
        for ax, key, unit, title in ((axes[0], "madds", 1e6, "MAdds (M)"), (axes[1], "params", 1e6, "params (M)")):
            ax.plot(w, [r[key] / unit for r in rows], "o-")
            for r in rows:
                ax.annotate(
                    f"{r[key] / unit:.3g}",
                    (r["width"], r[key] / unit),
                    textcoords="offset points",
                    xytext=(5, -12),
                    fontsize=MIN_TEXT_PT,
                )
            ax.set_xlabel("width multiplier")
            ax.set_title(f"{title} vs width")
            ax.grid(True, alpha=0.3)
            ax.margins(x=0.12, y=0.15)
    return fig


def width_counts(rows, dpi: int = DPI) -> bytes:
    return png_bytes(width_figure(rows), dpi)
