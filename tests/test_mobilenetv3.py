"""The MobileNetV3 tables (configs/mobilenetv3-*.yaml): torchvision's counts and the squeeze-excite layout
(hardswish/hardsigmoid, SE as archlab.ir layers)."""

import pytest

import archlab


@pytest.mark.parametrize(
    "name, params, madds",
    [
        ("mobilenetv3-large", 5_483_032, 216_589_760),  # torchvision's counts
        ("mobilenetv3-small", 2_542_856, 56_510_400),
    ],
)
def test_mobilenetv3_matches_torchvision(name, params, madds):
    t = archlab.plan(name).totals()
    assert (t["params"], t["madds"]) == (params, madds)


def test_mobilenetv3_squeeze_excite_layout():
    p = archlab.plan("mobilenetv3-large")
    se = [l for l in p.layers if l.name.startswith("4.0.se_")]
    assert [l.role for l in se] == ["se_pool", "se_fc1", "se_act", "se_fc2", "se_gate", "se_scale"]
    fc1 = p.layer("4.0.se_fc1")
    assert fc1.out_shape[0] == 24 and fc1.in_shape[0] == 72  # _make_divisible(72 // 4, 8) = 24
    assert fc1.madds == 72 * 24 and fc1.params == 72 * 24 + 24  # 1x1 conv MAdds; bias only in params
    assert p.layer("4.0.se_pool").other_ops == 72 * 28 * 28  # SE pooling is other_ops
    assert p.layer("4.0.se_scale").other_ops == 72 * 28 * 28
    assert p.layer("4.0.se_gate").kind == "hardsigmoid"
    assert "1.0.expand" not in [l.name for l in p.layers]  # e == input channels: no expansion
