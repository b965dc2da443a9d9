"""The honest ERF measures of `archlab rf`: the real network by default, the face-region share per unit, every
ratio with its 95% interval over samples (and the noise words where it covers 1), |grad| and grad^2, drawn-face
probes, the canvas method only with its caveat, random and trained weights side by side."""

import json

import numpy as np
import pytest
import torch

import archlab
from archlab.data.faces import draw_conditions, draw_identity, face_mask, render_face
from archlab.ir.structure import truncate
from archlab.nn.build import build_plan
from archlab.nn.erf import init_weights
from archlab.static.erf_records import NOISE_WORDS, Interval, interval, t975
from archlab.studies.rf import rf_study
from archlab.studies.rf_probes import make_probes


@pytest.fixture(autouse=True, scope="module")
def _one_thread(single_threaded_torch):
    """Every test here runs torch on one intra-op thread (see conftest)."""


# -- intervals (no torch) ------------------------------------------------------------------------------------
def test_t_quantiles_and_a_hand_computed_interval():
    assert (t975(1), t975(7), t975(30)) == (12.706, 2.365, 2.042)  # any t table
    assert t975(60) == pytest.approx(2.000298, abs=1e-3) and t975(120) == pytest.approx(1.979930, abs=1e-3)
    iv = interval([1.0, 2.0, 3.0])  # mean 2, sd 1, half-width 4.303 / sqrt(3)
    assert iv.mean == 2.0 and iv.n == 3
    assert iv.low == pytest.approx(2 - 4.303 / 3**0.5) and iv.high == pytest.approx(2 + 4.303 / 3**0.5)
    assert iv.label(2) == "2.00 [-0.48, 4.48]"
    assert interval([0.5]).low is None and "no interval" in interval([0.5]).label()


def test_verdicts():
    covering = Interval([0.98, 1.03], 1.005, 0.97, 1.04)
    assert covering.verdict(random=True) == NOISE_WORDS == "no structure beyond initialisation noise"
    assert covering.verdict(random=False) == "no structure beyond probe-to-probe noise"
    assert Interval([1.2, 1.3], 1.25, 1.1, 1.4).verdict(True) == "centre above corners"
    assert Interval([0.7, 0.8], 0.75, 0.6, 0.9).verdict(True) == "centre below corners"
    assert Interval([1.0, 1.0], 1.0, 1.0, 1.0).verdict(True) == "1 by construction"
    assert Interval([1.4], 1.4, None, None).verdict(True).startswith("one sample")


# -- probes ---------------------------------------------------------------------------------------------------
def test_default_probes_are_held_out_drawn_faces_with_their_own_face_region():
    p = make_probes(None, (112, 112), 3, seed=0)
    assert p.kind == "faces" and len(p.images) == len(p.masks) == 3
    idn, cond = draw_identity("test", 1), draw_conditions("test", 1, 0)
    np.testing.assert_array_equal(p.images[1], render_face(idn, cond, 112) / 255.0)
    np.testing.assert_array_equal(p.masks[1], face_mask(112, idn, cond))
    np.testing.assert_allclose(p.backdrop, np.mean(p.images, axis=0))  # the backdrop is what was seen
    assert 0.25 < p.face_area < 0.5
    other = make_probes("faces", (112, 112), 1, seed=1)
    assert not np.array_equal(other.images[0], p.images[0])  # seed 1: identities 1000, 1001, ...
    noise = make_probes("noise", (112, 96), 2, seed=0)
    assert noise.images is None and noise.backdrop is None and noise.masks[0].shape == (112, 96)


def test_lfw_probes_when_scikit_image_is_installed():
    pytest.importorskip("skimage")
    p = make_probes("lfw", (112, 112), 3, seed=0)
    assert p.kind == "lfw" and len(p.images) == 3 and p.images[0].shape == (112, 112, 3)
    assert 0 <= p.images[0].min() and p.images[0].max() <= 1


def test_lfw_without_scikit_image_is_one_line(cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "skimage", None)  # as if it were not installed
    res = cli("rf", "mobilefacenet", "--image", "lfw", "--input", "32x32", "--samples", "1")
    assert res.exit_code == 2 and "scikit-image" in res.stderr and len(res.stderr.strip().splitlines()) == 1


# -- the real network -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real():
    return rf_study("mobilefacenet", input="64x64", samples=3, heads=("gdconv", "gap"), units="all")


def test_real_network_is_the_default_and_puts_all_mass_on_the_image(real):
    g = real.grid
    assert real.method == g.method == "real" and g.canvas == (0, 0, 64, 64)
    np.testing.assert_allclose(g.erf_inside, 1.0)  # no margin: share 1 by construction
    assert all(len(g.face_samples[u]) == 3 for u in g.units)
    assert np.all((g.face_share > 0) & (g.face_share < 1))
    assert any("real network" in n for n in real.notes) and real.random_grid is None


def test_unit_map_and_face_share_by_hand(real):
    # one unit, computed the obvious way on the plain real network with sample 1's weights and probe
    plan = truncate(archlab.plan("mobilefacenet", input="64x64"), "7.0.act")
    net = build_plan(plan).eval()
    init_weights(net, 0, 1)
    probes = make_probes(None, (64, 64), 3, seed=0)
    x = torch.from_numpy(probes.images[1] * 2 - 1).float().permute(2, 0, 1)[None].requires_grad_(True)
    y = net(x)
    cot = torch.zeros_like(y)
    cot[0, :, 3, 0] = 1
    (gx,) = torch.autograd.grad(y, x, cot)
    e = gx[0].abs().sum(0).double().numpy()
    assert real.grid.face_samples[(3, 0)][1] == pytest.approx(e[probes.masks[1]].sum() / e.sum(), abs=2e-3)


def test_ratios_have_intervals_and_the_noise_words_follow_them(real):
    iv = real.grid.ratio("face")
    assert iv.n == 3 and iv.low < iv.mean < iv.high
    gd = real.heads["gdconv"].position_cc
    assert gd.n == 3 and gd.low is not None
    assert (gd.low <= 1 <= gd.high) == (gd.verdict(True) == NOISE_WORDS)
    data = real.to_dict()
    assert data["units"]["face_share_centre_corner"]["ci95"] and data["units"]["image_share_centre_corner"] is None
    assert data["heads"]["gap"]["position_centre_corner"]["verdict"] == "1 by construction"
    assert data["heads"]["gdconv"]["position_centre_corner"]["verdict"] == gd.verdict(True)
    assert 0 < data["heads"]["gdconv"]["importance_face_share"]["mean"] < 1


def test_grad2_is_the_squared_gradient():
    a = rf_study("mobilefacenet", input="32x32", samples=1, heads=(), units=[(0, 0)], erf="abs")
    b = rf_study("mobilefacenet", input="32x32", samples=1, heads=(), units=[(0, 0)], erf="grad2")
    ma, mb = a.grid.maps[(0, 0)].astype(float), b.grid.maps[(0, 0)].astype(float)
    assert b.erf == "grad2" and not np.allclose(ma, mb)
    assert mb.argmax() == ma.argmax() or np.isclose(ma.ravel()[mb.argmax()], ma.max(), rtol=0.5)


# -- the CLI --------------------------------------------------------------------------------------------------
def test_cli_states_every_centre_corner_ratio_with_its_interval(cli):
    res = cli("rf", "mobilefacenet", "--input", "64x64", "--samples", "2", "--fmap-units", "key")
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert "centre/corner [95% CI]" in text and "ERF share on the face region" in text
    assert "share of each FMap-end unit's ERF mass on the face region" in text
    assert "real network" in text and "hypothetical" not in text
    assert "of its ERF mass on the image" not in text  # the canvas-only claim is gone
    for line in text.splitlines():
        if line.startswith(("gdconv", "fc", "ERF share")):
            assert "[" in line and "]" in line, line


def test_cli_canvas_method_prints_its_caveat(cli):
    res = cli("rf", "mobilefacenet", "--input", "32x32", "--samples", "2", "--canvas", "--head", "none", "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["method"] == "canvas" and data["units"]["canvas"]["height"] > 32
    assert data["units"]["image_share_centre_corner"]["n"] == 2
    assert any("hypothetical network" in n and "PReLU" in n for n in data["notes"])


def test_noise_inputs_draw_no_backdrop(cli, tmp_path):
    res = cli("rf", "mobilefacenet", "--input", "32x32", "--samples", "1", "--image", "noise", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rf_heads.png", "rf_units.png"]
    assert "standard-normal" in res.stdout


def test_trained_weights_get_random_weights_beside_them(tmp_path):
    net = archlab.build("mobilefacenet", input="64x64")
    torch.save(net.state_dict(), tmp_path / "w.pt")
    st = rf_study("mobilefacenet", input="64x64", samples=2, units="key", heads=(), weights=tmp_path / "w.pt")
    assert st.grid.weights == "trained" and st.random_grid.weights == "random"
    assert set(st.grid.units) == set(st.random_grid.units)
    assert st.to_dict()["units_random"]["face_share_centre_corner"]["n"] == 2
