"""archlab.nn.trace: any nn.Module -> a plan whose counts are exact (issue 12).

The reference modules (torchvision-style MobileNetV2/V3, InsightFace's MobileFaceNet, the Xception port,
ResNet-18) traced: params equal sum(p.numel()), conv/linear MAdds equal fvcore's (the figures in
tests/reference_models SPECS, measured with fvcore; one module is measured live), and for the networks archlab
ships as tables the traced totals equal the table's totals exactly. Layers are named by module path; a module
fx cannot trace is traced by one forward pass and says so; the build of a traced plan runs like the module.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archlab
from archlab.errors import ArchlabError
from tests.helpers.modules import ACCEPTANCE, SHIPPED, Branchy, hw, outputs, reference, relative_difference
from tests.reference_models import SPECS
from tests.reference_models.measure import fvcore_madds, param_count

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


@pytest.mark.parametrize("key", ACCEPTANCE)
def test_params_and_madds_are_exact(key):
    module = reference(key)
    prof = archlab.profile(module, input=hw(key))
    assert prof.totals["params"] == param_count(module) == SPECS[key].params
    assert prof.totals["madds"] == SPECS[key].madds  # fvcore's conv + linear counts (SPECS, measured)
    assert prof.output == SPECS[key].output[1:]


@pytest.mark.slow
def test_madds_equal_fvcore_measured_live():
    module = reference("resnet18")
    madds, _ = fvcore_madds(module, torch.zeros(1, 3, 224, 224))
    assert archlab.profile(module, input=(224, 224)).totals["madds"] == madds == 1_814_073_344


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_traced_totals_equal_the_shipped_tables(key):
    traced = archlab.plan(reference(key), input=hw(key))
    assert traced.totals() == archlab.plan(SHIPPED[key]).totals()
    assert traced.output_shape == archlab.plan(SHIPPED[key]).output_shape


def test_layers_are_named_by_module_path_and_functional_calls_by_scope():
    plan = archlab.trace(reference("resnet18"), (224, 224))
    names = [layer.name for layer in plan.layers]
    assert names[:5] == ["conv1", "bn1", "relu", "maxpool", "layer1.0.conv1"]
    assert "layer1.0.add" in names and "layer1.0.relu_1" in names  # x + y inside layer1.0; relu called twice
    assert plan.layer("layer2.0.downsample.0").op == "conv" and plan.layer("layer2.0.add").op == "add"
    assert plan.layer("flatten").op == "flatten" and plan.layer("fc").op == "linear"
    assert plan.rows[0].label == "conv1" and any(r.label == "layer1.0" and r.type == "BasicBlock" for r in plan.rows)
    assert plan.notes == ("traced with torch.fx",)


def test_functional_calls_map_onto_the_op_table():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 3, padding=1)
            self.b = nn.Conv2d(3, 8, 1)
            self.gate = nn.Conv2d(16, 16, 1)

        def forward(self, x):
            y = torch.cat([torch.relu(self.a(x)), nn.functional.relu6(self.b(x))], 1)
            g = nn.functional.hardsigmoid(self.gate(nn.functional.adaptive_avg_pool2d(y, 1)))
            y = nn.functional.max_pool2d(y * g, 2)
            return torch.flatten(nn.functional.pad(y, (1, 0, 0, 1)), 1)

    plan = archlab.trace(Functional(), (16, 16))
    ops = [(layer.name, layer.op, layer.kind) for layer in plan.layers]
    assert ops == [
        ("a", "conv", ""), ("relu", "act", "relu"), ("b", "conv", ""), ("relu6", "act", "relu6"),
        ("cat", "concat", ""), ("adaptive_avg_pool2d", "pool", "global"), ("gate", "conv", ""),
        ("hardsigmoid", "act", "hardsigmoid"), ("mul", "mul", ""), ("max_pool2d", "pool", "max"),
        ("pad", "pad", ""), ("flatten", "flatten", ""),
    ]  # fmt: skip
    assert plan.uncounted() == {} and plan.output_shape == (16 * 9 * 9,)


@pytest.mark.parametrize("key", ["mobilenet_v3_small", "insightface_mobilefacenet", "resnet18"])
def test_the_build_of_a_traced_plan_runs_like_the_module(key):
    module = reference(key)
    plan = archlab.plan(module, input=hw(key))
    x = torch.randn(1, 3, *hw(key))
    assert relative_difference(outputs(archlab.build(plan), x), outputs(module, x)) <= 1e-6
    assert sum(p.numel() for p in archlab.build(plan).parameters()) == plan.totals()["params"]


def test_bn_epsilon_and_momentum_come_from_the_module():
    plan = archlab.trace(reference("mobilenet_v3_small"), (224, 224))
    bn = plan.layer("features.0.1")
    assert (bn.eps, bn.momentum) == (0.001, 0.01)
    assert archlab.trace(reference("resnet18"), (224, 224)).layer("bn1").eps == 1e-5  # PyTorch's default


def test_a_module_fx_cannot_trace_is_walked_and_says_so():
    module = Branchy().eval()
    plan = archlab.trace(module, (32, 32))
    assert plan.notes[0].startswith("traced by running the module once (torch.fx could not trace it: ")
    names = [layer.name for layer in plan.layers]
    assert names == ["stem", "bn", "act", "sum", "ge", "wide", "mean", "mean_flatten", "fc"]
    assert plan.uncounted() == {"Tensor.sum": 1, "Tensor.ge": 1}  # the branch condition was computed: listed
    assert plan.totals()["params"] == sum(p.numel() for p in module.parameters()) - 8 * 4  # narrow unused
    assert "parameters" in plan.notes[1]  # the unused branch is stated
    x = torch.randn(1, 3, 32, 32).abs()
    assert relative_difference(outputs(archlab.build(plan), x), outputs(module, x)) <= 1e-6


def test_the_walk_and_fx_give_the_same_plan(monkeypatch):
    import archlab.nn.trace as tracing

    module = reference("shufflenet_v2_x0_5")
    by_fx = tracing.trace(module, (224, 224))

    def refuse(_module):
        raise RuntimeError("forced")

    monkeypatch.setattr(tracing, "_fx_graph", refuse)
    walked = tracing.trace(module, (224, 224))
    assert "(torch.fx could not trace it: RuntimeError: forced)" in walked.notes[0]
    assert [(l.op, l.out_shape) for l in walked.layers] == [(l.op, l.out_shape) for l in by_fx.layers]
    assert walked.totals() == by_fx.totals()
    assert sum(1 for l in walked.layers if l.op == "shuffle") == 16  # view-transpose-view: one shuffle each


def test_input_size_is_required_and_checked():
    with pytest.raises(ArchlabError, match=r"a module needs its input size: input=\(H, W\)"):
        archlab.trace(nn.Conv2d(3, 8, 3))
    plan = archlab.trace(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), "20x24")
    assert plan.input == (1, 20, 24)  # channels from the first conv
    assert archlab.trace(nn.Sequential(nn.Flatten()), (2, 5, 5)).output_shape == (50,)
    with pytest.raises(ArchlabError, match="kernel 3x3 is larger than its padded input 2x2"):
        archlab.trace(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)), (4, 4))
