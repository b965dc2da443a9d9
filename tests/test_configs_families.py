"""The efficient-CNN family tables (issue 13): ResNet, ShuffleNetV2, EfficientNet, MNASNet, RegNet, SqueezeNet and
InsightFace's MobileFaceNet, exact against torchvision's / the hand derivation, and built like the references.

Fast: the plan's totals (no torch), the published figures in each file, the built network's weighted leaves equal
to the reference module's, and with the reference's weights copied in, the same output. Slow: fvcore's conv +
linear MAdds of the built network at full size, and the whole ``--check`` cross-check (fvcore, thop, memory).
"""

from __future__ import annotations

import pytest

import archlab
from tests.helpers.module_match import activation_types, copy_weights, weighted_leaves
from tests.reference_models import SPECS

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

# table, reference model, params, MAdds (torchvision's figures at 224x224; arcface_torch's get_mbf at 112x112)
FAMILY = [
    ("resnet18", "resnet18", 11_689_512, 1_814_073_344),
    ("resnet50", "resnet50", 25_557_032, 4_089_184_256),
    ("shufflenetv2", "shufflenet_v2_x1_0", 2_278_604, 144_907_992),
    ("shufflenetv2-x0.5", "shufflenet_v2_x0_5", 1_366_792, 40_476_448),
    ("efficientnet-b0", "efficientnet_b0", 5_288_548, 385_814_752),
    ("mnasnet", "mnasnet1_0", 4_383_312, 314_415_872),
    ("regnetx-400mf", "regnet_x_400mf", 5_495_976, 413_812_608),
    ("squeezenet1.1", "squeezenet1_1", 1_235_496, 349_151_936),
    ("mobilefacenet-insightface", "arcface_mbf", 2_059_520, 437_520_896),
]
# the MobileNetV3 tables now carry torchvision's BN eps/momentum and its last-conv rule: same comparison
REFERENCED = FAMILY + [
    ("mobilenetv3-large", "mobilenet_v3_large", 5_483_032, 216_589_760),
    ("mobilenetv3-small", "mobilenet_v3_small", 2_542_856, 56_510_400),
]
IDS = [t for t, *_ in REFERENCED]


@pytest.mark.parametrize("table, reference, params, madds", FAMILY, ids=[t for t, *_ in FAMILY])
def test_plan_totals_are_the_published_figures(table, reference, params, madds):
    totals = archlab.plan(table).totals()
    assert (totals["params"], totals["madds"]) == (params, madds)
    assert (SPECS[reference].params, SPECS[reference].madds) == (params, madds)
    published = archlab.load_table(table).published
    assert (published["params"], published["madds"]) == (params, madds)


@pytest.mark.parametrize("table, reference, params, madds", REFERENCED, ids=IDS)
def test_built_network_has_the_reference_layout(table, reference, params, madds):
    built, ref = archlab.build(table), SPECS[reference].build()
    assert weighted_leaves(built) == weighted_leaves(ref)  # types, parameter shapes, BN eps/momentum, in order
    assert activation_types(built) == activation_types(ref)
    assert sum(p.numel() for p in built.parameters()) == params


# smaller inputs where the head allows it (global pooling): the same weights, the same computation, faster
SIDE = {"mobilefacenet-insightface": 112}


@pytest.mark.parametrize("table, reference, params, madds", REFERENCED, ids=IDS)
def test_with_the_reference_weights_it_computes_the_same(table, reference, params, madds):
    import torch

    from archlab.nn.fold import randomize_bn

    side = SIDE.get(table, 64)
    torch.manual_seed(0)
    ref = SPECS[reference].build().eval()
    randomize_bn(ref)
    net = archlab.build(table, input=f"{side}x{side}").eval()
    copy_weights(ref, net)
    x = torch.randn(2, 3, side, side)
    with torch.no_grad():
        assert torch.equal(net(x), ref(x))


def test_resnet18_fmap_end_and_receptive_field_by_hand():
    """FMap-end 512x7x7; theoretical RF by the recurrence RF += (k - 1) x jump, jump *= s along the deepest path
    (every block's two 3x3 convs; the 1x1 shortcuts are narrower):
        conv1 7x7/2: 1 + 6 x 1 = 7, jump 2;      max-pool 3x3/2: 7 + 2 x 2 = 11, jump 4
        layer1 (4 convs 3x3/1, jump 4): 11 + 4 x 2 x 4 = 43
        layer2 (3x3/2, jump 4 -> 8; then 3 convs at jump 8): 43 + 2 x 4 + 3 x 2 x 8 = 99
        layer3: 99 + 2 x 8 + 3 x 2 x 16 = 211;   layer4: 211 + 2 x 16 + 3 x 2 x 32 = 435, jump 32."""
    from archlab.ir.structure import fmap_end
    from archlab.static.receptive import receptive_fields

    plan = archlab.plan("resnet18")
    end = fmap_end(plan)
    rf = receptive_fields(plan.layers)[end]
    assert (end, plan.shape_of(end)) == ("4.1.act", (512, 7, 7))
    size = 1 + 6
    jump = 2
    size += 2 * jump
    jump *= 2
    for stage_stride in (1, 2, 2, 2):
        size += 2 * jump  # the stage's first 3x3 (its stride acts after it)
        jump *= stage_stride
        size += 3 * 2 * jump  # the other three 3x3 convs of the stage's two blocks
    assert (size, jump) == (435, 32)
    assert rf.size == (435, 435) and rf.jump == (32, 32) and rf.aligned


@pytest.mark.parametrize("width", [0.5, 0.75, 1.25])
@pytest.mark.parametrize("table, build", [("mobilenetv3-large", "large"), ("mobilenetv3-small", "small")])
def test_mobilenetv3_last_conv_is_six_times_the_scaled_last_block(table, build, width):
    from archlab.spec.rounding import make_divisible
    from tests.reference_models import mobilenet_v3_large, mobilenet_v3_small

    ref = (mobilenet_v3_large if build == "large" else mobilenet_v3_small)(width_mult=width)
    plan = archlab.plan(table, width=width)
    last = plan.rows[-2]  # the conv row before the head
    block = 160 if build == "large" else 96
    assert last.out_shape[0] == 6 * make_divisible(block * width, 8) == ref.features[-1][0].out_channels
    assert plan.totals()["params"] == sum(p.numel() for p in ref.parameters())


def test_bn_eps_and_momentum_reach_the_built_modules_and_the_fold():
    import torch

    from archlab.nn.fold import fold_bn, randomize_bn

    v3 = archlab.build("mobilenetv3-small")
    bns = [m for m in v3.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and {(m.eps, m.momentum) for m in bns} == {(0.001, 0.01)}
    mnas = archlab.plan("mnasnet")
    assert {(l.eps, l.momentum) for l in mnas.layers if l.op == "bn"} == {(1e-5, 0.0003)}
    plan = archlab.plan("mobilenetv3-small", input="64x64")
    net = archlab.build("mobilenetv3-small", input="64x64").eval()
    randomize_bn(net)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(fold_bn(net, plan)(x), net(x), atol=1e-5)  # the fold divides by sqrt(var + 0.001)


def test_resnet50_is_v1_5_and_its_shortcuts_project():
    plan = archlab.plan("resnet50")
    assert plan.layer("2.0.conv2").stride == (2, 2) and plan.layer("2.0.conv1").stride == (1, 1)
    assert plan.layer("1.0.shortcut").out_shape == (256, 56, 56)  # 64 -> 256 at stride 1: projected
    assert not plan.has("1.1.shortcut")  # the identity
    shortcuts = [l for l in plan.layers if l.role in ("shortcut", "shortcut_bn")]
    projections = [(64, 256), (256, 512), (512, 1024), (1024, 2048)]  # 1x1 conv + BN (2 per channel)
    assert sum(l.params for l in shortcuts) == sum(cin * cout + 2 * cout for cin, cout in projections)


def test_resnet18_downsample_shortcuts_are_the_173824_params_the_issue_names():
    plan = archlab.plan("resnet18")
    shortcuts = [l for l in plan.layers if l.role in ("shortcut", "shortcut_bn")]
    assert sum(l.params for l in shortcuts) == 173_824 == (64 * 128 + 256) + (128 * 256 + 512) + (256 * 512 + 1024)


def test_efficientnet_b0_squeeze_excite_and_drop_path():
    plan = archlab.plan("efficientnet-b0")
    assert plan.layer("2.0.se_fc1").out_shape[0] == 4  # block input 16 // 4 (not the expanded 96 // 4)
    assert plan.layer("1.0.se_fc1").out_shape[0] == 8 and not plan.has("1.0.expand")  # t = 1: no expansion
    assert {plan.layer("2.0.se_act").kind, plan.layer("2.0.se_gate").kind} == {"silu", "sigmoid"}
    drops = [l for l in plan.layers if l.op == "droppath"]
    assert len(drops) == 9 and all(l.params == l.madds == l.other_ops == 0 for l in drops)  # 16 blocks, 9 residual
    assert type(archlab.build("efficientnet-b0").get_submodule("2.1.drop_path")).__name__ == "Identity"


def test_insightface_mobilefacenet_keeps_the_t1_expansions_and_the_grouped_stem(write_table):
    plan = archlab.plan("mobilefacenet-insightface")
    assert plan.layer("1.0.conv").groups == 64 and plan.layer("1.0.conv").params == 128 * 2 * 9
    expansions = [l for l in plan.layers if l.role.startswith("expand")]
    assert len(expansions) == 3 * (1 + 4 + 1 + 6 + 1 + 2)  # conv, BN, PReLU of every block
    assert plan.layer("3.0.expand").out_shape == (128, 28, 28)  # 128 -> 128 kept
    auto = write_table("""
        extends: mobilefacenet-insightface
        name: mbf-auto
        edit:
          - {row: 2, set: {expand: auto}}
          - {row: 3, set: {expand: auto}}
          - {row: 5, set: {expand: auto}}
          - {row: 7, set: {expand: auto}}
    """)
    dropped = len(plan.layers) - len(archlab.plan(auto).layers)
    assert dropped == 39  # 13 expansions (e = input) x conv, BN, PReLU: what torchvision's rule loses


@pytest.mark.slow
@pytest.mark.parametrize("table, reference, params, madds", FAMILY, ids=[t for t, *_ in FAMILY])
def test_fvcore_counts_the_built_network_like_the_plan(table, reference, params, madds):
    import torch

    from tests.reference_models.measure import fvcore_madds

    side = SPECS[reference].input
    built = archlab.build(table).eval()
    assert fvcore_madds(built, torch.zeros(1, 3, side, side))[0] == madds


@pytest.mark.slow
@pytest.mark.parametrize("table", [t for t, *_ in FAMILY])
def test_check_passes(table):
    from archlab.nn.tools import crosscheck

    report = crosscheck(archlab.plan(table))
    assert report.ok, report.failures


def test_shufflenetv2_split_and_shuffle_in_the_layer_profile(cli):
    import json

    r = cli("profile", "shufflenetv2", "--depth", "layer", "-f", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    layers = [l for l in data["layers"] if l["op"] in ("slice", "shuffle")]
    assert len([l for l in layers if l["op"] == "shuffle"]) == 4 + 8 + 4  # one per unit
    assert len([l for l in layers if l["op"] == "slice"]) == 2 * (3 + 7 + 3)  # two halves per stride-1 unit
    assert all(l["madds"] == l["other_ops"] == l["params"] == 0 for l in layers)
    rule = data["conventions"]["other_ops"]
    assert "shuffle 0 (a permutation of channels" in rule and "slice 0 (a view of a channel range" in rule
    text = cli("profile", "shufflenetv2", "--depth", "layer").stdout
    assert "1.1.part0" in text and "1.0.shuffle" in text
