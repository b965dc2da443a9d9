"""Per-layer times of TorchScript and ONNX Runtime mapped to plan layers (archlab.nn.profiled_layers), and the
per-runtime latency views (archlab.nn.latency). Tiny networks; no assertion on a time."""

from types import SimpleNamespace

import pytest

import archlab
from archlab.nn.latency import latency
from archlab.nn.profiled_layers import fused_groups, ort_node_layer, ts_call_layers
from tests.helpers import tables
from tests.helpers.ceilings import fake_levels

NET = tables.text("prelu_block")  # the embedding table without its dwsep row
QUICK = {"threads": 1, "budget_s": 1.0, "min_samples": 6, "max_samples": 6, "warmup_s": 0.02, "min_sample_s": 0.001}


def ceil():
    from archlab.static.roofline import Ceilings

    return Ceilings(50.0, 5.0, 1, "cpu", "t", 1, 1, 1, "now", 0.0, levels=fake_levels(5.0))


def test_fused_groups_fold_bn_into_its_conv_and_an_add_into_the_conv_before_it(write_table):
    plan = archlab.plan(write_table(NET))
    primaries = {la.name for la in plan.layers if la.op not in ("bn", "add")}
    groups = fused_groups(plan, primaries)
    assert groups["0.0.conv"] == ("0.0.bn",)
    assert groups["1.1.project"] == ("1.1.project_bn", "1.1.add")  # ORT's NCHWc conv with a Sum input
    assert groups["1.1.dw_act"] == ()
    covered = {m for members in groups.values() for m in members}
    assert covered | set(groups) == {la.name for la in plan.layers}  # every layer is in exactly one group
    assert not covered & set(groups)


def test_fused_groups_of_an_unfolded_export_chain_conv_bn_into_the_node_at_its_end(write_table):
    plan = archlab.plan(write_table(NET))
    primaries = {la.name for la in plan.layers if la.op not in ("conv", "add") or la.name == "0.0.conv"}
    groups = fused_groups(plan, primaries)
    assert groups["1.0.expand"] == ("1.0.expand_bn",)  # named by its first layer, the conv
    assert "1.0.expand_bn" not in groups


def test_ort_node_names_map_to_module_paths():
    by_node = {"node_relu_3": "2.0.act"}
    by_tensor = {"conv2d_4": "2.0.expand", "relu_3": "2.0.act"}
    assert ort_node_layer("node_relu_3", by_node, by_tensor) == "2.0.act"
    assert ort_node_layer("conv2d_4_nchwc", by_node, by_tensor) == "2.0.expand"
    assert ort_node_layer("relu_3_token_12", by_node, by_tensor) == "2.0.act"
    assert ort_node_layer("ReorderOutput_token_7", by_node, by_tensor) is None


def ev(name, start, dur):
    return SimpleNamespace(name=lambda: name, start_ns=lambda: start, duration_ns=lambda: dur)


def test_torchscript_events_are_matched_to_graph_ops_in_order():
    ops = [("aten::_convolution", "0.0.conv"), ("aten::prelu", "0.0.act"), ("aten::add", "1.0.add")]
    names = {"0.0.conv", "0.0.act", "1.0.add"}
    events = [
        ev("forward", 0, 1000),
        ev("aten::_convolution", 10, 300),
        ev("aten::mkldnn_convolution", 20, 250),  # nested: not a graph op of its own
        ev("aten::prelu", 320, 100),
        ev("aten::add", 430, 50),
        ev("forward", 2000, 500),
        ev("aten::_convolution", 2010, 200),
        ev("aten::add", 2220, 40),  # the prelu recorded nothing in this call
    ]
    first, second = ts_call_layers(events, ops, names)
    assert first == {"0.0.conv": 300e-6, "0.0.act": 100e-6, "1.0.add": 50e-6}
    assert second == {"0.0.conv": 200e-6, "1.0.add": 40e-6}


@pytest.mark.parametrize("runtime", ["torchscript", pytest.param("onnxruntime", marks=pytest.mark.slow)])
def test_profiled_runtimes_cover_every_plan_layer(write_table, runtime):
    plan = archlab.plan(write_table(NET))
    r = latency(plan, runtime=runtime, ceilings=ceil(), **QUICK)
    assert r.runtime == runtime and r.clock == "cpu" and r.e2e_wall is not None
    assert r.source == ("torchscript-profiler" if runtime == "torchscript" else "ort-profiler")
    ran = {la.name for la in r.layers if la.ran}
    assert ran and all(la.fused_into in ran for la in r.layers if not la.ran)
    for la in r.layers:
        if la.ran and la.covers:
            assert la.ideal_ms is not None and la.flops > 0
    assert r.overhead_ratio is not None and r.layers_sum.median > 0
    assert {b.op_class for b in r.by_class()} == {"depthwise", "pointwise", "other"}
    text = "\n".join(r.overhead_lines())
    assert "per-thread CPU time" in text and "% of bound by op class" in text


@pytest.mark.slow
def test_compile_is_end_to_end_only(write_table):
    from archlab.nn.runtimes import has_compiler

    if not has_compiler():
        pytest.skip("no C++ compiler")
    plan = archlab.plan(write_table(NET))
    r = latency(plan, runtime="compile", ceilings=ceil(), **QUICK)
    assert r.source == "none" and not any(la.ran for la in r.layers) and r.e2e.median > 0
    assert any("no per-layer times" in n for n in r.notes)
