"""archlab.nn.layer_latency: the instrumented pass, the attribution of time to layers and rows, roofline
fields, the folded runtime (tiny networks from tests/helpers/tables.py, no assertions on absolute times)."""

import itertools

import pytest
import torch

import archlab
from archlab.errors import OptionError
from archlab.nn.build import build_plan
from archlab.nn.fold import fold_bn
from archlab.nn.layer_latency import Instrumented, measure
from archlab.render.latency_table import profile_latency_data as augment_profile_dict
from archlab.static.roofline import Ceilings
from tests.helpers import tables

CEIL = Ceilings(50.0, 5.0, 1, "cpu", "t", 1, 1, 1, "now", 0.0)
QUICK = {"threads": 1, "budget_s": 0.5, "min_samples": 6, "max_samples": 8, "warmup_s": 0.02, "min_sample_s": 0.001}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    plan = archlab.plan(tables.write(tmp_path_factory.mktemp("n"), "classifier"))
    return plan, measure(plan, ceilings=CEIL, **QUICK)


def test_instrumented_pass_equals_forward(tiny_table):
    for name in ("classifier", "two_outputs"):
        plan = archlab.plan(tiny_table(name))
        m = build_plan(plan).eval()
        x = torch.randn(2, *plan.input)
        inst = Instrumented(m)
        assert inst.names == [layer.name for layer in plan.layers]
        with torch.inference_mode():
            a, b = m(x), inst(x)
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            assert torch.equal(u, v)


def test_instrumented_attributes_clock_spans(tiny_table):
    """A fake clock that advances 1000 ns per reading: every module call is charged exactly one step."""
    plan = archlab.plan(tiny_table("classifier"))
    ticks = itertools.count(0, 1000)
    inst = Instrumented(build_plan(plan).eval(), clock_ns=lambda: next(ticks))
    x = torch.randn(1, *plan.input)
    with torch.inference_mode():
        inst(x)
        inst(x)
    assert inst.acc == [2000] * len(plan.layers)
    inst.reset()
    assert inst.acc == [0] * len(plan.layers)


def test_report_structure(report):
    plan, r = report
    assert [layer.name for layer in r.layers] == [layer.name for layer in plan.layers]
    assert all(layer.ran and layer.latency_ms > 0 for layer in r.layers)
    assert 6 <= r.e2e.n and len(r.samples) == len(r.sample_walls) >= 6
    # every layer's span lies inside the instrumented pass's timing: per round, sum of layers <= wall
    for per_layer, wall in zip(r.samples, r.sample_walls):
        assert sum(per_layer) <= wall * (1 + 1e-9)
    assert r.layers_sum.median <= r.instrumented.median * (1 + 1e-9)
    # rows: the median of per-round sums of their layers
    for row in r.rows:
        idx = [i for i, layer in enumerate(plan.layers) if layer.name in row.layers]
        sums = sorted(sum(s[i] for i in idx) for s in r.samples)
        assert row.latency_ms == pytest.approx(
            sums[len(sums) // 2] if len(sums) % 2 else (sums[len(sums) // 2 - 1] + sums[len(sums) // 2]) / 2
        )
        assert row.flops == sum(layer.flops for layer in r.layers if layer.name in row.layers)
    assert r.framework_ms == pytest.approx(r.e2e.median - r.layers_sum.median)
    assert r.timer_ns >= 0 and r.timer_overhead_ms == pytest.approx(r.timer_ns * len(plan.layers) / 1e6)


def test_roofline_fields(report):
    plan, r = report
    conv = next(layer for layer in r.layers if layer.name == "0.0.conv")
    assert conv.flops == 2 * 13_824 and conv.gflops == pytest.approx(conv.flops / conv.latency_ms / 1e6)
    assert conv.ideal_ms == pytest.approx(1e3 * max(conv.flops / 50e9, conv.bytes / 5e9))
    assert conv.roof_fraction == pytest.approx(conv.ideal_ms / conv.latency_ms)
    assert conv.bound(CEIL) == ("memory" if conv.intensity < 10 else "compute")
    assert r.ideal_ms == pytest.approx(sum(layer.ideal_ms for layer in r.layers))
    bounds = {layer.bound(CEIL) for layer in r.layers}
    assert bounds <= {"memory", "compute", None}
    top = r.top("memory")
    assert [t.latency_ms for t in top] == sorted((t.latency_ms for t in top), reverse=True)
    text = "\n".join(r.overhead_lines())
    assert "framework overhead" in text and "measurement overhead" in text and "roofline ideal" in text


def test_roofline_figure_of_the_report(report, tmp_path):
    """archlab.render.roofline_plot on the measured report (the CLI's --roofline run is in the slow lane)."""
    from archlab.render.roofline_plot import roofline_figure

    _, r = report
    drawn = roofline_figure(r, tmp_path / "roof.png", dpi=40)
    assert (tmp_path / "roof.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn["points"] > 0 and drawn["points"] + drawn["skipped"] == len(r.layers)
    assert set(drawn["labelled"]) <= {layer.name for layer in r.layers}


def test_profile_json_contract(report):
    plan, r = report
    from archlab.static.counts import Profile

    data = augment_profile_dict(Profile.from_plan(plan).to_dict(), r)
    assert data["totals"]["latency_ms"] == r.e2e.median
    assert all("latency_ms" in d for d in data["layers"]) and all("latency_ms" in d for d in data["rows"])
    assert data["latency"]["coverage"] == pytest.approx(r.layers_sum.median / r.e2e.median)
    assert data["latency"]["ceilings"]["peak_gflops"] == 50.0


def test_folded_runtime(tiny_table):
    plan = archlab.plan(tiny_table("classifier"))
    r = measure(plan, runtime="folded", **QUICK)
    bns = [layer for layer in r.layers if layer.op == "bn"]
    assert bns and all(not b.ran and b.latency_ms == 0 and b.flops == 0 for b in bns)
    assert all(layer.ran for layer in r.layers if layer.op != "bn")
    assert len(r.samples[0]) == len(plan.layers) - len(bns)
    folded = fold_bn(build_plan(plan).eval())
    assert Instrumented(folded).names == [layer.name for layer in plan.layers if layer.op != "bn"]


def test_channels_last_and_batch(tiny_table):
    plan = archlab.plan(tiny_table("classifier"))
    r = measure(plan, channels_last=True, batch=2, **QUICK)
    assert r.channels_last and r.batch == 2
    assert r.layers[0].flops == 2 * 2 * 13_824


def test_bad_options(tiny_table):
    plan = archlab.plan(tiny_table("classifier"))
    with pytest.raises(OptionError, match="--runtime"):
        measure(plan, runtime="onnxruntime")
    with pytest.raises(OptionError, match="--batch"):
        measure(plan, batch=0)
