"""archlab.studies.rf and archlab.nn.erf: effective receptive fields and the head study, library level; head
costs (archlab.static.counts), canvas geometry and ERF records (archlab.static.erf_records)."""

import math

import numpy as np
import pytest
import torch

import archlab
from archlab.ir.structure import fmap_end, truncate
from archlab.nn.build import build_plan
from archlab.nn.erf import for_input_gradients, init_weights
from archlab.nn.fold import randomize_bn
from archlab.static.counts import head_cost
from archlab.static.erf_records import key_units, mass_stats
from archlab.static.receptive import canvas_margins, receptive_fields
from archlab.studies.rf import rf_study

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


# -- head costs (no torch) ---------------------------------------------------------------------------------------
def test_mobilefacenet_head_params_and_madds_exact():
    cost = {h: head_cost(archlab.plan("mobilefacenet", head=h)) for h in ("gap", "gdconv", "fc")}
    # GAP: linear 512x128 + BN1d(128) 2x128; GDConv: + depthwise 7x7x512 + BN 2x512; FC: linear 7x7x512x128 + BN1d
    assert cost["gap"]["params"] == 512 * 128 + 256 == 65_792
    assert cost["gdconv"]["params"] == 512 * 49 + 1024 + 512 * 128 + 256 == 91_904
    assert cost["fc"]["params"] == 7 * 7 * 512 * 128 + 256 == 3_211_520
    assert cost["gap"]["madds"] == 65_536
    assert cost["gdconv"]["madds"] == 512 * 49 + 65_536 == 90_624
    assert cost["fc"]["madds"] == 3_211_264


def test_mobilenetv2_fc_head_is_8m_weights():
    plan = archlab.plan("mobilenetv2", head="fc", embedding=128)
    assert plan.layer("head.embedding.linear").params == 7 * 7 * 1280 * 128 == 8_028_160
    assert head_cost(plan)["params"] == 8_028_160 + 256


# -- geometry ------------------------------------------------------------------------------------------------------
def test_canvas_margins_hold_every_theoretical_rf():
    plan = archlab.plan("mobilefacenet")
    rf = receptive_fields(plan.layers)[fmap_end(plan)]
    # unit (0, 0) reaches 113 px before the image (rounded up to the jump, 128); unit 6 reaches 96 + 113 = 209
    assert canvas_margins(rf, (7, 7), (112, 112)) == (128, 112, 128, 112)
    assert canvas_margins(rf, (7, 7), (112, 112), round_end=False) == (128, 98, 128, 98)
    plan = archlab.plan("mobilefacenet", input="112x96")
    assert canvas_margins(rf, (7, 6), (112, 96), round_end=False) == (128, 98, 128, 98)  # 80 + 113 - 95


def test_key_units_and_mass_stats():
    assert key_units(7, 7) == [(0, 0), (0, 3), (0, 6), (3, 0), (3, 3), (3, 6), (6, 0), (6, 3), (6, 6)]
    assert key_units(1, 2) == [(0, 0), (0, 1)]
    m = np.zeros((5, 5))
    m[2, 3] = 4.0
    (cy, cx), (r50, r90) = mass_stats(m, y0=-2, x0=10)
    assert (cy, cx, r50, r90) == (0.0, 13.0, 0.0, 0.0)
    (cy, cx), (r50, r90) = mass_stats(np.ones((3, 3)))
    assert (cy, cx) == (1.0, 1.0)
    assert r50 == 1.0  # centre 1/9 + four neighbours 4/9 = 5/9 >= 0.5
    assert r90 == pytest.approx(math.sqrt(2))  # the corners complete the mass


def test_for_input_gradients_keeps_values_and_input_gradients():
    plan = truncate(archlab.plan("mobilefacenet", input="48x48"), "7.0.act")
    plain = build_plan(plan).eval()
    init_weights(plain, 3, 0)
    randomize_bn(plain, seed=1)  # non-trivial BN statistics, so folding is exercised
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in plain.modules():
            if isinstance(m, torch.nn.PReLU):
                m.weight.uniform_(0.05, 0.4, generator=g)
    fast = for_input_gradients(plain, plan)
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.PReLU)) for m in fast.modules())
    x = torch.randn(1, 3, 48, 48, generator=g, requires_grad=True)
    ya, yb = plain(x), fast(x)
    assert torch.allclose(ya, yb, rtol=1e-4, atol=1e-5 * ya.abs().max().item())
    cot = torch.zeros_like(ya)
    cot[0, :, 1, 2] = 1
    (ga,) = torch.autograd.grad(ya, x, cot)
    (gb,) = torch.autograd.grad(yb, x, cot)
    assert torch.allclose(ga, gb, rtol=1e-3, atol=1e-4 * ga.abs().max().item())


# -- the paper's argument, measured (full-size MobileFaceNet ERFs: slow lane) ---------------------------------
CORNERS = [(0, 0), (0, 6), (6, 0), (6, 6)]


@pytest.fixture(scope="module")
def study():
    return rf_study(
        "mobilefacenet",
        samples=2,
        seed=0,
        units=CORNERS + [(3, 3)],
        heads=("gap", "gdconv"),
        method="canvas",  # the canvas method (the real network: tests/test_rf_honest.py)
        image="noise",
    )


@pytest.mark.slow
def test_corner_units_put_less_erf_mass_on_the_image_than_the_centre(study):
    g = study.grid
    assert g.canvas == (128, 128, 338, 338)  # smallest canvas holding every unit's RF (bottom/right: 98)
    centre = g.erf_inside[3, 3]
    for u in CORNERS:
        assert g.erf_inside[u] < centre, u
        assert g.rf_inside[u[0]][u[1]] == pytest.approx((112 / 227) ** 2)  # the theoretical RF cannot tell
    assert 0 < min(g.erf_inside[u] for u in CORNERS) and centre <= 1
    # each unit's mass sums to 1 on the canvas; the corner unit's centre of mass is pulled into the image
    assert g.maps[(0, 0)].sum() == pytest.approx(1, abs=1e-4)
    assert g.com[0, 0][0] > 0 and g.com[0, 0][1] > 0
    assert np.isnan(g.erf_inside[1, 1])  # not measured


@pytest.mark.slow
def test_erf_support_is_the_theoretical_rf_on_the_canvas(study):
    # mobilefacenet with PReLU and a canvas that holds the RF: the gradient reaches exactly the 227 x 227 box
    g = study.grid
    top, left, _, _ = g.canvas
    for u in [(0, 0), (6, 6)]:
        rows = np.nonzero(g.maps[u].sum(1) > 0)[0] - top
        cols = np.nonzero(g.maps[u].sum(0) > 0)[0] - left
        (y0, y1), (x0, x1) = study.rf.box(*u)
        assert (rows.min(), rows.max(), cols.min(), cols.max()) == (y0, y1, x0, x1)


@pytest.mark.slow
def test_unit_map_equals_a_direct_gradient_through_the_plain_network(study):
    # one sample, one unit, computed the obvious way on the same canvas: the study's index bookkeeping holds
    one = rf_study("mobilefacenet", samples=1, seed=0, units=[(6, 0)], heads=(), method="canvas", image="noise")
    top, left, ch, cw = one.grid.canvas
    net = build_plan(truncate(archlab.plan("mobilefacenet", input=f"{ch}x{cw}"), "7.0.act")).eval()
    init_weights(net, 0, 0)
    x = torch.zeros(1, 3, ch, cw)
    from archlab.nn.erf import generator as _generator

    x[0, :, top : top + 112, left : left + 112] = torch.randn(3, 112, 112, generator=_generator(0, 0, "input"))
    x.requires_grad_(True)
    y = net(x)
    cot = torch.zeros_like(y)
    cot[0, :, 6 + top // 16, 0 + left // 16] = 1
    (gx,) = torch.autograd.grad(y, x, cot)
    e = gx[0].abs().sum(0).double().numpy()
    # BN folding and the PReLU rewrite may flip the sign of a few pre-activations within rounding of 0
    assert np.abs(one.grid.maps[(6, 0)] - e / e.sum()).sum() < 1e-3  # total variation distance, mass 1 each


@pytest.mark.slow
def test_gap_importance_is_centred_and_heads_get_their_position_weights(study):
    gap, gd = study.heads["gap"], study.heads["gdconv"]
    assert gap.com_offset <= 0.05  # within 5% of the image centre
    assert gap.importance.sum() == pytest.approx(1)
    assert gap.importance.shape == (112, 112)
    np.testing.assert_allclose(gap.position_weight, np.full((7, 7), 1 / 49))  # GAP: uniform by construction
    assert gap.centre_corner_ratio == pytest.approx(1)
    assert gd.position_weight.sum() == pytest.approx(1) and gd.position_weight.std() > 0  # learned per position
    assert (gap.params, gd.params) == (65_792, 91_904)
    assert gap.weights == gd.weights == "random"
    assert any("random weights" in n for n in study.notes)


def test_trained_weights_load_into_the_trained_head_only(tmp_path):
    net = archlab.build("mobilefacenet", input="32x32")
    with torch.no_grad():
        net.get_submodule("head.gdconv.dw").weight.uniform_(0, 1)
    torch.save(net.state_dict(), tmp_path / "w.pt")
    st = rf_study(
        "mobilefacenet", samples=2, units=[], heads=("gdconv", "gap"), weights=tmp_path / "w.pt", input="32x32"
    )
    assert st.heads["gdconv"].weights == "trained" and st.heads["gap"].weights == "backbone"
    kernel = net.get_submodule("head.gdconv.dw").weight.detach().abs().mean(dim=(0, 1)).double().numpy()
    np.testing.assert_allclose(st.heads["gdconv"].position_weight, kernel / kernel.sum(), rtol=1e-6)
    assert any("random head" in n for n in st.notes) and not any("random weights" in n for n in st.notes)
