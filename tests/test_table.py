"""archlab.spec (table, compose, rounding): table loading, extends (merge, null removes), edit actions, rounding
rules, line numbers."""

import pytest

import archlab
from archlab.errors import TableError
from archlab.spec.rounding import make_divisible, round_channels


@pytest.mark.parametrize(
    "v, expected",
    [(32 * 0.35, 16), (24 * 0.5, 16), (16 * 0.5, 8), (1280 * 1.4, 1792), (96 * 0.75, 72), (100, 104), (3, 8)],
)
def test_make_divisible(v, expected):
    assert make_divisible(v, 8) == expected


def test_round_rules():
    assert round_channels(32 * 0.75, "int") == 24 and round_channels(10.6, "round") == 11
    assert round_channels(10.6, "divisible4") == 12


def test_rows_keep_their_file_and_line():
    spec = archlab.load_table("mobilefacenet-s")
    assert spec.rows[2].file.endswith("mobilefacenet.yaml") and spec.rows[2].line == 11
    assert len(spec.rows) == 7 and spec.head.embedding is None


def test_user_variant_with_extends_and_edits(write_table):
    p = write_table("""
        extends: mobilefacenet
        name: my-mfn
        defaults: {act: relu}
        head: {pool: gap}
        edit:
          - {row: 4, set: {n: 4}}
          - {row: conv6_sep, set: {c: 256}}
          - {row: 1, insert_after: {type: pool, kind: max, k: 3, s: 1, padding: 1}}
          - {row: 0, remove: true}
          - {row: 0, insert_before: {type: conv, c: 32, k: 3, s: 2}}
    """)
    spec = archlab.load_table(p)
    assert spec.name == "my-mfn" and spec.defaults["act"] == "relu" and spec.defaults["round"] == "divisible8"
    assert spec.head.pool == "gap" and spec.head.embedding == {"size": 128, "layer": "linear", "bias": False}
    types = [r.type for r in spec.rows]
    assert types[:3] == ["conv", "conv", "pool"]
    assert spec.rows[0].values["c"] == 32 and spec.rows[5].values["n"] == 4  # row 4 moved to index 5
    plan = archlab.plan(p)
    assert plan.rows[-1].in_shape == (256, 7, 7)
    assert all(l.kind == "relu" for l in plan.layers if l.op == "act")


def test_relative_extends(write_table):
    write_table(
        """
        name: base
        input: 64x64
        rows:
          - {type: conv, c: 8, s: 2}
        head: {pool: gap, embedding: {size: 4}}
    """,
        "base.yaml",
    )
    child = write_table("extends: base.yaml\nname: child\ninput: [32, 32]\n", "child.yaml")
    plan = archlab.plan(child)
    assert plan.input == (3, 32, 32) and plan.output_shape == (4,)


def test_embedding_conv_layer_and_head_norm_none(write_table):
    p = write_table("""
        name: t
        input: [16, 16]
        rows:
          - {type: conv, c: 8, s: 2}
        head: {pool: gdconv, norm: none, embedding: {size: 5, layer: conv}}
    """)
    names = [l.name for l in archlab.plan(p).layers]
    assert names[-3:] == ["head.gdconv.dw", "head.embedding.conv", "head.embedding.flatten"]


def test_edit_without_extends_is_an_error(write_table):
    p = write_table("name: t\ninput: [8, 8]\nrows:\n  - {type: conv, c: 4}\nedit: []\n")
    with pytest.raises(TableError, match="edit needs extends"):
        archlab.load_table(p)


def test_worked_example_in_configs_readme(tmp_path):
    """The configs/README.md example is a valid table and does what its text says."""
    import re

    from archlab.spec import registry

    text = (registry.configs_dir() / "README.md").read_text()
    block = re.search(r"```yaml\n(# my-mobilefacenet.yaml\n.*?)```", text, re.S).group(1)
    path = tmp_path / "my-mobilefacenet.yaml"
    path.write_text(block)
    plan = archlab.plan(path)
    assert plan.layer("0.0.conv").stride == (1, 1) and plan.layer("0.0.pool").out_shape == (64, 56, 56)
    assert len([l for l in plan.layers if l.name.startswith("4.") and l.role == "dw"]) == 5
    assert plan.rows[-1].in_shape == (256, 7, 7) and plan.output_shape == (256,)
    assert {l.kind for l in plan.layers if l.op == "act"} == {"relu"}
    assert archlab.load_table(path).published == {}
