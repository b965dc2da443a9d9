"""archlab.static.crosscheck and archlab.nn.tools: `profile --check` against fvcore and thop, with exact numbers
derived by hand from the plan, and checks that fail when a count or a rule is wrong."""

import json
from dataclasses import replace

import pytest

import archlab
from archlab.ir import ops
from archlab.ir.builder import PlanBuilder
from archlab.ir.layer import numel
from archlab.nn import tools
from archlab.spec import registry

MFN_MADDS = 220_965_376  # test_counts.py: the acceptance table
MFN_BN_ELEMENTS = 3_205_632  # every conv/linear of MobileFaceNet is followed by a BN: = its activations


@pytest.fixture(scope="module")
def mfn_report():
    return tools.crosscheck(archlab.plan("mobilefacenet"))


def _elements(plan, op, kind=None):
    return sum(numel(l.out_shape) for l in plan.layers if l.op == op and (kind is None or l.kind == kind))


def test_mobilefacenet_fvcore_total_is_madds_plus_two_per_bn_element(mfn_report):
    plan = archlab.plan("mobilefacenet")
    assert _elements(plan, "bn") == MFN_BN_ELEMENTS
    fv = mfn_report.totals["fvcore"]["flops"]
    assert fv == MFN_MADDS + 2 * MFN_BN_ELEMENTS == 227_376_640
    # PReLU (2 per block x 15 blocks + 3 convs) and the 12 residual adds are unsupported: listed, not counted
    assert mfn_report.unsupported == {"aten::prelu": 33, "aten::add": 12}


def test_mobilefacenet_thop_total_is_madds_four_per_bn_prelu_and_pools(mfn_report):
    plan = archlab.plan("mobilefacenet")
    prelu = _elements(plan, "act", "prelu")
    assert prelu == 2_759_680
    pools = sum(ops.op_of(l.op, l.kind).thop(l, 1).expected for l in plan.layers if l.op == "pool")
    assert pools == 0  # MobileFaceNet has no pooling layer: the GDConv head is a conv
    th = mfn_report.totals["thop"]["ops"]
    assert th == MFN_MADDS + 4 * MFN_BN_ELEMENTS + prelu + pools == 236_547_584


def test_mobilefacenet_layers_agree_or_are_explained(mfn_report):
    assert mfn_report.ok, mfn_report.failures
    lc = {c.name: c for c in mfn_report.layers}
    dw = lc["4.2.dw"]  # 128*2 channels, 3x3 depthwise on 14x14
    assert dw.madds == dw.fvcore == dw.thop == 256 * 9 * 14 * 14
    bn = lc["4.2.dw_bn"]
    assert (bn.madds, bn.fvcore, bn.thop) == (0, 2 * 256 * 196, 4 * 256 * 196)
    act = lc["4.2.dw_act"]
    assert (act.fvcore, act.thop, act.fvcore_unsupported) == (0, 256 * 196, {"aten::prelu": 1})
    add = lc["4.2.add"]
    assert (add.other_ops, add.fvcore, add.thop, add.fvcore_unsupported) == (128 * 196, 0, 0, {"aten::add": 1})
    assert mfn_report.not_counted == {"residual_adds": 12, "elements": 363_776, "archlab_other_ops": 363_776}
    assert mfn_report.totals["fvcore"]["activations"] == mfn_report.totals["archlab"]["activations"] == 3_205_632
    assert mfn_report.totals["thop"]["params"] == mfn_report.totals["fvcore"]["params"] == 1_003_136
    assert mfn_report.memory["agree"]


def test_thop_pool_rules_on_mobilenetv2_and_xception():
    """thop's global pool: inputs + outputs; max-pool 0; fvcore's GAP: 1 per input (small inputs, same rules)."""
    r = tools.crosscheck(archlab.plan("mobilenetv2", input="64x64"), memory=False)
    gap = next(c for c in r.layers if c.op == "pool")
    assert gap.name == "head.gap.pool" and (gap.fvcore, gap.thop) == (1280 * 2 * 2, 1280 * 4 + 1280)
    assert r.unsupported == {"aten::hardtanh": 35, "aten::add": 10} and r.ok, r.failures
    x = tools.crosscheck(archlab.plan("xception", input="71x71"), memory=False)
    pools = [c for c in x.layers if c.op == "pool" and c.kind == "max"]
    assert len(pools) == 4 and all(c.thop == 0 and c.fvcore_unsupported == {"aten::max_pool2d": 1} for c in pools)
    assert x.ok, x.failures


def test_avgpool_rule_matches_thop_windows():
    """thop counts every window's inputs (padding included) + one per output; the rule reproduces it."""
    from archlab.ir.layer import Layer

    layer = Layer("p", "pool", "avg", 0, ("input",), (4, 7, 7), (4, 7, 7), kernel=(3, 3), stride=(1, 1), padding=(1, 1))
    assert ops.thop_avgpool_ops(layer) == 4 * 21 * 21 + 4 * 49  # 3 per output along each axis: 7*3 = 21


# every shipped network in the slow lane; in the fast lane one with PReLU + residual adds, one with SE + hardswish
FAST_CHECKS = ("mobilefacenet", "mobilenetv3-small")


@pytest.mark.parametrize(
    "name", [n if n in FAST_CHECKS else pytest.param(n, marks=pytest.mark.slow) for n in registry.names()]
)
def test_every_shipped_config_checks_ok(cli, name):
    # full size, except networks above 1 GMAdds (xception: 8.4G at 299x299) at 96x96 to keep the suite quick;
    # benchmarks/bench_check.py runs every network at full size
    big = archlab.plan(name).totals()["madds"] > 1e9
    r = cli("profile", name, "--check", "-f", "json", *(["--input", "96x96"] if big else []))
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    check = data["check"]
    assert check["ok"] and check["failures"] == []
    assert check["totals"]["archlab"]["madds"] == data["totals"]["madds"]
    assert check["totals"]["fvcore"]["params"] == check["totals"]["thop"]["params"] == data["totals"]["params"]


def _wrong_depthwise_madds(monkeypatch, layer_name):
    original = PlanBuilder.conv

    def conv(self, name, *args, **kwargs):
        out = original(self, name, *args, **kwargs)
        if name == layer_name:
            self.layers[-1] = replace(self.layers[-1], madds=self.layers[-1].madds + 1)
        return out

    monkeypatch.setattr(PlanBuilder, "conv", conv)


def test_check_exits_1_naming_the_layer_when_a_count_is_wrong(cli, monkeypatch):
    _wrong_depthwise_madds(monkeypatch, "4.2.dw")
    r = cli("profile", "mobilefacenet", "--check", "--input", "56x56")
    assert r.exit_code == 1
    assert "4.2.dw" in r.stderr and "MAdds" in r.stderr
    assert "DISAGREE" in r.stdout and "check FAILED" in r.stdout


def test_check_json_records_the_failure(cli, monkeypatch):
    _wrong_depthwise_madds(monkeypatch, "head.gdconv.dw")
    r = cli("profile", "mobilefacenet", "--check", "--input", "56x56", "-f", "json")
    assert r.exit_code == 1
    check = json.loads(r.stdout)["check"]
    assert not check["ok"]
    bad = [l for l in check["layers"] if l["problems"]]
    assert [l["name"] for l in bad] == ["head.gdconv.dw"] and bad[0]["status"] == "DISAGREE"


def test_a_difference_no_rule_explains_fails_too(monkeypatch):
    """If thop's BN rule were 3 per element, every BN layer would be unexplained: the rules are checked."""

    def wrong(layer, batch=1):
        return ops.ToolRule(3 * numel(layer.out_shape) * batch, "BN 3/elt")

    monkeypatch.setitem(ops.OPS, "bn", replace(ops.OPS["bn"], thop=wrong))
    r = tools.crosscheck(archlab.plan("mobilefacenet", input="32x32"), memory=False)
    assert not r.ok
    bns = [c for c in r.layers if c.op == "bn"]
    assert all(c.status == "UNEXPLAINED" for c in bns)
    assert all(c.status in ("agree", "explained") for c in r.layers if c.op != "bn")


def test_check_at_batch_counts_per_batch(cli):
    r = cli("profile", "mobilefacenet", "--check", "--batch", "3", "--input", "56x56", "-f", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    check = data["check"]
    assert check["batch"] == 3
    assert check["totals"]["archlab"]["madds"] == 3 * data["totals"]["madds"]
    assert check["totals"]["fvcore"]["activations"] == 3 * data["totals"]["activations"]


def test_check_table_and_csv(cli):
    r = cli("profile", "mobilefacenet-s", "--check", "--input", "56x56", "--depth", "layer")
    assert r.exit_code == 0, r.output
    assert "cross-check with fvcore" in r.stdout and "check ok" in r.stdout and "PReLU 1/elt" in r.stdout
    r = cli("profile", "mobilefacenet-s", "--check", "--input", "56x56", "-f", "csv")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("row,type,madds,other_ops,fvcore,fvcore-madds")
