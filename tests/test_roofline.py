"""archlab.static.roofline: each layer's FLOPs and bytes by hand, layer categories, the ceilings record's
maths and the roofline time of a plan (no torch, no measurement)."""

import pytest

import archlab
from archlab.static.roofline import Ceilings, category, plan_work, roofline_ideal_ms


def fake(peak=100.0, bw=10.0, threads=1) -> Ceilings:
    return Ceilings(peak, bw, threads, "cpu", "t", 1, 1, 1, "now", 0.0)


def test_layer_work_by_hand(tiny_table):
    plan = archlab.plan(tiny_table("classifier"))
    work = plan_work(plan)
    # stem conv 3->8, 3x3, stride 2 on 16x16 -> 8x8x8: MAdds 8*3*9*64 = 13,824
    conv = work["0.0.conv"]
    assert conv.flops == 2 * 13_824
    assert conv.bytes == 4 * (3 * 16 * 16 + 216 + 8 * 8 * 8)
    # BN: other_ops 2/element; reads 512 + its 16 params, writes 512
    assert work["0.0.bn"].flops == 2 * 512
    assert work["0.0.bn"].bytes == 4 * (512 + 16 + 512)
    # residual add: reads two 8x8x8 maps, writes one
    add = work["1.0.add"]
    assert (add.flops, add.bytes) == (512, 4 * 3 * 512)
    assert work["head.gap.flatten"].bytes == 0 and work["head.gap.flatten"].intensity is None
    # batch: activations scale, weights are read once
    conv4 = plan_work(plan, batch=4)["0.0.conv"]
    assert conv4.flops == 4 * conv.flops
    assert conv4.bytes == 4 * (4 * (768 + 512) + 216)


def test_categories(tiny_table):
    plan = archlab.plan(tiny_table("classifier"))
    cats = {layer.name: category(layer) for layer in plan.layers}
    assert cats["0.0.conv"] == "conv kxk"
    assert cats["1.0.expand"] == "conv 1x1"
    assert cats["1.0.dw"] == "conv dw"
    assert cats["head.classifier.linear"] == "linear"


def test_ceilings_math_and_ideal(tiny_table):
    c = fake(peak=100.0, bw=10.0)
    assert c.ridge == 10.0
    assert c.attainable_gflops(2.0) == 20.0 and c.attainable_gflops(50.0) == 100.0
    assert c.ideal_s(1e9, 1e6) == pytest.approx(0.01)  # compute-bound: 1 GFLOP at 100 GFLOP/s
    assert c.ideal_s(1e6, 1e9) == pytest.approx(0.1)  # memory-bound: 1 GB at 10 GB/s
    plan = archlab.plan(tiny_table("classifier"))
    expected = sum(max(w.flops / 1e11, w.bytes / 1e10) for w in plan_work(plan).values()) * 1e3
    assert roofline_ideal_ms(plan, c) == pytest.approx(expected)
    skip = frozenset(layer.name for layer in plan.layers if layer.op == "bn")
    assert roofline_ideal_ms(plan, c, skip=skip) < roofline_ideal_ms(plan, c)
