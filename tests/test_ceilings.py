"""archlab.nn.ceilings and `archlab ceilings`: the machine's ceilings measured at tiny sizes, cached per
machine, thread count, torch version and sizes; a corrupt cache is measured again; the command reads the cache."""

import json

import pytest

from archlab.nn import ceilings as cl
from tests.helpers.ceilings import BW, PEAK

SIZES = {"budget_s": 0.002, "gemm_sizes": (32,), "dram_mib": 1}  # tiny measurement sizes: milliseconds, not seconds


def test_measure_tiny_sizes():
    c = cl.measure_ceilings(1, **SIZES)
    assert c.peak_gflops > 0 and c.bandwidth_gbs > 0 and c.threads == 1 and not c.cached
    assert c.gemm in {cl.shape_text(s) for s in SIZES["gemm_sizes"]} and c.repeats >= 5
    assert [lv.name for lv in c.levels][-1] == "DRAM"
    assert c.bandwidth_gbs == c.levels[-1].gbs and all(a.gbs >= b.gbs for a, b in zip(c.levels, c.levels[1:]))


def test_cache_measures_once_per_key(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHLAB_CACHE_DIR", str(tmp_path))
    calls = []
    real = cl.measure_ceilings

    def counting(threads, **kw):
        calls.append(threads)
        return real(threads, **kw)

    monkeypatch.setattr(cl, "measure_ceilings", counting)
    a = cl.ceilings(1, **SIZES)
    b = cl.ceilings(1, **SIZES)
    assert calls == [1] and not a.cached and b.cached
    assert (b.peak_gflops, b.bandwidth_gbs) == (a.peak_gflops, a.bandwidth_gbs)
    data = json.loads((tmp_path / "ceilings.json").read_text())
    (key,) = data["entries"]
    assert "threads=1" in key and a.torch in key and a.cpu_model in key
    cl.ceilings(2, **SIZES)  # another thread count: another entry
    assert calls == [1, 2]
    cl.ceilings(1, remeasure=True, **SIZES)
    assert calls == [1, 2, 1]
    cl.ceilings(1, budget_s=0.002, gemm_sizes=(48,), dram_mib=1)  # other sizes: measured again
    assert calls == [1, 2, 1, 1]
    assert len(json.loads((tmp_path / "ceilings.json").read_text())["entries"]) == 2


def test_corrupt_cache_is_measured_again(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHLAB_CACHE_DIR", str(tmp_path))
    (tmp_path / "ceilings.json").write_text("{not json")
    c = cl.ceilings(1, **SIZES)
    assert not c.cached
    assert cl.ceilings(1, **SIZES).cached


def test_cache_dir_default(monkeypatch, tmp_path):
    monkeypatch.delenv("ARCHLAB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cl.cache_dir() == tmp_path / "archlab"


def test_ceilings_command(cli, cached_ceilings):
    r = cli("ceilings", "--threads", "1", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["peak_gflops"] == PEAK and d["bandwidth_gbs"] == BW and d["cached"] is True
    assert d["ridge_flop_per_byte"] == pytest.approx(PEAK / BW)
    r = cli("ceilings", "--threads", "1")
    assert "peak fp32 GFLOP/s" in r.stdout and "cached" in r.stdout


def test_the_peak_is_the_best_of_square_and_1x1_conv_shapes():
    # the 1x1-conv shapes (m = H*W, k = C_in, n = C_out) run faster than square ones on some CPUs: a peak from
    # square ones only was beaten by ONNX Runtime's 1x1 convs (roof % > 100)
    assert cl.gemm_shape(32) == (32, 32, 32) and cl.shape_text((784, 128, 512)) == "784x128x512"
    assert any(not isinstance(s, int) for s in cl.GEMM_SIZES)
    c = cl.measure_ceilings(1, budget_s=0.002, gemm_sizes=(16, (64, 32, 8)), dram_mib=1)
    assert c.gemm in {"16x16x16", "64x32x8"}
    assert cl.method_id(0.25, (16,), 1) != cl.method_id(0.25, (16, (64, 32, 8)), 1)  # other shapes: measured again
