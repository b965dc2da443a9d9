"""Machine ceilings (cached per machine, threads and torch version) and each layer's FLOPs and bytes."""

import json

import pytest

import archlab
from archlab.nn import ceilings as cl
from archlab.static.roofline import Ceilings, category, plan_work, roofline_ideal_ms

NET = """
name: w
input: [16, 16]
defaults: {norm: bn, act: relu}
rows:
  - {type: conv, c: 8, k: 3, s: 2}
  - {type: bottleneck, t: 2, c: 8, n: 1, s: 1}
head: {pool: gap, classifier: {classes: 10}}
"""

TINY = {"budget_s": 0.002, "gemm_sizes": (32,), "dram_mib": 1}


def fake(peak=100.0, bw=10.0, threads=1) -> Ceilings:
    return Ceilings(peak, bw, threads, "cpu", "t", 1, 1, 1, "now", 0.0)


def test_layer_work_by_hand(write_table):
    plan = archlab.plan(write_table(NET))
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


def test_categories(write_table):
    plan = archlab.plan(write_table(NET))
    cats = {layer.name: category(layer) for layer in plan.layers}
    assert cats["0.0.conv"] == "conv kxk"
    assert cats["1.0.expand"] == "conv 1x1"
    assert cats["1.0.dw"] == "conv dw"
    assert cats["head.classifier.linear"] == "linear"


def test_ceilings_math_and_ideal(write_table):
    c = fake(peak=100.0, bw=10.0)
    assert c.ridge == 10.0
    assert c.attainable_gflops(2.0) == 20.0 and c.attainable_gflops(50.0) == 100.0
    assert c.ideal_s(1e9, 1e6) == pytest.approx(0.01)  # compute-bound: 1 GFLOP at 100 GFLOP/s
    assert c.ideal_s(1e6, 1e9) == pytest.approx(0.1)  # memory-bound: 1 GB at 10 GB/s
    plan = archlab.plan(write_table(NET))
    expected = sum(max(w.flops / 1e11, w.bytes / 1e10) for w in plan_work(plan).values()) * 1e3
    assert roofline_ideal_ms(plan, c) == pytest.approx(expected)
    skip = frozenset(layer.name for layer in plan.layers if layer.op == "bn")
    assert roofline_ideal_ms(plan, c, skip=skip) < roofline_ideal_ms(plan, c)


def test_measure_tiny_sizes():
    c = cl.measure_ceilings(1, **TINY)
    assert c.peak_gflops > 0 and c.bandwidth_gbs > 0 and c.threads == 1 and not c.cached
    assert c.gemm_n == 32 and c.repeats >= 5 and [lv.name for lv in c.levels][-1] == "DRAM"
    assert c.bandwidth_gbs == c.levels[-1].gbs and all(a.gbs >= b.gbs for a, b in zip(c.levels, c.levels[1:]))


def test_cache_measures_once_per_key(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHLAB_CACHE_DIR", str(tmp_path))
    calls = []
    real = cl.measure_ceilings

    def counting(threads, **kw):
        calls.append(threads)
        return real(threads, **kw)

    monkeypatch.setattr(cl, "measure_ceilings", counting)
    a = cl.ceilings(1, **TINY)
    b = cl.ceilings(1, **TINY)
    assert calls == [1] and not a.cached and b.cached
    assert (b.peak_gflops, b.bandwidth_gbs) == (a.peak_gflops, a.bandwidth_gbs)
    data = json.loads((tmp_path / "ceilings.json").read_text())
    (key,) = data["entries"]
    assert "threads=1" in key and a.torch in key and a.cpu_model in key
    cl.ceilings(2, **TINY)  # another thread count: another entry
    assert calls == [1, 2]
    cl.ceilings(1, remeasure=True, **TINY)
    assert calls == [1, 2, 1]
    cl.ceilings(1, budget_s=0.002, gemm_sizes=(48,), dram_mib=1)  # other sizes: measured again
    assert calls == [1, 2, 1, 1]
    assert len(json.loads((tmp_path / "ceilings.json").read_text())["entries"]) == 2


def test_corrupt_cache_is_measured_again(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHLAB_CACHE_DIR", str(tmp_path))
    (tmp_path / "ceilings.json").write_text("{not json")
    c = cl.ceilings(1, **TINY)
    assert not c.cached
    assert cl.ceilings(1, **TINY).cached


def test_cache_dir_default(monkeypatch, tmp_path):
    monkeypatch.delenv("ARCHLAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cl.cache_dir() == tmp_path / "archlab"
