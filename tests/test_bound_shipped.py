"""The roofline is a lower bound: no layer of any shipped network runs faster than its bound, with the machine's
ceilings measured here (a short measurement, made generous: x1.25), and a planted too-low ceiling is caught.

Slow: it times every shipped network (1 thread, the instrumented pass, a short budget) and MobileFaceNet in ONNX
Runtime (fused nodes, bounded by their groups' external bytes)."""

from dataclasses import replace

import pytest

import archlab
from archlab.api import network_names
from archlab.nn.ceilings import measure_ceilings
from archlab.nn.latency import latency

pytestmark = pytest.mark.slow
QUICK = {"threads": 1, "budget_s": 2.0, "min_samples": 6, "max_samples": 8, "warmup_s": 0.05, "min_sample_s": 0.01}
GENEROUS = 1.25


@pytest.fixture(scope="module")
def ceilings():
    import torch

    torch.set_num_threads(1)
    c = measure_ceilings(1, budget_s=0.1)
    levels = tuple(replace(lv, gbs=lv.gbs * GENEROUS) for lv in c.levels)
    return replace(c, peak_gflops=c.peak_gflops * GENEROUS, bandwidth_gbs=c.bandwidth_gbs * GENEROUS, levels=levels)


def low(c, factor=20.0):
    levels = tuple(replace(lv, gbs=lv.gbs / factor) for lv in c.levels)
    return replace(c, peak_gflops=c.peak_gflops / factor, bandwidth_gbs=c.bandwidth_gbs / factor, levels=levels)


@pytest.fixture(scope="module")
def reports(ceilings):
    return {net: latency(archlab.plan(net), ceilings=ceilings, **QUICK) for net in network_names()}


@pytest.mark.parametrize("net", network_names())
def test_no_layer_runs_faster_than_its_bound(reports, net):
    r = reports[net]
    assert [x.name for x in r.layers if x.ran and x.ideal_ms is None] == []
    assert r.above_bound() == [], [(x.name, x.roof_fraction) for x in r.above_bound()]
    assert 0 < (r.bound_fraction or 0) < 1


def test_a_too_low_ceiling_is_caught(reports, ceilings):
    r = reports["mobilefacenet"].with_ceilings(low(ceilings))
    assert r.above_bound(), "a bound 20x too high must put layers above 100%"
    assert "ran faster than their bound" in "\n".join(r.overhead_lines())


def test_fused_onnxruntime_nodes_stay_below_their_group_bound(ceilings):
    r = latency(archlab.plan("mobilefacenet"), runtime="onnxruntime", ceilings=ceilings, **QUICK)
    assert any(x.covers for x in r.layers if x.ran)
    assert r.above_bound() == [], [(x.name, x.roof_fraction) for x in r.above_bound()]
    assert r.with_ceilings(low(ceilings)).above_bound()
