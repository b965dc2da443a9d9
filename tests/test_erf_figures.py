"""render/erf_figures.py: the rf figures' colour scales are honest, their boxes whole and their text legible.

* the weight each head gives each FMap-end position is drawn on a scale symmetric around 1 that spans at least
  0.5 ... 1.5, so ±3% initialisation noise is a pale tint, not the whole colour range; a random-weight head
  inside the init-noise band is flagged "no structure beyond init noise", one outside it is not; the band is
  drawn on the colour bar;
* the init-noise band is the half-normal's: 3 x sqrt(pi/2 - 1) / sqrt(M) for M = channels x samples (GDConv),
  times the outputs for FC, and one draw (not one per sample) for a random head on a trained backbone;
* the corner unit's theoretical RF box lies inside the axes (canvas and real network alike);
* every text is at least 9 pt and inside the figure (titles wrap rather than run off an edge).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from archlab.render.erf_figures import init_noise, plot_heads, plot_units
from archlab.render.report_plots import MIN_TEXT_PT, pyplot
from tests.helpers import records


def weight_images(fig):
    return [
        ax.images[0]
        for ax in fig.axes
        if ax.get_title().startswith(("gdconv:", "gap:", "fc:")) and "weight" in ax.get_title()
    ]


def title(fig, start: str) -> str:
    """The title of the panel that starts with ``start``, its wrapped lines joined by single spaces."""
    return next(" ".join(ax.get_title().split()) for ax in fig.axes if ax.get_title().startswith(start))


def texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def assert_legible(fig) -> None:
    """Every text 9 pt or more and wholly inside the figure."""
    assert min(t.get_fontsize() for t in texts(fig)) >= MIN_TEXT_PT
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    page = fig.bbox
    for t in texts(fig):
        box = t.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, t.get_text()
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, t.get_text()


def real_network(study):
    """The study as the real network measures it: the canvas is the image, the maps cover the image only."""
    g = study.grid
    top, left, _, _ = g.canvas
    ih, iw = study.image_hw
    maps = {
        u: m[top : top + ih, left : left + iw] / m[top : top + ih, left : left + iw].sum() for u, m in g.maps.items()
    }
    return replace(study, grid=replace(g, canvas=(0, 0, ih, iw), maps=maps), method="real")


def test_init_noise_band_is_the_half_normal_mean():
    study = records.synthetic_rf_study(samples=8)
    band = init_noise(study, study.heads["gdconv"])
    assert band == pytest.approx(3 * math.sqrt(math.pi / 2 - 1) / math.sqrt(512 * 8))  # 3.5%
    assert init_noise(study, study.heads["gap"]) is None  # GAP weighs every position alike
    fc = init_noise(study, study.heads["fc"])
    assert fc == pytest.approx(band / math.sqrt(128))  # 128 outputs more draws per position
    trained = records.synthetic_rf_study(weights="model.pth")
    assert init_noise(trained, trained.heads["gdconv"]) is None
    backbone = replace(study.heads["gdconv"], weights="backbone")  # one random head, the same in every sample
    assert init_noise(study, backbone) == pytest.approx(3 * math.sqrt(math.pi / 2 - 1) / math.sqrt(512))


def test_random_noise_is_flagged_and_not_spread_over_the_scale():
    fig = plot_heads(records.synthetic_rf_study(gdconv_spread=0.03))
    try:
        images = weight_images(fig)
        assert len(images) == 3 and all(im.get_clim() == pytest.approx((0.5, 1.5)) for im in images)
        assert "no structure beyond init noise" in title(fig, "gdconv: weight")
        assert "around uniform" in title(fig, "gap: weight")  # no noise band for GAP
        bar = next(ax for ax in fig.axes if "grey: init noise" in ax.get_ylabel())
        band = bar.patches[-1].get_extents().transformed(bar.transData.inverted())
        noise = 3 * math.sqrt(math.pi / 2 - 1) / math.sqrt(512 * 8)
        assert (band.y0, band.y1) == pytest.approx((1 - noise, 1 + noise))  # the widest band of the heads (GDConv)
        assert_legible(fig)
    finally:
        pyplot().close(fig)


def test_structure_beyond_the_noise_is_not_flagged_and_widens_the_scale():
    fig = plot_heads(records.synthetic_rf_study(gdconv_spread=0.8))
    try:
        lo, hi = weight_images(fig)[0].get_clim()
        assert hi - 1 == pytest.approx(1 - lo) and hi - 1 >= 0.5  # symmetric around 1, as wide as the data
        gdconv = title(fig, "gdconv: weight")
        assert "beyond init noise" in gdconv and "no structure" not in gdconv
    finally:
        pyplot().close(fig)


def test_trained_heads_have_no_noise_band():
    fig = plot_heads(records.synthetic_rf_study(weights="model.pth"))
    try:
        assert "init noise" not in title(fig, "gdconv: weight")
        assert not any("init noise" in ax.get_ylabel() for ax in fig.axes)
    finally:
        pyplot().close(fig)


@pytest.mark.parametrize("measure", ["canvas", "real"])
def test_the_corner_units_rf_box_is_not_clipped(measure):
    from matplotlib.patches import Rectangle

    study = records.synthetic_rf_study()
    study = replace(study, method="canvas") if measure == "canvas" else real_network(study)
    fig = plot_units(study)
    try:
        ax = fig.axes[0]
        box = next(p for p in ax.patches if isinstance(p, Rectangle) and p.get_label() == "theoretical RF")
        x0, y0 = box.get_xy()
        x1, y1 = x0 + box.get_width(), y0 + box.get_height()
        (xa, xb), (ya, yb) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        assert xa < x0 and x1 < xb and ya < y0 and y1 < yb  # the whole box, with a margin
        assert (y0, x0) == pytest.approx((study.rf.box(0, 0)[0][0] - 0.5, study.rf.box(0, 0)[1][0] - 0.5))
        assert fig.axes[1].get_xlim() == ax.get_xlim()  # corner and centre on one view
        assert_legible(fig)
    finally:
        pyplot().close(fig)


def test_trained_and_random_grids_side_by_side_stay_legible():
    study = records.synthetic_rf_study(weights="model.pth")
    study = replace(study, grid=replace(study.grid, weights="trained"), random_grid=study.grid)
    fig = plot_units(study)
    try:
        shares = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("face share")]
        assert len(shares) == 2 and "random weights" in " ".join(shares[1].split())
        assert_legible(fig)
    finally:
        pyplot().close(fig)


def test_one_head_figure_keeps_its_title_inside():
    study = records.synthetic_rf_study()
    study = replace(study, heads={"gdconv": study.heads["gdconv"]})
    fig = plot_heads(study)
    try:
        assert_legible(fig)
    finally:
        pyplot().close(fig)
