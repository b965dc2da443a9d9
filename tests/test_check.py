"""render/check.py (with static/crosscheck.py's breakdown): the `profile --check` lines "fvcore X = ..." and
"thop Y = ..." sum the op table's per-op rules, one term per rule that counts something, so ops outside the
old hand list (upsample, hard-sigmoid, channel shuffle, concat, avg-pool) keep the "=" when every rule is
right, and a wrong rule turns it into "!=". Numbers derived by hand below; fvcore and thop run on the build."""

from __future__ import annotations

from dataclasses import replace

import pytest

import archlab
from archlab.ir import ops, shape_handles
from archlab.nn import tools
from archlab.render.check import check_lines
from archlab.static.crosscheck import explain

UPMIX = """
name: upmix
input: [16, 16]
defaults: {norm: bn, act: prelu}
rows:
  - {type: conv, c: 8, k: 3, s: 2}                  # 0: 3 -> 8, 8x8: 8*8*8 * 3*9 = 13,824 MAdds; BN, PReLU 512
  - {type: upsample, scale: 2}                       # 1: nearest, 8x16x16 = 2,048 out
  - {type: conv, c: 8, k: 3, s: 2, act: hardswish}  # 2: 8 -> 8, 8x8: 512 * 8*9 = 36,864 MAdds; BN 512
  - {type: upsample, scale: 2, mode: bilinear}       # 3: 2,048 out
  - {type: concat, from: [1, 3]}                     # 4: 16x16x16
  - {type: shuffle, groups: 2}                       # 5
  - {type: pool, kind: avg, k: 2, s: 2}              # 6: 16x8x8 = 1,024 out, 4 inputs a window
  - {type: layer, op: act, kind: hardsigmoid}        # 7
head: {pool: gap, classifier: {classes: 4}}          # GAP over 1,024 inputs, 16 out; linear 16 -> 4: 64 MAdds
"""
MADDS = 13_824 + 36_864 + 64
FVCORE_TERMS = {  # BN 2 per element; nearest 1, bilinear 4 per output element; GAP 1 per input
    "conv/linear MAdds": MADDS,
    "BN 2/elt": 2 * 1024,
    "nearest 1/out (fvcore)": 2048,
    "bilinear 4/out (fvcore)": 4 * 2048,
    "GAP 1/in": 1024,
}
THOP_TERMS = {  # BN 4 per element, PReLU 1; bilinear 11 per output; avg-pool window inputs + outputs; GAP in + out
    "conv/linear MAdds": MADDS,
    "BN 4/elt": 4 * 1024,
    "PReLU 1/elt": 512,
    "bilinear 11/out (thop)": 11 * 2048,
    "avg-pool windows+out": 4 * 1024 + 1024,
    "GAP in+out": 1024 + 16,
}


@pytest.fixture(scope="module")
def upmix(tmp_path_factory, single_threaded_torch):
    """The plan and what fvcore and thop report for its build (run once)."""
    from archlab.nn.build import build_plan

    path = tmp_path_factory.mktemp("upmix") / "upmix.yaml"
    path.write_text(UPMIX)
    plan = archlab.plan(path)
    return plan, tools.run_tools(build_plan(plan).eval(), plan)


def test_every_op_the_tools_count_is_a_term_and_the_sums_hold(upmix):
    plan, results = upmix
    report = explain(plan, results)
    assert report.ok, report.failures
    assert report.totals["fvcore"]["flops"] == sum(FVCORE_TERMS.values()) == 64_064
    assert report.totals["thop"]["ops"] == sum(THOP_TERMS.values()) == 84_048
    assert report.breakdown["fvcore"]["terms"] == FVCORE_TERMS
    assert report.breakdown["thop"]["terms"] == THOP_TERMS
    # the old hand list (MAdds + BN + PReLU + pools) missed the upsampling: 53,824 and 61,520, not the totals
    assert "shuffle unsupported" in report.breakdown["fvcore"]["zero"]
    assert "hard-sigmoid 0" in report.breakdown["thop"]["zero"]
    lines = check_lines(report)
    fvcore = next(line for line in lines if line.startswith("fvcore 64,064"))
    assert fvcore.startswith(
        "fvcore 64,064 = conv/linear MAdds 50,752 + BN 2/elt 2,048 + nearest 1/out (fvcore) 2,048 + "
        "bilinear 4/out (fvcore) 8,192 + GAP 1/in 1,024; counted 0: "
    )
    thop = next(line for line in lines if line.startswith("thop 84,048"))
    assert thop.startswith(
        "thop 84,048 = conv/linear MAdds 50,752 + BN 4/elt 4,096 + PReLU 1/elt 512 + bilinear 11/out (thop) "
        "22,528 + avg-pool windows+out 5,120 + GAP in+out 1,040; counted 0: "
    )
    assert not any("!=" in line for line in lines)


def test_a_wrong_rule_in_the_op_table_breaks_the_equation(upmix, monkeypatch):
    plan, results = upmix
    wrong = shape_handles.upsample_tool({"nearest": 0, "bilinear": 4}, "(fvcore)")  # fvcore counts nearest 1/out
    monkeypatch.setitem(ops.OPS, "upsample", replace(ops.OPS["upsample"], fvcore=wrong))
    report = explain(plan, results)
    assert not report.ok and any("1.0.upsample" in f for f in report.failures)
    fvcore = next(line for line in check_lines(report) if line.startswith("fvcore "))
    assert fvcore.startswith("fvcore 64,064 != conv/linear MAdds 50,752 + BN 2/elt 2,048 + bilinear")
    assert "(the rules sum to 62,016)" in fvcore  # 64,064 - the 2,048 the wrong rule leaves out
    thop = next(line for line in check_lines(report) if line.startswith("thop "))
    assert thop.startswith("thop 84,048 = ")  # thop's rules are untouched
