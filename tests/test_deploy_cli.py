"""End to end: `archlab profile --latency`, `archlab export`, `archlab ceilings` (tiny networks)."""

import json
import warnings

import onnx
import pytest
import torch

from tests.helpers.ceilings import write_cache

NET = """
name: tiny
input: [16, 16]
defaults: {norm: bn, act: prelu}
rows:
  - {type: conv, c: 8, k: 3, s: 2}
  - {type: bottleneck, t: 2, c: 8, n: 2, s: 1}
head: {pool: gdconv, embedding: {size: 6, layer: linear}}
"""
PEAK, BW = 123.0, 4.5
FAST = ["--threads", "1", "--budget", "0.3"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: on a shared 2-core machine, OpenMP threads waiting for each other dominate otherwise."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder holding ceilings for 1 thread (the default sizes), so no test measures the machine."""
    d = tmp_path / "cache"
    d.mkdir()
    monkeypatch.setenv("ARCHLAB_CACHE_DIR", str(d))
    write_cache(d, PEAK, BW)
    return d


def test_profile_latency_json(cli, write_table, cache):
    path = write_table(NET)
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


def test_profile_latency_table_and_roofline(cli, write_table, cache, tmp_path):
    png = tmp_path / "roof.png"
    r = cli("profile", write_table(NET), *FAST, "--roofline", png)  # --roofline implies --latency
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "latency per row (eager)" in out and "framework" in out and "total (end-to-end)" in out
    assert "measurement overhead" in out and "top memory-bound layers" in out
    assert f"peak {PEAK:.1f} GFLOP/s" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_latency_folded_layers_csv(cli, write_table, cache):
    r = cli("profile", write_table(NET), "--latency", *FAST, "--runtime", "folded", "--depth", "layer", "-f", "csv")
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
def test_profile_latency_bad_options(cli, write_table, cache, args, message):
    r = cli("profile", write_table(NET), *args, *(FAST if "--latency" in args or "--roofline" in args else []))
    assert r.exit_code == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_export_onnx_folded(cli, write_table, tmp_path):
    out = tmp_path / "tiny.onnx"
    ts = tmp_path / "tiny.pt"
    r = cli(
        "export",
        write_table(NET),
        "--onnx",
        out,
        "--torchscript",
        ts,
        "--fold-bn",
        "--channels-last",
        "--exporter",
        "torchscript",
        "-f",
        "json",
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["params_module"] == d["params_deployed"]
    # the TorchScript-based exporter stores identical tensors once (untrained PReLU slopes are all 0.25)
    assert 0 < d["onnx_weights"] <= d["params_deployed"]
    assert d["params_deployed"] < d["params"] and d["bn_folded"] == d["bn_total"] > 0
    assert {c["what"].split(":")[0] for c in d["checks"]} >= {
        "folded channels-last vs unfolded",
        "ONNX Runtime vs unfolded PyTorch",
    }
    assert any("randomised" in c["what"] for c in d["checks"])
    assert all(c["ok"] and c["max_abs_diff"] <= 1e-4 * max(1, c["ref_max_abs"]) for c in d["checks"])
    onnx.checker.check_model(onnx.load(out))
    assert not any(n.op_type == "BatchNormalization" for n in onnx.load(out).graph.node)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated in favour of torch.export
        m = torch.jit.load(ts)
    assert m(torch.randn(1, 3, 16, 16)).shape == (1, 6)


def test_export_with_weights(cli, write_table, tmp_path):
    import archlab
    from archlab.nn.fold import randomize_bn

    path = write_table(NET)
    m = archlab.build(path)
    randomize_bn(m, 4)
    torch.save(m.state_dict(), tmp_path / "w.pt")
    r = cli(
        "export",
        path,
        "--onnx",
        tmp_path / "t.onnx",
        "--fold-bn",
        "--weights",
        tmp_path / "w.pt",
        "--exporter",
        "torchscript",
    )
    assert r.exit_code == 0, r.output
    assert "randomised" not in r.stdout  # trained (here: given) BN statistics are checked as they are
    assert "folded vs unfolded" in r.stdout and "(equal)" in r.stdout


def test_export_check_can_fail(cli, write_table, tmp_path, monkeypatch):
    from archlab.nn import fold

    real = fold._fold_into

    def wrong(layer, bn, torch_mod):  # forgets the BN shift
        real(layer, bn, torch_mod)
        with torch_mod.no_grad():
            layer.bias.zero_()

    monkeypatch.setattr(fold, "_fold_into", wrong)
    r = cli("export", write_table(NET), "--onnx", tmp_path / "t.onnx", "--fold-bn", "--exporter", "torchscript")
    assert r.exit_code == 1
    assert "export check failed" in r.stderr and "FAILED" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "nothing to write"),
        (["--onnx", "/no/such/folder/x.onnx"], "does not exist"),
        (["--onnx", "x.onnx", "--key-map", "k.yaml"], "--key-map needs --weights"),
        (["--onnx", "x.onnx", "--weights", "missing.pt"], "no such file"),
    ],
)
def test_export_bad_input(cli, write_table, args, message):
    r = cli("export", write_table(NET), *args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_ceilings_command(cli, cache):
    r = cli("ceilings", "--threads", "1", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["peak_gflops"] == PEAK and d["bandwidth_gbs"] == BW and d["cached"] is True
    assert d["ridge_flop_per_byte"] == pytest.approx(PEAK / BW)
    r = cli("ceilings", "--threads", "1")
    assert "peak fp32 GFLOP/s" in r.stdout and "cached" in r.stdout
