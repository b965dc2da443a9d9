"""Lint (archlab.static.lint): the ``stride-exceeds-kernel`` rule, row waivers, and the shipped tables clean."""

from __future__ import annotations

import pytest

import archlab
from archlab.errors import ArchlabError
from archlab.spec import registry
from archlab.static.lint import RULES, lint_plan, waived

TABLE = """
    name: skip
    input: [16, 16]
    rows:
      - {{type: conv, c: 8, k: 3}}
      - {row}
"""


def rules(write_table, row: str) -> list[str]:
    return [f.rule for f in lint_plan(archlab.plan(write_table(TABLE.format(row=row))))]


@pytest.mark.parametrize(
    "row, skips",
    [
        ("{type: conv, c: 8, k: 1, s: 2}", True),  # reads 1 pixel in 4
        ("{type: pool, kind: max, k: 2, s: 3}", True),
        ("{type: conv, c: 8, k: 3, s: 2}", False),
        ("{type: conv, c: 8, k: 2, s: 2, padding: valid}", False),  # kernel = stride: every pixel once
        ("{type: conv, c: 8, k: 2, s: 3, dilation: 2, padding: valid}", False),  # dilated kernel 3 >= 3
        ("{type: pool, kind: global}", False),
        ("{type: basic, c: 16, s: 2}", True),  # ResNet's projection shortcut
    ],
)
def test_stride_exceeds_kernel(write_table, row, skips):
    assert ("stride-exceeds-kernel" in rules(write_table, row)) == skips


def test_the_finding_says_how_much_is_read(write_table):
    plan = archlab.plan(write_table(TABLE.format(row="{type: conv, c: 8, k: 1, s: 2}")))
    (finding,) = [f for f in lint_plan(plan) if f.rule == "stride-exceeds-kernel"]
    assert finding.layer == "1.0.conv" and finding.row == 1
    assert finding.message.startswith("a 1x1 stride-2 conv reads 1 of every 4 input pixels")
    assert str(finding).startswith(f"{plan.rows[1].file}:5: row 1 (1.0.conv): stride-exceeds-kernel:")


def test_a_waiver_accepts_a_finding_with_its_reason(write_table, cli):
    row = '{type: conv, c: 8, k: 1, s: 2, lint: {ignore: [stride-exceeds-kernel], why: "a strided 1x1 by design"}}'
    path = write_table(TABLE.format(row=row))
    plan = archlab.plan(path)
    assert [f.rule for f in archlab.lint(plan)] == ["rf-coverage"]  # a 3-pixel field: not waived
    (w,) = waived(plan)
    assert (w.rule, w.layer, w.waived) == ("stride-exceeds-kernel", "1.0.conv", "a strided 1x1 by design")
    assert str(w).endswith("(waived: a strided 1x1 by design)")
    r = cli("lint", path)
    assert r.exit_code == 1 and "stride-exceeds-kernel" not in r.stdout and "rf-coverage" in r.stdout


def test_a_waiver_covers_only_its_row_and_its_rules(write_table):
    path = write_table("""
        name: two
        input: [16, 16]
        rows:
          - {type: conv, c: 8, k: 1, s: 2, lint: {ignore: [uneven-stride], why: "another rule"}}
          - {type: conv, c: 8, k: 1, s: 2, lint: {ignore: [stride-exceeds-kernel], why: "this one"}}
          - {type: conv, c: 8, k: 1, s: 2}
    """)
    assert [(f.row, f.rule) for f in lint_plan(archlab.plan(path)) if f.rule != "rf-coverage"] == [
        (0, "stride-exceeds-kernel"),
        (2, "stride-exceeds-kernel"),
    ]


def test_an_unknown_rule_in_a_waiver_is_an_error(write_table, cli):
    row = '{type: conv, c: 8, k: 1, s: 2, lint: {ignore: [stride-exceeds-kernal], why: "typo"}}'
    path = write_table(TABLE.format(row=row))
    with pytest.raises(ArchlabError) as e:
        archlab.lint(archlab.plan(path))
    assert str(e.value).startswith(
        f"{path}:5: row 1 (conv): field 'lint.ignore': unknown lint rule 'stride-exceeds-kernal' in a waiver "
        "(did you mean stride-exceeds-kernel?)"
    )
    r = cli("lint", path)
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and "lint.ignore" in r.stderr


def test_a_waiver_needs_its_reason(write_table):
    path = write_table(TABLE.format(row="{type: conv, c: 8, k: 1, s: 2, lint: {ignore: [uneven-stride]}}"))
    with pytest.raises(ArchlabError, match=r":5: row 1 \(conv\): field 'lint.why': missing value"):
        archlab.plan(path)


# mobilefacenet-tf reproduces a public TensorFlow model's 3x3 stride-7 "global" depthwise conv on purpose; its file
# explains that `archlab lint` flags it (and tests/test_branching.py relies on that finding).
DEMONSTRATES = {"mobilefacenet-tf": "global-dw-coverage"}


@pytest.mark.parametrize("name", registry.names())
def test_shipped_tables_are_lint_clean_or_explain_their_waivers(name):
    plan = archlab.plan(name)
    findings = lint_plan(plan)
    if name in DEMONSTRATES:
        assert {f.rule for f in findings} == {DEMONSTRATES[name]}
        assert "`archlab lint` flags it" in (registry.configs_dir() / f"{name}.yaml").read_text()
        return
    assert findings == [], [str(f) for f in findings]
    for w in waived(plan):
        assert w.rule in RULES and len(w.waived or "") > 20  # a reason, not a placeholder


def test_waived_findings_of_the_family_tables():
    assert {(w.row, w.rule) for w in waived(archlab.plan("resnet18"))} == {
        (r, "stride-exceeds-kernel") for r in (2, 3, 4)
    }
    assert {w.rule for w in waived(archlab.plan("squeezenet1.1"))} == {"uneven-stride", "rf-coverage"}
    assert {w.rule for w in waived(archlab.plan("xception"))} == {"uneven-stride", "stride-exceeds-kernel"}
