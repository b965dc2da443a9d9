"""archlab.static.counts and the plan's per-layer counts: exact totals for the shipped networks (the acceptance
table), derived by hand and from the papers; the other_ops and params_deployed rules."""

import pytest

import archlab


def totals(name, **kw):
    return archlab.plan(name, **kw).totals()


def test_mobilefacenet_default():
    t = totals("mobilefacenet")
    assert t == {
        "madds": 220_965_376,
        "params": 1_003_136,
        "params_deployed": 993_344,
        "other_ops": 9_534_720,
        "activations": 3_205_632,
    }


def test_mobilefacenet_paper_figures_within_rounding():
    t = totals("mobilefacenet")
    assert round(t["madds"] / 1e6) == 221  # paper: 221M MAdds
    assert round(t["params_deployed"] / 1e6, 2) == 0.99  # paper: 0.99M params (BN folded)


@pytest.mark.parametrize(
    "kw, madds, params",
    [
        ({"input": "112x96"}, 189_408_256, 999_552),
        ({"head": "gap"}, 220_940_288, 977_024),
        ({"head": "fc"}, 224_086_016, 4_122_752),
        ({"embedding": 512}, 221_161_984, 1_200_512),
    ],
)
def test_mobilefacenet_overrides(kw, madds, params):
    t = totals("mobilefacenet", **kw)
    assert (t["madds"], t["params"]) == (madds, params)


def test_mobilefacenet_112x96_gdconv_kernel_follows_map():
    p = archlab.plan("mobilefacenet", input="112x96")
    gd = p.layer("head.gdconv.dw")
    assert gd.kernel == (7, 6) and gd.in_shape == (512, 7, 6) and gd.out_shape == (512, 1, 1)


@pytest.mark.parametrize(
    "name, madds, deployed, dim",
    [
        ("mobilefacenet-m", 220_899_840, 927_680, 512),
        ("mobilefacenet-s", 217_669_760, 841_920, 128),
    ],
)
def test_mobilefacenet_variants(name, madds, deployed, dim):
    p = archlab.plan(name)
    t = p.totals()
    assert (t["madds"], t["params_deployed"], p.output_shape) == (madds, deployed, (dim,))
    # the paper truncates: 0.92M / 0.84M
    assert int(t["params_deployed"] / 1e4) / 100 == {"mobilefacenet-m": 0.92, "mobilefacenet-s": 0.84}[name]


@pytest.mark.parametrize(
    "width, madds, params",
    [
        (1.0, 300_774_272, 3_504_872),
        (0.75, 209_069_792, 2_636_424),
        (0.5, 97_131_840, 1_968_680),
        (0.35, 59_285_808, 1_677_128),
        (1.4, 582_195_824, 6_108_776),
    ],
)
def test_mobilenetv2_widths(width, madds, params):
    t = totals("mobilenetv2", width=width)
    assert (t["madds"], t["params"]) == (madds, params)


def test_mobilenetv2_stride1_at_112_equals_stride2_at_224():
    t = totals("mobilenetv2", stem_stride=1, input="112x112")
    assert (t["madds"], t["params"]) == (300_774_272, 3_504_872)
    p = archlab.plan("mobilenetv2", stem_stride=1, input="112x112")
    assert p.rows[-1].in_shape == (1280, 7, 7)  # FMap-end 7x7 as at 224 with stride 2
    assert archlab.plan("mobilenetv2", input="112x112").rows[-1].in_shape == (1280, 4, 4)


def test_mobilenetv2_last_conv_scales_only_above_one():
    assert archlab.plan("mobilenetv2", width=0.5).layer("8.0.conv").out_shape[0] == 1280
    assert archlab.plan("mobilenetv2", width=1.4).layer("8.0.conv").out_shape[0] == 1792


@pytest.mark.parametrize(
    "width, madds",
    [
        (1.0, 568_740_352),
        (0.75, 325_400_448),
        (0.5, 149_497_088),
        (0.25, 41_030_272),
    ],
)
def test_mobilenetv1_widths(width, madds):
    assert totals("mobilenetv1", width=width)["madds"] == madds


def test_mobilenetv1_params():
    assert totals("mobilenetv1")["params"] == 4_231_976


@pytest.mark.parametrize("size, madds", [(192, 418_121_728), (160, 290_675_200), (128, 186_400_768)])
def test_mobilenetv1_resolutions(size, madds):
    assert totals("mobilenetv1", input=f"{size}x{size}")["madds"] == madds


def test_xception():
    t = totals("xception")
    assert (t["madds"], t["params"]) == (8_357_403_496, 22_855_952)  # params: Xception paper, Table 3


def test_hand_derived_first_layers_of_mobilefacenet():
    p = archlab.plan("mobilefacenet")
    conv1 = p.layer("0.0.conv")
    # 3x3 conv, 3 -> 64, stride 2: 56*56 outputs x 64 channels x 27 multiply-adds each
    assert conv1.madds == 56 * 56 * 64 * 3 * 3 * 3 == 5_419_008
    assert conv1.params == 64 * 27
    assert p.layer("0.0.bn").other_ops == 2 * 64 * 56 * 56
    assert p.layer("0.0.act").params == 64  # PReLU slopes
    # first bottleneck block: expand 64 -> 128 (t=2 of its input), dw stride 2, project to 64, no add
    assert p.layer("2.0.expand").out_shape == (128, 56, 56)
    assert p.layer("2.0.dw").out_shape == (128, 28, 28)
    names = [l.name for l in p.layers if l.name.startswith("2.0.")]
    assert "2.0.add" not in names and "2.1.add" in [l.name for l in p.layers]
    assert p.layer("2.1.add").other_ops == 64 * 28 * 28


def test_mobilenetv2_t1_block_has_no_expansion():
    p = archlab.plan("mobilenetv2")
    assert [l.name for l in p.layers if l.name.startswith("1.0.")] == [
        "1.0.dw",
        "1.0.dw_bn",
        "1.0.dw_act",
        "1.0.project",
        "1.0.project_bn",
    ]


def test_other_ops_rules_on_pools():
    p = archlab.plan("xception")
    pool = p.layer("2.0.pool")  # 3x3 stride-2 max-pool, 147 -> 74
    assert pool.other_ops == 8 * pool.out_shape[0] * 74 * 74
    gap = p.layer("head.gap.pool")
    assert gap.other_ops == 2048 * 10 * 10


def test_params_deployed_rule():
    p = archlab.plan("mobilefacenet")
    # conv (no bias) + BN: weights + one bias per channel; BN itself folds away
    assert p.layer("0.0.conv").params_deployed == 64 * 27 + 64
    assert p.layer("0.0.bn").params_deployed == 0
    t = p.totals()
    bn_channels = sum(l.out_shape[0] for l in p.layers if l.op == "bn")
    assert t["params"] - t["params_deployed"] == bn_channels


def test_plan_replace_keeps_deployed_counts():
    """A plan rebuilt from its own layers (dataclasses.replace, as sub-network studies do) counts the same."""
    from dataclasses import replace

    p = archlab.plan("mobilefacenet")
    assert replace(p, layers=p.layers).totals() == p.totals()
