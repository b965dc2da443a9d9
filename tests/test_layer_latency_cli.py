"""`archlab profile --latency` end to end (archlab.cli.profile_latency over archlab.nn.layer_latency): JSON,
the table and the roofline figure, folded layers in CSV, and options that need --latency. The machine's
ceilings come from a fake cache (``cached_ceilings``), so no test measures the machine."""

import json

import pytest

from tests.helpers.ceilings import PEAK

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

FAST = ["--threads", "1", "--budget", "0.3"]


def test_profile_latency_json(cli, tiny_table, cached_ceilings):
    path = tiny_table("embedding")
    r = cli("profile", path, "--latency", *FAST, "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["totals"]["latency_ms"] > 0
    assert d["totals"]["madds"] > 0  # the counts stay
    assert all(layer["latency_ms"] > 0 for layer in d["layers"])
    assert all("latency_ms" in row for row in d["rows"])
    lat = d["latency"]
    assert lat["ceilings"]["peak_gflops"] == PEAK and lat["ceilings"]["cached"] is True
    assert lat["threads"] == 1 and lat["runtime"] == "eager"
    assert lat["layers_sum_ms"] <= lat["instrumented"]["median"] * (1 + 1e-9)
    assert lat["framework_ms"] == pytest.approx(lat["latency_ms"] - lat["layers_sum_ms"])
    assert set(lat["top_memory_bound"]) | set(lat["top_compute_bound"]) <= {x["name"] for x in d["layers"]}


@pytest.mark.slow
def test_profile_latency_table_and_roofline(cli, tiny_table, cached_ceilings, tmp_path):
    png = tmp_path / "roof.png"
    r = cli("profile", tiny_table("embedding"), *FAST, "--roofline", png)  # --roofline implies --latency
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "latency per row (eager)" in out and "framework" in out and "total (end-to-end)" in out
    assert "measurement overhead" in out and "top memory-bound layers" in out
    assert f"peak {PEAK:.1f} GFLOP/s" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_latency_folded_layers_csv(cli, tiny_table, cached_ceilings):
    r = cli(
        "profile", tiny_table("embedding"), "--latency", *FAST, "--runtime", "folded", "--depth", "layer", "-f", "csv"
    )
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("name,type,out,ms,share %")
    bn_rows = [ln for ln in lines if ln.split(",")[1] == "bn"]
    assert bn_rows and all(ln.endswith(",folded") for ln in bn_rows)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threads", "2"], "only apply with --latency"),
        (["--runtime", "folded"], "only apply with --latency"),
        (["--latency", "--check"], "--check"),
        (["--roofline", "r.txt"], "suffix"),
    ],
)
def test_profile_latency_bad_options(cli, tiny_table, cached_ceilings, args, message):
    r = cli("profile", tiny_table("embedding"), *args, *(FAST if "--latency" in args or "--roofline" in args else []))
    assert r.exit_code == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
