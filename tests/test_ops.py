"""The op table (archlab.ir.ops): every entry complete and true to torch, and every consumer refuses an op it
has no rule for instead of passing it through."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from archlab.errors import ArchlabError
from archlab.ir.builder import PlanBuilder
from archlab.ir.layer import numel
from archlab.ir.ops import ACT_SYNONYMS, ACTIVATIONS, CONVENTIONS, OPS, op_of
from archlab.ir.plan import Plan
from archlab.nn.build import build_plan, make_module
from archlab.spec.fields import ACTS
from archlab.static.memory import memory
from archlab.static.receptive import RECURRENCES, receptive_fields
from archlab.static.roofline import plan_work


def sample_layers() -> list:
    """One layer of every op (and every kind) on small maps, built through the plan builder."""
    b = PlanBuilder((4, 9, 9))
    x = b.conv("c.conv", "input", 8, 3, 2)  # 8x5x5
    g = b.conv("c.grouped", x, 8, 3, groups=2, dilation=2, bias=True)
    b.bn("c.bn", g)
    for kind in ACTIVATIONS:
        b.act(f"c.{kind}", g, kind)
    for kind in ("max", "avg", "global"):
        b.pool(f"c.{kind}", g, kind, 3, 2, 1)
    gate = b.pool("c.gate", x, "global")
    b.mul("c.mul", x, gate)
    b.add("c.add", x, g, x)
    b.concat("c.concat", [x, g])
    b.pad("c.pad", x, (0, 1, 1, 0))
    b.layer("shuffle", "c.shuffle", (x,), groups=2)
    b.slice("c.slice", x, 2, 6)
    b.upsample("c.nearest", x, 2, "nearest")
    b.upsample("c.bilinear", x, 3, "bilinear")
    b.droppath("c.droppath", x)
    recipe = '{"args":[{"tensor":0},1],"kwargs":{},"item":null}'  # an op without a rule, called again (issue 12)
    b.layer("opaque", "c.opaque", (x,), fn="torch.cumsum", out_shape=(8, 5, 5), args=recipe)
    v = b.flatten("c.flatten", x)
    b.dropout("c.dropout", v, 0.25)
    b.linear("c.linear", v, 6, bias=True)
    b.bn("c.bn1d", "c.linear")
    return b.layers


def test_every_op_has_every_fact():
    for name, op in OPS.items():
        assert op.name == name and op.kinds and op.rule and op.fvcore_text and op.thop_text
        assert op.rf in RECURRENCES, f"{name}: no receptive-field recurrence {op.rf!r}"
        for handle in (op.make, op.counts, op.module, op.fvcore, op.thop):
            assert callable(handle)


def test_the_sample_covers_every_op_and_kind():
    seen = {(layer.op, layer.kind) for layer in sample_layers()}
    assert seen == {(name, kind) for name, op in OPS.items() for kind in op.kinds}


def test_activation_vocabulary_of_tables_is_the_op_tables():
    assert set(ACTS) - {"none"} == set(ACTIVATIONS) | set(ACT_SYNONYMS)  # a synonym (swish) becomes its op kind
    assert set(ACT_SYNONYMS.values()) <= set(ACTIVATIONS)
    b = PlanBuilder((4, 3, 3))
    b.act("a", "input", "swish")
    assert b.layers[-1].kind == "silu"


@pytest.mark.parametrize("layer", sample_layers(), ids=lambda layer: layer.name)
def test_module_output_shape_and_params_equal_the_rule(layer):
    module = make_module(layer).eval()
    inputs = [torch.randn(2, *shape) for shape in _input_shapes(layer)]
    with torch.no_grad():
        out = module(*inputs)
    assert tuple(out.shape[1:]) == layer.out_shape
    assert sum(p.numel() for p in module.parameters()) == layer.params


def _input_shapes(layer) -> list:
    shapes = {s.name: s.out_shape for s in sample_layers()}
    return [(4, 9, 9) if name == "input" else shapes[name] for name in layer.inputs]


def test_counts_by_hand():
    by = {layer.name: layer for layer in sample_layers()}
    assert by["c.conv"].madds == 8 * 4 * 9 * 25 and by["c.conv"].params == 8 * 4 * 9
    assert by["c.grouped"].params == 8 * 4 * 9 + 8 and by["c.grouped"].madds == 8 * 4 * 9 * 25
    assert by["c.bn"].other_ops == 2 * 200 and by["c.prelu"].params == 8 and by["c.relu"].params == 0
    assert by["c.max"].other_ops == 8 * 72 and by["c.avg"].other_ops == 200  # (k*k-1) per output; 1 per input
    assert by["c.add"].other_ops == 2 * 200  # three tensors: two adds per element
    assert by["c.concat"].out_shape == (16, 5, 5) and by["c.pad"].out_shape == (8, 6, 6)
    assert by["c.linear"].madds == 200 * 6 and by["c.linear"].params == 200 * 6 + 6
    assert (by["c.shuffle"].out_shape, by["c.shuffle"].other_ops, by["c.shuffle"].madds) == ((8, 5, 5), 0, 0)
    assert (by["c.slice"].out_shape, by["c.slice"].other_ops) == ((4, 5, 5), 0)  # channels 2..5 of 8, a view
    assert (by["c.nearest"].out_shape, by["c.nearest"].other_ops) == ((8, 10, 10), 0)  # a copy
    assert (by["c.bilinear"].out_shape, by["c.bilinear"].other_ops) == ((8, 15, 15), 4 * 8 * 225)  # 4 per output
    assert (by["c.droppath"].out_shape, by["c.droppath"].other_ops, by["c.droppath"].params) == ((8, 5, 5), 0, 0)


def test_shuffle_interleaves_the_groups_and_checks_them():
    b = PlanBuilder((8, 1, 1))
    b.layer("shuffle", "s", ("input",), groups=2)
    module = make_module(b.layers[-1])
    assert module(torch.arange(8.0).view(1, 8, 1, 1)).flatten().tolist() == [0, 4, 1, 5, 2, 6, 3, 7]
    with pytest.raises(ArchlabError, match="groups=3 must divide the channels 8"):
        PlanBuilder((8, 2, 2)).layer("shuffle", "s", ("input",), groups=3)


def test_conventions_name_every_op_that_is_not_conv_or_linear():
    for name, op in OPS.items():
        if not op.weighted:
            assert f"{name} {op.rule}" in CONVENTIONS["other_ops"]


def _plan_with_unknown_op() -> Plan:
    b = PlanBuilder((3, 8, 8))
    x = b.conv("a.conv", "input", 4, 3)
    b.act("a.act", x, "relu")
    layers = list(b.layers)
    layers[-1] = replace(layers[-1], op="mystery")
    return Plan("odd", (3, 8, 8), tuple(layers), "a.act", (), {})


@pytest.mark.parametrize(
    "consumer",
    [
        lambda p: receptive_fields(p.layers),
        lambda p: memory(p),
        lambda p: plan_work(p),
        lambda p: build_plan(p),
        lambda p: op_of(p.layers[-1].op),
    ],
)
def test_every_consumer_refuses_an_op_it_has_no_rule_for(consumer):
    with pytest.raises(ArchlabError, match="mystery"):
        consumer(_plan_with_unknown_op())


def test_an_unknown_kind_is_refused_too():
    with pytest.raises(ArchlabError, match="kind 'swish'"):
        op_of("act", "swish")


def test_numel():
    assert numel((3, 4, 5)) == 60 and numel(()) == 1
