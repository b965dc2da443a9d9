"""The ceilings cache (archlab.nn.ceilings): an entry older than a day, or of another method, is measured again;
the load is recorded with the figures; sysfs cache sizes are read."""

import json

from archlab.nn import ceilings as cl
from tests.helpers.ceilings import write_cache

TINY = {"budget_s": 0.002, "gemm_sizes": (32,), "dram_mib": 1}


def test_a_fresh_entry_is_used_and_says_when_it_was_measured(tmp_path, monkeypatch):
    monkeypatch.setattr(cl, "measure_ceilings", lambda *a, **k: (_ for _ in ()).throw(AssertionError("measured")))
    write_cache(tmp_path, 150.0, 12.0)
    c = cl.ceilings(1, directory=tmp_path)
    assert c.cached and c.peak_gflops == 150.0 and c.age_s is not None and c.age_s < 600
    assert "cached, measured" in c.provenance() and "load average 0.50" in c.provenance()


def test_an_entry_older_than_a_day_is_measured_again(tmp_path, monkeypatch):
    write_cache(tmp_path, 150.0, 12.0, measured_at="2020-01-01T00:00:00+00:00")
    calls = []
    real = cl.measure_ceilings
    monkeypatch.setattr(cl, "measure_ceilings", lambda t, **k: calls.append(t) or real(t, **TINY))
    c = cl.ceilings(1, directory=tmp_path)
    assert calls == [1] and not c.cached and c.loadavg is not None and len(c.loadavg) == 3
    # ... and the new figures replace the old ones in the cache
    (entry,) = json.loads((tmp_path / cl.CACHE_FILE).read_text())["entries"].values()
    assert entry["measured_at"] != "2020-01-01T00:00:00+00:00" and entry["loadavg"] is not None
    # a longer max age keeps an old entry
    write_cache(tmp_path, 150.0, 12.0, measured_at="2020-01-01T00:00:00+00:00")
    assert cl.ceilings(1, directory=tmp_path, max_age_s=1e12).cached


def test_another_method_is_measured_again(tmp_path, monkeypatch):
    write_cache(tmp_path, 150.0, 12.0)
    calls = []
    real = cl.measure_ceilings
    monkeypatch.setattr(cl, "measure_ceilings", lambda t, **k: calls.append(k) or real(t, **TINY))
    cl.ceilings(1, directory=tmp_path, **TINY)  # other options than the cached entry's
    assert calls and calls[0]["gemm_sizes"] == (32,)


def test_cache_sizes_from_sysfs(tmp_path):
    for i, (level, kind, size) in enumerate([(1, "Data", "48K"), (1, "Instruction", "32K"), (2, "Unified", "2048K")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    assert cl.cache_sizes(str(tmp_path)) == {"L1": 48 * 1024, "L2": 2 * 2**20}
    assert cl.cache_sizes(str(tmp_path / "missing")) == {}
