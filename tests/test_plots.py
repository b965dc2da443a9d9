"""render/plots.py: the rf figures' colour scales are honest and their boxes whole.

* the weight each head gives each FMap-end position is drawn on a scale symmetric around 1 that spans at least
  0.5 ... 1.5, so ±3% initialisation noise is a pale tint, not the whole colour range; a random-weight head
  inside the init-noise band is flagged "no structure beyond init noise", one outside it is not;
* the init-noise band is the half-normal's: 3 x sqrt(pi/2 - 1) / sqrt(M) for M = channels x samples (GDConv);
* the corner unit's theoretical RF box lies inside the axes (the view holds the whole canvas);
* every text is at least 9 pt.
"""

from __future__ import annotations

import math

import pytest

from archlab.render.plots import init_noise, plot_heads, plot_units
from archlab.render.report_plots import MIN_TEXT_PT, pyplot
from tests.helpers import records


def weight_images(fig):
    return [
        ax.images[0]
        for ax in fig.axes
        if ax.get_title().startswith(("gdconv:", "gap:", "fc:")) and "weight" in ax.get_title()
    ]


def texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_init_noise_band_is_the_half_normal_mean():
    study = records.synthetic_rf_study(samples=8)
    band = init_noise(study, study.heads["gdconv"])
    assert band == pytest.approx(3 * math.sqrt(math.pi / 2 - 1) / math.sqrt(512 * 8))  # 3.5%
    assert init_noise(study, study.heads["gap"]) is None  # GAP weighs every position alike
    fc = init_noise(study, study.heads["fc"])
    assert fc == pytest.approx(band / math.sqrt(128))  # 128 outputs more draws per position
    trained = records.synthetic_rf_study(weights="model.pth")
    assert init_noise(trained, trained.heads["gdconv"]) is None


def test_random_noise_is_flagged_and_not_spread_over_the_scale():
    fig = plot_heads(records.synthetic_rf_study(gdconv_spread=0.03))
    try:
        images = weight_images(fig)
        assert len(images) == 3 and all(im.get_clim() == pytest.approx((0.5, 1.5)) for im in images)
        titles = [ax.get_title() for ax in fig.axes]
        gdconv = next(t for t in titles if t.startswith("gdconv: weight"))
        assert "no structure beyond init noise" in gdconv
        assert min(t.get_fontsize() for t in texts(fig)) >= MIN_TEXT_PT
    finally:
        pyplot().close(fig)


def test_structure_beyond_the_noise_is_not_flagged_and_widens_the_scale():
    fig = plot_heads(records.synthetic_rf_study(gdconv_spread=0.8))
    try:
        lo, hi = weight_images(fig)[0].get_clim()
        assert hi - 1 == pytest.approx(1 - lo) and hi - 1 >= 0.5  # symmetric around 1, as wide as the data
        gdconv = next(ax.get_title() for ax in fig.axes if ax.get_title().startswith("gdconv: weight"))
        assert "beyond init noise" in gdconv and "no structure" not in gdconv
    finally:
        pyplot().close(fig)


def test_the_corner_units_rf_box_is_not_clipped():
    from matplotlib.patches import Rectangle

    study = records.synthetic_rf_study()
    fig = plot_units(study)
    try:
        ax = fig.axes[0]
        box = next(p for p in ax.patches if isinstance(p, Rectangle) and p.get_label() == "theoretical RF")
        x0, y0 = box.get_xy()
        x1, y1 = x0 + box.get_width(), y0 + box.get_height()
        (xa, xb), (ya, yb) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        assert xa < x0 and x1 < xb and ya < y0 and y1 < yb  # the whole box, with a margin
        assert (y0, x0) == pytest.approx((study.rf.box(0, 0)[0][0] - 0.5, study.rf.box(0, 0)[1][0] - 0.5))
        assert min(t.get_fontsize() for t in texts(fig)) >= MIN_TEXT_PT
    finally:
        pyplot().close(fig)
