"""Issue 8: taps, several outputs, concat, SSDLite, MobileNetV3, TensorFlow SAME padding, validate/schema/lint."""

import json

import pytest

import archlab
from archlab.errors import TableError
from tests.test_printouts import DATA, leaves, parse_line


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


def test_ssdlite_leaf_layers_match_printout():
    expected = [parse_line(l) for l in (DATA / "ssdlite-mobilenetv2.txt").read_text().splitlines() if l.strip()]
    got = leaves(archlab.build("ssdlite-mobilenetv2", classes=4))
    assert got == expected


def test_ssdlite_taps_and_outputs():
    p = archlab.plan("ssdlite-mobilenetv2")
    assert p.layer("6.0.expand_act").out_shape == (576, 19, 19)  # the tap inside block 13 of the base
    assert p.layer("13.0.dw").inputs == ("6.0.expand_act",)
    shapes = [p.layer(o).out_shape for o in p.outputs]
    assert [s[1:] for s in shapes[:6]] == [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    assert all(s[0] == 6 * 21 for s in shapes[:6]) and all(s[0] == 24 for s in shapes[6:])


def test_ssdlite_table6_setting():
    t = archlab.plan("ssdlite-mobilenetv2", classes=81, input="320x320").totals()
    assert (t["params"], t["madds"]) == (4_450_228, 847_543_104)


def test_ssdlite_forward_returns_every_output():
    import torch

    net = archlab.build("ssdlite-mobilenetv2", classes=4, input="96x96").eval()
    with torch.no_grad():
        ys = net(torch.randn(1, 3, 96, 96))
    plan = archlab.plan("ssdlite-mobilenetv2", classes=4, input="96x96")
    assert [tuple(y.shape[1:]) for y in ys] == [plan.layer(o).out_shape for o in plan.outputs]


def test_from_concat_and_outputs(write_table):
    import torch

    p = write_table("""
        name: branchy
        input: [16, 16]
        rows:
          - {type: conv, id: stem, c: 8, s: 2}
          - {type: conv, c: 4, k: 1}
          - {type: conv, from: stem, c: 6, k: 3}
          - {type: concat, from: [1, -1, 0.0.act]}
          - {type: conv, c: 5, k: 1, output: true}
          - {type: conv, from: 1, c: 3, k: 1, output: true}
    """)
    plan = archlab.plan(p)
    assert plan.layer("3.0.concat").out_shape == (18, 8, 8)
    assert plan.layer("3.0.concat").inputs == ("1.0.act", "2.0.act", "0.0.act")
    assert plan.outputs == ("4.0.act", "5.0.act")
    ys = archlab.build(p).eval()(torch.randn(2, 3, 16, 16))
    assert [tuple(y.shape) for y in ys] == [(2, 5, 8, 8), (2, 3, 8, 8)]


@pytest.mark.parametrize(
    "ref, needle", [(3, "not an earlier row"), ("nosuch", "unknown row id or layer name"), ([0], "at least two")]
)
def test_bad_from(write_table, ref, needle):
    rtype = "concat" if isinstance(ref, list) else "conv, c: 4"
    p = write_table(
        f"name: t\ninput: [8, 8]\nrows:\n  - {{type: conv, c: 4}}\n  - {{type: {rtype}, from: {json.dumps(ref)}}}\n"
    )
    with pytest.raises(TableError, match=needle) as e:
        archlab.plan(p)
    assert e.value.field == "from" and e.value.row == 1


@pytest.mark.parametrize("n, k, s", [(112, 3, 2), (56, 3, 1), (7, 3, 7), (15, 5, 2), (10, 2, 2), (9, 4, 3)])
def test_tensorflow_same_padding(write_table, n, k, s):
    import torch

    p = write_table(
        f"name: t\ninput: [{n}, {n}]\ndefaults: {{padding: same}}\nrows:\n  - {{type: conv, c: 2, k: {k}, s: {s}}}\n"
    )
    plan = archlab.plan(p)
    out = -(-n // s)  # TensorFlow SAME: ceil(n / s)
    assert plan.output_shape == (2, out, out)
    assert tuple(archlab.build(p).eval()(torch.randn(1, 3, n, n)).shape[1:]) == (2, out, out)
    total = max((out - 1) * s + k - n, 0)
    conv = plan.layer("0.0.conv")
    if total % 2:
        assert plan.layer("0.0.conv_pad").padding == (total // 2, total - total // 2, total // 2, total - total // 2)
    else:
        assert conv.padding == (total // 2, total // 2)


def test_mobilefacenet_tf_quirks():
    p = archlab.plan("mobilefacenet-tf")
    names = [l.name for l in p.layers]
    assert not any(l.op == "add" for l in p.layers)  # no residual adds
    assert p.layer("0.0.conv_pad").padding == (0, 1, 0, 1)  # SAME on 112 with stride 2
    assert p.layer("2.0.project_act").kind == "relu"  # activation after the projection
    assert "1.0.act" not in names  # no activation on the first depthwise conv
    gd = p.layer("8.0.conv")
    assert gd.kernel == (3, 3) and gd.stride == (7, 7) and gd.out_shape == (512, 1, 1)
    assert p.output_shape == (254,)


def test_lint(cli):
    r = cli("lint", "mobilefacenet-tf")
    assert r.exit_code == 1 and "global-dw-coverage" in r.stdout and "sees 9 of 49 positions" in r.stdout
    assert "mobilefacenet-tf.yaml:20" in r.stdout  # names the row's line
    r = cli("lint", "mobilefacenet")
    assert r.exit_code == 0 and "clean" in r.stdout
    d = json.loads(cli("lint", "mobilenetv2", "--input", "112x112", "--embedding", "128", "-f", "json").stdout)
    rules = {f["rule"] for f in d["findings"]}
    assert "small-fmap-end" in rules  # 4x4 FMap-end: the paper's reason for stride 1
    r = cli("lint", "mobilenetv2", "--input", "112x112", "--embedding", "128", "--stem-stride", "1")
    assert "small-fmap-end" not in r.stdout


def test_validate_reports_every_error(cli, write_table):
    p = write_table("""
        name: bad
        input: [112, 112]
        defaults: {act: mish}
        rows:
          - {type: conv, c: 0, k: 3, s: 2}
          - {type: botleneck, t: 2, c: 64}
          - {type: bottleneck, c: 64, n: 2}
          - {type: dwsep, c: 64, q: 1}
        head: {pool: gap, embedding: {size: -1}}
    """)
    r = cli("validate", p)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 7 and lines[-1] == f"6 errors in {p}"
    assert "field 'defaults.act'" in lines[0] and "row 0 (conv): field 'c'" in lines[1]
    assert "row 1: field 'type'" in lines[2] and "row 3 (dwsep): field 'q'" in lines[4]
    assert "head.embedding.size" in lines[5]
    d = json.loads(cli("validate", p, "-f", "json").stdout)
    assert d["valid"] is False and [e["row"] for e in d["errors"]] == [None, 0, 1, 2, 3, None]
    assert cli("validate", "mobilefacenet").exit_code == 0


def test_schema_accepts_shipped_configs_and_rejects_bad_rows(cli):
    import jsonschema
    import yaml

    from archlab.spec import registry

    schema = json.loads(cli("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in registry.names():
        data = yaml.safe_load((registry.configs_dir() / f"{name}.yaml").read_text())
        errors = list(validator.iter_errors(data))
        assert not errors, (name, errors[0].message)
    bad = {"name": "x", "input": [8, 8], "rows": [{"type": "bottleneck", "t": 2, "c": 8, "q": 1}]}
    assert list(validator.iter_errors(bad))


def test_rf_of_each_detection_head(cli):
    d = json.loads(cli("rf", "ssdlite-mobilenetv2", "-f", "json").stdout)
    outs = {o["name"]: o for o in d["outputs"]}
    assert len(outs) == 12
    # map 1 is the tap 6.0.expand_act (19x19, jump 16) seen through the head's 3x3 depthwise: RF grows by 2 x 16
    assert outs["13.0.pw"]["rf"]["jump"] == [16, 16] and outs["13.0.pw"]["shape"] == [126, 19, 19]
    tap = json.loads(cli("profile", "ssdlite-mobilenetv2", "--depth", "layer", "-f", "json").stdout)
    tap_rf = next(l for l in tap["layers"] if l["name"] == "6.0.expand_act")["rf"]["size"][0]
    assert outs["13.0.pw"]["rf"]["size"] == [tap_rf + 2 * 16] * 2
    assert outs["18.0.pw"]["rf"]["jump"] == [512, 512]  # 1x1 map after four stride-2 extras (32 x 16)
    assert [o["name"] for o in tap["outputs"]] == list(outs)


def test_lint_rf_rules_and_profile_notes(cli, write_table):
    r = cli("lint", "mobilenetv1", "--input", "600x600", "-f", "json")
    rules = [f["rule"] for f in json.loads(r.stdout)["findings"]]
    assert r.exit_code == 1 and "rf-coverage" in rules  # RF 315 < 600
    p = write_table("""
        name: misaligned
        input: [16, 16]
        rows:
          - {type: conv, id: a, c: 4, k: 3, s: 2}
          - {type: conv, c: 4, k: 2, s: 2, padding: valid, from: input}
          - {type: concat, from: [a, -1]}
    """)
    r = cli("lint", p, "-f", "json")
    found = {f["rule"]: f for f in json.loads(r.stdout)["findings"]}
    assert "rf-misaligned" in found and found["rf-misaligned"]["row"] == 2
    out = cli("profile", "mobilefacenet-tf").stdout
    assert "lint: " in out and "sees 9 of 49 positions" in out
    assert json.loads(cli("profile", "mobilefacenet", "-f", "json").stdout)["lint"] == []
