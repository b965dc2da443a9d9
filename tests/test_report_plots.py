"""render/report_plots.py and the figures of the pages: full-colour PNGs, text of 9 px or more as a page shows it
(at most 960 px wide), labels that do not overlap, and the HTML that keeps figure text legible on a phone."""

from __future__ import annotations

import io
import re

from archlab.render import report_plots as rp
from archlab.render.document import Document, png_size, render_html
from tests.helpers import records


def test_pngs_are_full_colour_rgb():
    from PIL import Image

    from archlab.render.sweep_plots import sweep_figure

    png = rp.png_bytes(sweep_figure(records.sweep_result().typed_rows(), "sweep"), 80)
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "RGB"  # not "P": no 256-colour palette
        assert len(im.getcolors(maxcolors=1 << 20)) > 256  # CI bands and antialiasing keep their shades
    assert (
        b"Software" not in png and rp.png_bytes(sweep_figure(records.sweep_result().typed_rows(), "sweep"), 80) == png
    )


def test_page_figures_show_text_of_9_px_or_more():
    from archlab.render.compare_page import compare_document

    doc = compare_document(records.comparison(), generated="now")
    assert doc.figures
    for fig in doc.figures:
        width, _ = png_size(fig.png)
        assert width <= rp.PAGE_PX or fig.text_px * rp.PAGE_PX / width >= rp.MIN_TEXT_PX
        assert rp.displayed_text_px(fig.text_px, width) >= rp.MIN_TEXT_PX, fig.name


def test_labels_do_not_overlap():
    fig = rp.scatter_figure(records.comparison().records)  # entries 1, 4 and 5 sit close together
    try:
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        boxes = [t.get_window_extent(renderer) for t in ax.texts]
        assert len(boxes) == 5
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    finally:
        rp.pyplot().close(fig)


def test_html_keeps_figure_text_legible_on_a_phone():
    fig = rp.figure_block("f", rp.width_figure([{"width": 1.0, "madds": 1, "params": 1}]), "alt", "", dpi=40)
    html = render_html(Document("t").add(fig))
    width, _ = png_size(fig.png)
    tag = re.search(r"<img [^>]*>", html).group(0)
    assert f'data-text-px="{fig.text_px:.2f}"' in tag
    min_width = int(re.search(r"min-width:(\d+)px", tag).group(1))
    assert min_width * fig.text_px / width >= 9  # shown at least that wide, its text is >= 9 px (it scrolls)
    assert '<div class="figbox"' in html.split("<figure>")[1]  # it scrolls in its own box
