"""archlab.timing.resources: limits before work. Every command that allocates estimates its peak memory from the
plan and refuses, in one line with the estimate, when it would not fit (before torch is imported); threads are
capped at the usable CPUs with a note (issue 15: 8000x8000 was OOM-killed at 6.4 GB, a million threads
segfaulted, 100000x100000 failed after half a minute with exit 1)."""

import pytest

import archlab
from archlab import api
from archlab.errors import ArchlabError, OptionError
from archlab.static.memory import memory
from archlab.timing import resources
from archlab.timing.machine import usable_cpus
from tests.helpers.bounded import archlab as run_archlab
from tests.helpers.bounded import one_error_line, write_tiny


@pytest.mark.parametrize(
    "text, expected",
    [("4G", 4 * 2**30), ("512M", 512 * 2**20), ("1.5GB", 3 * 2**29), ("2t", 2 * 2**40), ("100k", 102400), (1000, 1000)],
)
def test_sizes(text, expected):
    assert resources.parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "G", "-1G", "nanG", "infM", "4X", True, 0])
def test_bad_sizes_are_option_errors(bad):
    with pytest.raises(OptionError, match="--max-memory"):
        resources.parse_size(bad)


def test_size_text():
    assert resources.size_text(6.4 * 2**30) == "6.4 GB" and resources.size_text(512 * 2**20) == "512.0 MB"
    assert resources.size_text(3) == "3 B"


def test_available_memory_is_the_least_of_what_the_os_says():
    found, source = resources.available_memory()
    meminfo = resources._meminfo()
    if "MemAvailable" in meminfo:
        assert found is not None and found <= meminfo["MemAvailable"] and source


def test_an_estimate_that_does_not_fit_is_one_line_with_its_parts():
    need = resources.Estimate("export", (("activations", 3 * 2**30), ("weights", 2**20)))
    with pytest.raises(resources.MemoryLimitError) as e:
        resources.require(need, "1G")
    text = str(e.value)
    assert text.startswith("export would need about 3.0 GB (activations 3.0 GB, weights 1.0 MB) but 1.0 GB")
    assert "(--max-memory)" in text and "\n" not in text
    assert isinstance(e.value, ArchlabError)  # exit code 2
    assert resources.require(need, "4G") is need  # --max-memory replaces what the OS says


def test_estimates_grow_with_what_is_allocated():
    small, large = archlab.plan("mobilefacenet"), archlab.plan("mobilefacenet", input="448x448")
    for need in (resources.latency_need, resources.export_need, resources.crosscheck_need):
        assert need(large).total > need(small).total > resources.TORCH_RUNTIME_BYTES
        assert need(small, 8).total > need(small, 1).total
    assert resources.rf_need(small, units="key").total < resources.rf_need(small).total
    latency = dict(resources.latency_need(small).parts)
    assert latency["activations at batch 1"] == memory(small, 1, keep_input=True).peak_bytes
    assert latency["weights"] == small.totals()["params"] * 4


def test_the_8000_pixel_latency_estimate_is_the_issues_order_of_magnitude():
    need = resources.latency_need(archlab.plan("mobilefacenet", input="8000x8000"))
    assert 6 * 2**30 < need.total < 64 * 2**30  # the issue's run was OOM-killed at 6.4 GB


def test_threads_above_the_usable_cpus_are_capped_with_a_note():
    with pytest.warns(resources.ResourceNote, match=f"--threads 1000000: capped at the {usable_cpus()} usable CPU"):
        assert resources.usable_threads(1_000_000) == usable_cpus()
    assert resources.usable_threads(None) is None and resources.usable_threads(1) == 1
    with pytest.warns(resources.ResourceNote):
        assert resources.sweep_threads((1, 1000, 2000)) == tuple(dict.fromkeys((1, usable_cpus())))


def test_api_latency_caps_threads_before_measuring(monkeypatch, tmp_path):
    import archlab.nn.latency as layer_latency

    seen = {}
    monkeypatch.setattr(layer_latency, "measure_against_ceilings", lambda plan, **kw: seen.update(kw) or "report")
    with pytest.warns(resources.ResourceNote):
        assert api.latency(write_tiny(tmp_path), threads=10**6) == "report"
    assert seen["threads"] == usable_cpus()


@pytest.mark.parametrize(
    "call",
    [
        lambda tiny: api.latency("mobilefacenet", input="8000x8000", max_memory="1G"),
        lambda tiny: api.export("mobilefacenet", input="100000x100000", onnx="never.onnx"),
        lambda tiny: api.crosscheck("mobilefacenet", input="100000x100000"),
        lambda tiny: api.rf("mobilefacenet", input="3000x3000"),
        lambda tiny: api.sweep(str(tiny), batches=(100_000_000,), widths=(1.0,), stems=("2",), budget=5),
        lambda tiny: api.latency(tiny, batch=10**12),
    ],
)
def test_api_refuses_before_any_work(call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(resources.MemoryLimitError, match="would need about"):
        call(write_tiny(tmp_path))
    assert not (tmp_path / "never.onnx").exists()


@pytest.mark.slow
def test_cli_refusals_take_little_memory_and_time(tmp_path):
    """The issue's cases, each in a subprocess limited to 500 MB of address space and a timeout: exit 2 with
    one line (so the refusal comes before torch is even imported)."""
    tiny = write_tiny(tmp_path)
    cases = [
        ("profile", "mobilefacenet", "--input", "8000x8000", "--latency"),
        ("rf", "mobilefacenet", "--input", "3000x3000"),
        ("export", "mobilefacenet", "--input", "100000x100000", "--onnx", tmp_path / "m.onnx"),
        ("profile", "mobilefacenet", "--input", "100000x100000", "--latency"),
        ("sweep", tiny, "--batch", "100000000", "--budget", "5"),
        ("profile", "mobilefacenet", "--input", "100000x100000", "--check"),
    ]
    for args in cases:
        line = one_error_line(run_archlab(*args, timeout=30))
        assert "would need about" in line and "is available" in line, line
    assert not (tmp_path / "m.onnx").exists()
