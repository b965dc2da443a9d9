"""archlab.studies.extract: a torch module -> a layer table (row types where they fit, primitive layer rows
elsewhere, from: where the graph branches), round trip exact: same layers, params, MAdds, shapes, and the
build of the table with the module's state_dict (key_map="auto") computes the module's outputs (issue 12)."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch import nn

import archlab
from archlab.errors import ArchlabError
from tests.helpers.modules import ACCEPTANCE, hw, outputs, reference, relative_difference

pytestmark = pytest.mark.usefixtures("single_threaded_torch")
FAST = ("insightface_mobilefacenet", "mobilenet_v3_small")


def _shapes(plan):
    return Counter((layer.op, layer.in_shape, layer.out_shape) for layer in plan.layers)


def _round_trip(key):
    module = reference(key)
    traced = archlab.plan(module, input=hw(key))
    table = archlab.extract(module, hw(key))
    plan = archlab.plan(table)
    assert plan.totals() == traced.totals()  # params, params_deployed, MAdds, other ops, activations
    assert _shapes(plan) == _shapes(traced) and plan.output_shape == traced.output_shape
    net = archlab.build(table, weights=module.state_dict(), key_map="auto")
    x = torch.randn(1, 3, *hw(key))
    assert relative_difference(outputs(net, x), outputs(module, x)) <= 1e-6
    return table


@pytest.mark.parametrize("key", FAST)
def test_round_trip(key):
    _round_trip(key)


@pytest.mark.slow
@pytest.mark.parametrize("key", [k for k in ACCEPTANCE if k not in FAST])
def test_round_trip_slow(key):
    _round_trip(key)


def _rows(table):
    keep = ("t", "e", "c", "n", "s", "k", "reps", "depthwise", "padding", "act", "pool", "dw_norm")

    def shown(v):
        return v is True or (v is not None and v is not False and v != "auto" and not (type(v) is int and v == 1))

    return [(r.type, {k: v for k, v in r.values.items() if k in keep and shown(v)}) for r in table.rows]


def test_mobilenetv2_comes_out_as_the_papers_table_2():
    table = archlab.extract(reference("mobilenet_v2"), (224, 224))
    bottlenecks = [(r.values["t"], r.values["c"], r.values["n"], r.values["s"]) for r in table.rows
                   if r.type == "bottleneck"]  # fmt: skip
    assert bottlenecks == [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)
    ]  # fmt: skip
    assert [t for t, _ in _rows(table)] == ["conv", "bottleneck"] + ["bottleneck"] * 6 + ["conv"]
    assert table.head.pool == "gap" and table.head.classifier == {
        "classes": 1000,
        "hidden": None,
        "act": "hardswish",
        "dropout": 0.2,
    }
    assert table.defaults["act"] == "relu6"


def test_mobilefacenet_comes_out_as_the_papers_table_1_then_primitive_rows():
    table = _round_trip("insightface_mobilefacenet")
    rows = _rows(table)
    assert rows[:3] == [
        ("conv", {"c": 64, "k": 3, "s": 2}),
        ("conv", {"c": 64, "k": 3, "depthwise": True}),
        ("bottleneck", {"t": 2, "c": 64, "n": 5, "s": 2, "k": 3}),
    ]
    assert [r.type for r in table.rows[-5:]] == ["layer"] * 5  # flatten, linear, bn, torch.norm, truediv
    last = table.rows[-1].values
    assert (last["op"], last["fn"], last["from"]) == ("opaque", "operator.truediv", [11, 12])


def test_branches_become_from_and_rows_follow_the_blocks():
    table = archlab.extract(reference("resnet18"), (224, 224))
    rows = [(r.type, r.values.get("op"), r.values.get("from")) for r in table.rows[:5]]
    assert rows == [
        ("conv", None, None),
        ("conv", None, None),
        ("conv", None, None),
        ("layer", "add", [2, 0]),
        ("layer", "act", None),
    ]
    assert table.rows[10].values["from"] == 8  # layer2.0.conv1 reads the block input, not the shortcut before it


@pytest.mark.slow
def test_xception_blocks_are_xception_rows():
    table = archlab.extract(reference("xception"), (299, 299))
    assert [(t, v.get("c"), v.get("n", 1)) for t, v in _rows(table)] == [
        ("conv", 32, 1), ("conv", 64, 1), ("xception", 128, 1), ("xception", 256, 1), ("xception", 728, 1),
        ("xception", 728, 8), ("xception", 1024, 1), ("dwsep", 1536, 1), ("dwsep", 2048, 1),
    ]  # fmt: skip


def test_the_table_is_written_and_reads_back(tmp_path):
    path = tmp_path / "net.yaml"
    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(512, 4))
    table = archlab.extract(module, (8, 8), out=path)
    assert table.file == str(path) and path.read_text().startswith("# extracted by archlab extract")
    assert archlab.plan(path).totals() == archlab.plan(module, input=(8, 8)).totals()
    assert [r.type for r in table.rows] == ["conv"]  # conv + bn + relu
    assert (table.head.pool, table.head.classifier["classes"]) == ("fc", 4)  # flatten + linear (with bias)
    assert "rows:\n  - {type: conv, c: 8, k: 3, s: 1, bias: true}" in path.read_text()


def test_table_options_on_a_module_need_a_table():
    module = reference("mobilenet_v3_small")
    for option in ({"width": 0.5}, {"stem_stride": 1}, {"stem_pool": True}, {"head": "gap"}):
        flag = "--" + next(iter(option)).replace("_", "-")
        with pytest.raises(ArchlabError, match=rf"^MobileNetV3: {flag} needs a table: run `archlab extract` first"):
            archlab.profile(module, input=(224, 224), **option)


class _Neck(nn.Module):
    """FPN-style ops a user's model calls: nn.Upsample, F.interpolate (nearest, bilinear), an equal-shape product,
    a ceil-mode max-pool; and its 3-channel conv is declared after the one it feeds."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(8, 8, 3, padding=1)  # declared first, called second
        self.s = nn.Conv2d(3, 8, 3, 2, 1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = self.c(self.s(x))
        z = self.up(y) + nn.functional.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        z = self.pool(z * torch.sigmoid(z))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(z * z, 1), 1))


def test_upsample_interpolate_products_and_ceil_pools_are_counted_and_round_trip():
    module = _Neck()
    traced = archlab.trace(module, (20, 20))  # C = 3 from the first conv called, not the first declared
    assert traced.input == (3, 20, 20) and traced.uncounted() == {}
    ops = Counter(layer.op for layer in traced.layers)
    assert (
        ops["upsample"] == 2
        and ops["mul"] == 2
        and traced.totals()["params"] == sum(p.numel() for p in module.parameters())
    )
    assert next(layer for layer in traced.layers if layer.op == "pool" and layer.kind == "max").out_shape == (8, 10, 10)
    table = archlab.extract(module, (20, 20))
    plan = archlab.plan(table)
    assert plan.totals() == traced.totals() and _shapes(plan) == _shapes(traced)
    net = archlab.build(table, weights=module.state_dict(), key_map="auto")
    x = torch.randn(1, 3, 20, 20)
    assert relative_difference(outputs(net, x), outputs(module, x)) <= 1e-6


class _Branchy(nn.Module):
    """Data-dependent control flow: torch.fx cannot trace it (the hook walk runs it once)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, 2, 1)
        self.b = nn.Conv2d(8, 8, 3, 1, 1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = self.a(x)
        if y.sum() > 0:
            y = self.b(y)
        return self.fc(y.mean((2, 3)))


def test_a_module_fx_cannot_trace_extracts_and_says_it_follows_one_branch():
    table = archlab.extract(_Branchy(), (32, 32))  # was: ValueError in the head finder (a scalar Tensor.sum)
    assert "follow the branches this input took" in str(table.source)
