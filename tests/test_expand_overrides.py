"""ir/expand.py apply_overrides: ``--embedding N`` changes only the embedding's size; the table's layer (linear or
1x1 conv) and its bias stay. Params by hand on the tiny ``embedding`` table (tests/helpers/tables.py): FMap-end
is 4x4x12, the GDConv head flattens 12 values, then the embedding layer and its BN."""

from __future__ import annotations

import json

import pytest

import archlab

C = 12  # channels of the tiny table's FMap-end (its last row: dwsep c: 12)


def head_layer(plan, role: str):
    return next(layer for layer in plan.layers if layer.name == f"head.embedding.{role}")


@pytest.mark.parametrize("layer, role", [("linear", "linear"), ("conv", "conv")])
def test_embedding_override_keeps_the_bias(tiny_table, layer, role):
    path = tiny_table(
        replace={"embedding: {size: 6, layer: linear}": f"embedding: {{size: 6, layer: {layer}, bias: true}}"}
    )
    table = archlab.plan(path)
    wider = archlab.plan(path, embedding=256)
    assert head_layer(table, role).params == C * 6 + 6  # weights + bias
    assert head_layer(wider, role).params == C * 256 + 256  # the bias is still there, 256 wide
    assert head_layer(wider, role).bias
    bn = 2 * (256 - 6)  # the embedding's BN: gamma and beta per output
    assert wider.totals()["params"] - table.totals()["params"] == (C + 1) * (256 - 6) + bn


def test_embedding_override_of_a_bias_free_table_stays_bias_free(tiny_table):
    path = tiny_table()  # embedding: {size: 6, layer: linear}, bias false by default
    wider = archlab.plan(path, embedding=256)
    assert head_layer(wider, "linear").params == C * 256 and not head_layer(wider, "linear").bias


def test_embedding_override_replaces_a_classifier_with_a_bias_free_linear(tiny_table):
    path = tiny_table("classifier")  # gap -> linear 8 -> 10 classes (bias)
    plan = archlab.plan(path, embedding=32)
    linear = head_layer(plan, "linear")
    assert linear.params == 8 * 32 and not linear.bias


def test_profile_embedding_flag_keeps_the_bias(cli, tiny_table):
    path = tiny_table(
        replace={"embedding: {size: 6, layer: linear}": "embedding: {size: 6, layer: linear, bias: true}"}
    )
    base = json.loads(cli("profile", path, "-f", "json").stdout)
    res = cli("profile", path, "--embedding", "256", "-f", "json")
    assert res.exit_code == 0, res.output
    wider = json.loads(res.stdout)
    assert wider["totals"]["params"] - base["totals"]["params"] == (C + 1) * (256 - 6) + 2 * (256 - 6)


@pytest.mark.parametrize("bad", [(3, 32, 32), (1.5, 2), "1x2x3", None])
def test_a_tables_input_override_must_be_a_pair(bad):
    """A table's input is (H, W): a triple or a non-integer is one clear error (was: ValueError from unpacking);
    a module's (C, H, W) is the tracer's (tests/test_cli_runtimes.py runs a recipe that passes one)."""
    from archlab.errors import OptionError
    from archlab.ir.overrides import parse_hw

    with pytest.raises(OptionError, match="input"):
        parse_hw(bad)
