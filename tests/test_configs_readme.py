"""configs/README.md: its op table is the op table's own text, every row type and field is documented, and the worked
examples of issue 13's rows and ops are valid tables that do what the text says."""

from __future__ import annotations

import json
import re

import pytest
import yaml

import archlab
from archlab.ir.ops import OPS, op_table_markdown
from archlab.spec import registry
from archlab.spec.rows import ROW_TYPES

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

NEW_ROWS = {"add", "mul", "split", "shuffle", "upsample", "dropout", "basic", "bottleneck3", "regnetx"}
NEW_ROWS |= {"shufflev2", "mbconv", "fire"}
NEW_OPS = {"slice", "shuffle", "upsample", "droppath", "add", "mul"}


def readme() -> str:
    return (registry.configs_dir() / "README.md").read_text()


def example(name: str, tmp_path):
    block = re.search(rf"```yaml\n(# {re.escape(name)}\n.*?)```", readme(), re.S).group(1)
    path = tmp_path / name
    path.write_text(block)
    return path


def test_the_op_table_is_generated_from_the_entries():
    text = readme()
    start = text.index("<!-- generated from archlab.ir.ops.op_table_markdown()")
    end = text.index("<!-- end of generated op table -->")
    assert text[start:end].splitlines()[1:] == op_table_markdown()
    assert len(op_table_markdown()) == 2 + len(OPS)


def test_every_row_type_and_field_is_documented():
    text = readme()
    section = text[text.index("## Rows") : text.index("## Ops")]
    rows = {line.split("|")[1].strip(" `"): line for line in section.splitlines() if line.startswith("| `")}
    for name, rt in ROW_TYPES.items():
        assert name in rows, f"configs/README.md has no row for {name}"
        for f in rt.fields:
            assert f"`{f.name}`" in rows[name], (name, f.name)


def test_the_examples_use_every_new_row_and_op(tmp_path):
    names = ("my-shuffle-unit.yaml", "my-family-tour.yaml", "my-fpn-merge.yaml")
    tables = [example(name, tmp_path) for name in names]
    used = {r["type"] for t in tables for r in yaml.safe_load(t.read_text())["rows"]}
    assert NEW_ROWS - used == {"shufflev2"}  # the first example is compared with the shufflev2 row
    ops = {layer.op for t in tables for layer in archlab.plan(t).layers}
    assert NEW_OPS <= ops


def test_worked_example_shufflenet_unit_by_hand(tmp_path, write_table, cli):
    import torch

    from tests.helpers.module_match import copy_weights

    path = example("my-shuffle-unit.yaml", tmp_path)
    by_hand = archlab.plan(path)
    row = write_table("""
        name: row
        input: [28, 28]
        in_channels: 116
        rows: [{type: shufflev2, c: 116, n: 1, s: 1}]
    """)
    assert by_hand.totals() == archlab.plan(row).totals()
    assert by_hand.layer("0.0.keep").channels == (0, 58) and by_hand.layer("1.0.conv").inputs == ("0.0.branch",)
    a, b = archlab.build(path).eval(), archlab.build(row).eval()
    copy_weights(a, b)
    x = torch.randn(2, 116, 28, 28)
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
    layers = {l["name"]: l for l in json.loads(cli("profile", path, "--depth", "layer", "-f", "json").stdout)["layers"]}
    for name in ("0.0.keep", "0.0.branch", "5.0.shuffle"):
        assert (layers[name]["madds"], layers[name]["other_ops"]) == (0, 0)
    m = json.loads(cli("profile", path, "--depth", "layer", "-f", "json").stdout)["memory"]
    live = {l["name"]: l["live_bytes"] for l in m["layers"]}
    # the input (116x28x28 fp32 = 363,776 B) is alive while branch 2 runs and until the concat reads the kept half
    assert live["3.0.conv"] >= 116 * 28 * 28 * 4 + 58 * 28 * 28 * 4


def test_worked_example_family_tour(tmp_path, cli):
    from archlab.nn.tools import crosscheck
    from archlab.static.lint import waived

    path = example("my-family-tour.yaml", tmp_path)
    plan = archlab.plan(path)
    shapes = {r.index: r.out_shape for r in plan.rows}
    assert shapes[0] == (32, 24, 24) and shapes[2] == (64, 12, 12) and shapes[5] == (64, 1, 1)
    assert shapes[7] == shapes[9] == (64, 12, 12) and shapes[10] == (96, 6, 6) and plan.output_shape == (10,)
    assert plan.layer("3.0.se_fc1").out_shape[0] == 8  # ratio 0.125 of the block input 64
    assert plan.layer("3.0.expand").out_shape[0] == 256 and plan.layer("3.0.drop_path").op == "droppath"
    assert plan.layer("4.0.add").inputs == ("2.0.act", "3.0.add") and plan.layer("4.0.act").kind == "relu"
    assert plan.layer("7.0.mul").inputs == ("4.0.act", "6.0.act") and plan.layer("6.0.conv").bias
    assert plan.layer("8.0.expand").out_shape[0] == 64 and plan.layer("8.0.expand_act").kind == "gelu"
    assert {(l.eps, l.momentum) for l in plan.layers if l.op == "bn"} == {(0.001, 0.01)}
    assert archlab.lint(plan) == [] and [(w.row, w.rule) for w in waived(plan)] == [
        (2, "stride-exceeds-kernel"),
        (10, "stride-exceeds-kernel"),
    ]
    report = crosscheck(plan)
    assert report.ok, report.failures
    r = cli("lint", path)
    assert r.exit_code == 0 and "clean" in r.stdout


def test_worked_example_fpn_merge(tmp_path):
    from archlab.nn.tools import crosscheck
    from archlab.static.lint import waived
    from archlab.static.receptive import receptive_fields

    plan = archlab.plan(example("my-fpn-merge.yaml", tmp_path))
    assert plan.outputs == ("3.0.bn", "8.0.conv")
    assert [plan.layer(o).out_shape for o in plan.outputs] == [(64, 6, 6), (64, 24, 24)]
    near, bil = plan.layer("4.0.upsample"), plan.layer("7.0.upsample")
    assert (near.kind, near.other_ops, bil.kind, bil.other_ops) == ("nearest", 0, "bilinear", 4 * 64 * 24 * 24)
    assert plan.layer("6.0.add").inputs == ("5.0.bn", "4.0.upsample")
    fields = receptive_fields(plan.layers)
    coarse, up = fields["3.0.bn"], fields["4.0.upsample"]
    assert up.jump == (coarse.jump[0] / 2,) * 2 and up.start == (coarse.start[0] - coarse.jump[0] / 4,) * 2
    assert not fields["6.0.add"].aligned
    assert archlab.lint(plan) == [] and {w.rule for w in waived(plan)} == {"stride-exceeds-kernel", "rf-misaligned"}
    report = crosscheck(plan)
    assert report.ok, report.failures
