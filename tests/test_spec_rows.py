"""The row types of issue 13 (archlab.spec.rows): add, mul, split, shuffle, upsample, dropout, basic, bottleneck3,
regnetx, shufflev2, mbconv, fire; bottleneck ``expand`` and ``se`` options; conv ``t``; ``bias`` on every conv and the
embedding; BN eps/momentum per table and row. Bad fields are one line naming file:line, row and field, exit 2."""

from __future__ import annotations

import pytest

import archlab
from archlab.errors import ArchlabError

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

HEADER = """
    name: t
    input: [16, 16]
    defaults: {norm: bn, act: relu}
    rows:
"""


def table(write_table, *rows: str, extra: str = ""):
    return write_table(HEADER + "".join(f"      - {r}\n" for r in rows) + extra)


# -- bad fields: one line, file:line, row, field -----------------------------------------------------------------

BAD = [
    (
        ("{type: conv, c: 8, k: 3, s: 2}", "{type: conv, c: 16, k: 3}", "{type: add, from: [0, 1]}"),
        ":7: row 2 (add): field 'from': residual add of different shapes (8, 8, 8) and (16, 8, 8)",
    ),
    (
        ("{type: conv, c: 9, k: 3}", "{type: split, parts: 2}"),
        ":6: row 1 (split): field 'parts': a split into 2 parts does not divide the 9 channels",
    ),
    (
        ("{type: conv, c: 10, k: 3}", "{type: shuffle, groups: 3}"),
        ":6: row 1 (shuffle): field 'groups': shuffle groups=3 must divide the channels 10",
    ),
    (
        ("{type: conv, c: 10, k: 3}", "{type: conv, c: 10, act: swsh}"),
        ":6: row 1 (conv): field 'act': unknown activation 'swsh' (did you mean swish, hardswish?); known: relu,",
    ),
    (
        ("{type: conv, c: 8}", "{type: mul, from: [0]}"),
        ":6: row 1 (mul): field 'from': a mul row reads a list of two tensors: from: [a, b]",
    ),
    (
        ("{type: conv, c: 8}", "{type: split, parts: 2, names: [a, a]}"),
        ":6: row 1 (split): field 'names': give 2 distinct names, one per part",
    ),
    (
        ("{type: conv, c: 8}", "{type: bottleneck, t: 2, c: 8, se: {gate: relu}}"),
        ":6: row 1 (bottleneck): field 'se.gate': expected one of sigmoid, hardsigmoid, got 'relu'",
    ),
    (
        ("{type: conv, c: 8}", "{type: regnetx, c: 24, g: 16}"),
        ":6: row 1 (regnetx): field 'g': the group width 16 does not divide the bottleneck width 24",
    ),
    (
        ("{type: conv, c: 8}", "{type: shufflev2, c: 16, s: 1}"),
        ":6: row 1 (shufflev2): field 'c': a stride-1 unit keeps the channels: input 8, c 16",
    ),
    (
        ("{type: conv, c: 8, t: 2}",),
        ":5: row 0 (conv): field 't': give either c (channels) or t (a multiple of the input's), not both",
    ),
]


@pytest.mark.parametrize("rows, message", BAD, ids=[m.split("field ")[1][:20] for _, m in BAD])
def test_bad_fields_raise_one_clear_error(write_table, rows, message):
    path = table(write_table, *rows)
    with pytest.raises(ArchlabError) as e:
        archlab.plan(str(path))
    assert str(e.value).startswith(f"{path}{message}")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("rows, message", BAD[:4], ids=["add", "split", "shuffle", "act"])
def test_bad_fields_exit_2_on_one_line(cli, write_table, rows, message):
    path = table(write_table, *rows)
    for command in ("profile", "validate"):
        r = cli(command, path)
        assert r.exit_code == 2, r.output
        lines = r.stderr.strip().splitlines()
        assert f"{path}{message}" in lines[0] and "Traceback" not in r.output
        assert len(lines) == (1 if command == "profile" else 2)  # validate adds "1 error in ..."


def test_swish_is_silu_and_the_new_activations_build(write_table):
    import torch

    acts = ["silu", "swish", "sigmoid", "hardsigmoid", "gelu", "leakyrelu", "tanh"]
    path = table(write_table, *[f"{{type: conv, c: 4, k: 1, act: {a}}}" for a in acts])
    plan = archlab.plan(path)
    assert [l.kind for l in plan.layers if l.op == "act"] == ["silu", "silu", *acts[2:]]
    net = archlab.build(path)
    names = [type(net.get_submodule(f"{i}.0.act")).__name__ for i in range(len(acts))]
    assert names == ["SiLU", "SiLU", "Sigmoid", "Hardsigmoid", "GELU", "LeakyReLU", "Tanh"]
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 4, 16, 16)


# -- graph rows: add, mul, split, shuffle, upsample ----------------------------------------------------------------


def test_add_of_three_tensors_and_its_optional_act(write_table):
    path = table(write_table, "{type: conv, c: 8}", "{type: conv, c: 8}", "{type: add, from: [0, 1, input]}")
    with pytest.raises(ArchlabError, match="different shapes"):
        archlab.plan(path)
    path = table(write_table, "{type: conv, c: 8}", "{type: conv, c: 8}", "{type: add, from: [0, 1, -1], act: relu}")
    plan = archlab.plan(path)
    add = plan.layer("2.0.add")
    assert add.inputs == ("0.0.act", "1.0.act", "1.0.act") and add.other_ops == 2 * 8 * 16 * 16
    assert plan.layer("2.0.act").kind == "relu" and plan.output == "2.0.act"
    assert not archlab.plan(table(write_table, "{type: conv, c: 8}", "{type: add, from: [0, 0]}")).has("1.0.act")


def test_mul_gates_by_channel_or_elementwise(write_table):
    path = table(
        write_table,
        "{type: conv, c: 8}",
        "{type: pool, kind: global}",
        "{type: mul, from: [0, 1]}",
        "{type: mul, from: [2, 0]}",
    )
    plan = archlab.plan(path)
    assert plan.layer("2.0.mul").out_shape == (8, 16, 16) and plan.layer("3.0.mul").other_ops == 8 * 256
    bad = table(write_table, "{type: conv, c: 8}", "{type: pool, kind: global}", "{type: mul, from: [1, 0]}")
    with pytest.raises(ArchlabError, match=r"the gate \(8, 16, 16\) does not broadcast to \(8, 1, 1\)"):
        archlab.plan(bad)


def test_split_parts_are_views_read_by_name_and_the_row_output_is_the_last(write_table):
    import torch

    path = table(
        write_table,
        "{type: conv, c: 12, norm: none, act: none}",
        "{type: split, parts: 3, names: [a, b, c]}",
        "{type: concat, from: [1.0.c, 1.0.a]}",
    )
    plan = archlab.plan(path)
    parts = [plan.layer(f"1.0.{n}") for n in "abc"]
    assert [p.channels for p in parts] == [(0, 4), (4, 8), (8, 12)]
    assert all(p.op == "slice" and p.other_ops == p.madds == 0 for p in parts)
    assert plan.rows[1].out_shape == (4, 16, 16) and plan.layer("2.0.concat").inputs == ("1.0.c", "1.0.a")
    net = archlab.build(path)
    x = torch.randn(1, 3, 16, 16)
    y = net.get_submodule("0.0.conv")(x)
    assert torch.equal(net(x), torch.cat([y[:, 8:], y[:, :4]], 1))


def test_shuffle_row(write_table):
    plan = archlab.plan(table(write_table, "{type: conv, c: 12}", "{type: shuffle, groups: 3}"))
    assert plan.layer("1.0.shuffle").groups == 3 and plan.layer("1.0.shuffle").other_ops == 0


def test_upsample_shapes_counts_and_modules(write_table):
    import torch

    path = table(
        write_table, "{type: conv, c: 4, k: 3, s: 2}", "{type: upsample}", "{type: upsample, scale: 3, mode: bilinear}"
    )
    plan = archlab.plan(path)
    near, bil = plan.layer("1.0.upsample"), plan.layer("2.0.upsample")
    assert (near.kind, near.out_shape, near.other_ops) == ("nearest", (4, 16, 16), 0)
    assert (bil.kind, bil.out_shape, bil.other_ops) == ("bilinear", (4, 48, 48), 4 * 4 * 48 * 48)
    net = archlab.build(path)
    module = net.get_submodule("2.0.upsample")
    assert (module.mode, module.scale_factor, module.align_corners) == ("bilinear", 3.0, False)
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 4, 48, 48)


def test_pool_ceil_mode(write_table):
    plan = archlab.plan(table(write_table, "{type: pool, kind: max, k: 3, s: 2, ceil: true}"))
    assert plan.layer("0.0.pool").out_shape == (3, 8, 8)  # ceil((16 - 3) / 2) + 1 = 8; floor: 7
    assert archlab.plan(table(write_table, "{type: pool, kind: max, k: 3, s: 2}")).output_shape == (3, 7, 7)
    net = archlab.build(table(write_table, "{type: pool, kind: avg, k: 3, s: 2, ceil: true}"))
    assert net.get_submodule("0.0.pool").ceil_mode


# -- block rows -----------------------------------------------------------------------------------------------------


def test_basic_block_projects_only_when_the_shape_changes(write_table):
    plan = archlab.plan(
        table(write_table, "{type: conv, c: 8}", "{type: basic, c: 8, n: 2}", "{type: basic, c: 16, s: 2}")
    )
    names = [l.name for l in plan.layers if l.row == 2]
    assert names == [
        "2.0.conv1", "2.0.conv1_bn", "2.0.conv1_act", "2.0.conv2", "2.0.conv2_bn",
        "2.0.shortcut", "2.0.shortcut_bn", "2.0.add", "2.0.act",
    ]  # fmt: skip
    assert not any(l.role == "shortcut" for l in plan.layers if l.row == 1)
    assert plan.layer("2.0.shortcut").stride == (2, 2) and plan.layer("2.0.shortcut").kernel == (1, 1)


def test_bottleneck3_stride_on_and_groups(write_table):
    v15 = archlab.plan(table(write_table, "{type: bottleneck3, c: 64, s: 2, groups: 4}"))
    v1 = archlab.plan(table(write_table, "{type: bottleneck3, c: 64, s: 2, stride_on: 1x1}"))
    assert v15.layer("0.0.conv2").stride == (2, 2) and v15.layer("0.0.conv2").groups == 4
    assert v1.layer("0.0.conv1").stride == (2, 2) and v1.layer("0.0.conv2").stride == (1, 1)
    assert v15.layer("0.0.conv1").out_shape[0] == 16  # c / 4


def test_regnetx_block_order_and_groups(write_table):
    plan = archlab.plan(table(write_table, "{type: regnetx, c: 32, g: 8, b: 0.5}"))
    names = [l.name for l in plan.layers]
    assert names[:2] == ["0.0.proj", "0.0.proj_bn"] and names[-2:] == ["0.0.add", "0.0.act"]
    assert plan.layer("0.0.b").groups == 2 and plan.layer("0.0.a").out_shape[0] == 16  # w_b = 16, 16 / 8 groups


def test_shufflev2_both_stride_cases(write_table):
    plan = archlab.plan(table(write_table, "{type: conv, c: 8}", "{type: shufflev2, c: 16, n: 2}"))
    roles = lambda block: [l.role for l in plan.layers if l.block == block]  # noqa: E731
    assert roles("1.0")[:2] == ["b1_dw", "b1_dw_bn"] and "part0" not in roles("1.0")
    assert roles("1.1")[:2] == ["part0", "part1"] and roles("1.1")[-2:] == ["concat", "shuffle"]
    assert plan.layer("1.1.b2_pw1").inputs == ("1.1.part1",) and plan.layer("1.1.concat").inputs[0] == "1.1.part0"


def test_fire_module(write_table):
    plan = archlab.plan(table(write_table, "{type: fire, squeeze: 4, e1: 8, e3: 8, norm: none}"))
    assert plan.layer("0.0.concat").out_shape == (16, 16, 16)
    assert plan.layer("0.0.expand3x3").params == 8 * 4 * 9 + 8 and plan.layer("0.0.squeeze").bias


def test_dropout_row(write_table):
    plan = archlab.plan(table(write_table, "{type: conv, c: 4}", "{type: dropout, p: 0.3}"))
    assert plan.layer("1.0.dropout").p == 0.3
    with pytest.raises(ArchlabError, match="field 'p': must be < 1"):
        archlab.plan(table(write_table, "{type: dropout, p: 1.0}"))


# -- bottleneck / mbconv options ----------------------------------------------------------------------------------


def test_bottleneck_expand_always_keeps_the_t1_expansion(write_table):
    auto = archlab.plan(table(write_table, "{type: conv, c: 8}", "{type: bottleneck, t: 1, c: 8}"))
    always = archlab.plan(table(write_table, "{type: conv, c: 8}", "{type: bottleneck, t: 1, c: 8, expand: always}"))
    assert not auto.has("1.0.expand") and always.layer("1.0.expand").out_shape == (8, 16, 16)
    e = archlab.plan(table(write_table, "{type: conv, c: 8}", "{type: bottleneck, e: 8, c: 8, expand: always}"))
    assert e.has("1.0.expand_act")


@pytest.mark.parametrize(
    "se, squeeze, act, gate",
    [
        ("true", 16, "relu", "hardsigmoid"),  # MobileNetV3: make_divisible(96 // 4, 8) of the expanded 96 -> 24 -> 24
        ("{base: in}", 8, "relu", "hardsigmoid"),  # make_divisible(16 // 4, 8) = 8
        ("{base: in, divisor: 1, gate: sigmoid, act: silu}", 4, "silu", "sigmoid"),  # EfficientNet's
        ("{ratio: 0.125, divisor: 1}", 12, "relu", "hardsigmoid"),  # floor(96 / 8)
    ],
)
def test_squeeze_excite_options(write_table, se, squeeze, act, gate):
    path = table(write_table, "{type: conv, c: 16}", f"{{type: bottleneck, e: 96, c: 16, se: {se}}}")
    plan = archlab.plan(path)
    expected = 24 if se == "true" else squeeze
    assert plan.layer("1.0.se_fc1").out_shape[0] == expected
    assert (plan.layer("1.0.se_act").kind, plan.layer("1.0.se_gate").kind) == (act, gate)


def test_mbconv_defaults_and_drop_path(write_table):
    plan = archlab.plan(table(write_table, "{type: conv, c: 16}", "{type: mbconv, t: 6, c: 16, n: 2}"))
    assert plan.layer("1.0.expand").out_shape[0] == 96 and plan.layer("1.0.se_fc1").out_shape[0] == 4
    assert plan.layer("1.0.add").inputs == ("1.0.drop_path", "0.0.act")
    assert plan.layer("1.0.drop_path").op == "droppath"
    plain = archlab.plan(table(write_table, "{type: conv, c: 16}", "{type: mbconv, t: 6, c: 16, se: false}"))
    assert not plain.has("1.0.se_pool")
    strided = archlab.plan(table(write_table, "{type: conv, c: 16}", "{type: mbconv, t: 6, c: 24, s: 2}"))
    assert not strided.has("1.0.drop_path")  # no residual, no drop path


def test_conv_t_multiplies_the_scaled_input(write_table):
    path = table(write_table, "{type: conv, c: 16}", "{type: conv, t: 6, k: 1}")
    assert archlab.plan(path).output_shape == (96, 16, 16)
    assert archlab.plan(path, width=0.5).output_shape == (48, 16, 16)


# -- bias, groups, BN settings --------------------------------------------------------------------------------------


def test_bias_on_every_conv_of_a_row_and_on_the_embedding(write_table):
    path = table(
        write_table,
        "{type: conv, c: 8, k: 3}",
        "{type: bottleneck, t: 2, c: 8, bias: true}",
        "{type: basic, c: 8, bias: true}",
        extra="    head: {pool: gdconv, embedding: {size: 4, bias: true}}\n",
    )
    plan = archlab.plan(path)
    convs = [l for l in plan.layers if l.op == "conv" and l.row in (1, 2)]
    assert convs and all(l.bias for l in convs)
    assert not plan.layer("0.0.conv").bias
    assert plan.layer("head.embedding.linear").bias and plan.layer("head.embedding.linear").params == 8 * 4 + 4
    assert not plan.layer("head.gdconv.dw").bias
    net = archlab.build(path)
    assert net.get_submodule("head.embedding.linear").bias is not None


def test_groups_on_any_conv(write_table):
    path = table(write_table, "{type: conv, c: 8}", "{type: conv, c: 16, k: 3, groups: 4}")
    layer = archlab.plan(path).layer("1.0.conv")
    assert layer.groups == 4 and layer.params == 16 * (8 // 4) * 9
    assert archlab.build(path).get_submodule("1.0.conv").groups == 4


def test_bn_eps_and_momentum_per_table_and_row(write_table):
    path = write_table("""
        name: t
        input: [16, 16]
        defaults: {bn_eps: 0.001, bn_momentum: 0.01}
        rows:
          - {type: conv, c: 8}
          - {type: bottleneck, t: 2, c: 8, bn_eps: 0.0001, bn_momentum: 0.0003}
        head: {pool: gap, embedding: {size: 4}}
    """)
    plan = archlab.plan(path)
    settings = {l.row: (l.eps, l.momentum) for l in plan.layers if l.op == "bn"}
    assert settings == {0: (0.001, 0.01), 1: (0.0001, 0.0003), "head": (0.001, 0.01)}
    net = archlab.build(path)
    bn = net.get_submodule("1.0.dw_bn")
    assert (bn.eps, bn.momentum) == (0.0001, 0.0003)
    assert archlab.load_table(path).rows[1].label() == "t=2 c=8 s=1 k=3"  # settings are not the architecture
    default = archlab.plan(table(write_table, "{type: conv, c: 8}")).layer("0.0.bn")
    assert (default.eps, default.momentum) == (1e-5, 0.1)


def test_bad_bn_settings(write_table):
    with pytest.raises(ArchlabError, match="field 'bn_eps': must be > 0"):
        archlab.plan(table(write_table, "{type: conv, c: 8, bn_eps: 0}"))
    with pytest.raises(ArchlabError, match=r"row 0 \(conv\): field 'bn_momentum': BN momentum must be in \[0, 1\]"):
        archlab.plan(table(write_table, "{type: conv, c: 8, bn_momentum: 2}"))
