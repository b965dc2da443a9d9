"""`archlab export` (archlab/cli/export_cmd.py): BN folded and a dynamic batch axis by default, --no-fold-bn,
--prelu, a torch module source with --arg, progress on stderr, and bad options as one line (exit 2) before
any work. The ONNX runs (an export and two ONNX Runtime sessions each) are in the slow lane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import one_line_error

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

ROOT = Path(__file__).resolve().parent.parent
MODULE = f"{ROOT}/examples/models/mobilenetv2.py:mobilenet_v2"
MODULE_ARGS = ["--arg", "width_mult=0.25", "--arg", "num_classes=10", "--input", "32x32"]


def test_defaults_fold_bn_and_keep_a_dynamic_batch(cli, tiny_table, tmp_path):
    r = cli("export", tiny_table("embedding"), "--torchscript", tmp_path / "t.pt", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["fold_bn"] is True and d["dynamic_batch"] is True and d["calibrated"] is True and d["ok"] is True
    # 11 BN: the stem's, 3 in each of the 2 bottlenecks, 2 in the dwsep, the GDConv's and the embedding's
    assert d["bn_folded"] == d["bn_total"] == 11 and d["params_module"] == d["params_deployed"] < d["params"]
    assert all(c["ok"] and c["tolerance"] == 1e-4 for c in d["checks"])
    assert (tmp_path / "t.pt").is_file()
    assert "export (" in r.stderr and "export: done in" in r.stderr  # the progress, one line per stage when piped


def test_no_fold_bn(cli, tiny_table, tmp_path):
    r = cli("export", tiny_table("embedding"), "--torchscript", tmp_path / "t.pt", "--no-fold-bn", "-q")
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    assert "BN kept (0 of 11 BN layers folded)" in r.stdout and "BN calibrated" in r.stdout


def test_a_module_source_with_arguments(cli, tmp_path):
    r = cli("export", MODULE, *MODULE_ARGS, "--torchscript", tmp_path / "m.pt", "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    from archlab import api

    module = api.load_module(MODULE, ["width_mult=0.25", "num_classes=10"])
    bns = [m for m in module.modules() if type(m).__name__ == "BatchNorm2d"]
    assert d["model"] == "mobilenet_v2" and d["params"] == sum(p.numel() for p in module.parameters())
    # folding drops each BN's gamma and beta and gives its (bias-free) conv a bias: -num_features per BN
    assert d["params_module"] == d["params_deployed"] == d["params"] - sum(b.num_features for b in bns)
    assert d["bn_folded"] == d["bn_total"] == len(bns) == 52 and d["ok"] is True


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--torchscript", "t.pt", "--prelu", "fused"], "'fused' is not one of"),
        (["--torchscript", "t.pt", "--weights", "missing.pt"], "--weights missing.pt: no such file"),
        (["--torchscript", "t.pt", "--key-map", "auto"], "--key-map needs --weights"),
        (["--torchscript", "t.pt", "--max-memory", "1K"], "(--max-memory)"),
        (["--torchscript", "t.pt", "--arg", "x=1"], "expected FILE.py:CALLABLE"),
        (["--torchscript", "t.pt", "--batch", "0"], "--batch"),
    ],
)
def test_bad_options_are_one_line(cli, tiny_table, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    one_line_error(cli("export", tiny_table("embedding"), *args), needle)
    assert not (tmp_path / "t.pt").exists()


def test_a_missing_key_map_file_is_refused_before_any_work(cli, tiny_table, tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"not read")
    args = ["--torchscript", tmp_path / "t.pt", "--weights", weights, "--key-map", tmp_path / "k.yaml"]
    one_line_error(cli("export", tiny_table("embedding"), *args), "k.yaml: no such file")


def test_a_module_refuses_table_options(cli, tmp_path):
    one_line_error(cli("export", MODULE, *MODULE_ARGS, "--width", "0.5", "--torchscript", tmp_path / "m.pt"), "table")


@pytest.mark.slow
def test_onnx_defaults_decompose_prelu_and_fold_every_bn(cli, tiny_table, tmp_path):
    r = cli("export", tiny_table("embedding"), "--onnx", tmp_path / "t.onnx", "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["dynamic_batch"] is True and d["onnx_prelu"].startswith("decomposed")
    assert d["onnx_histogram"].get("PRelu", 0) == 0 and d["onnx_histogram"].get("BatchNormalization", 0) == 0
    assert d["onnx_histogram"]["Conv"] == 10 and d["ort_histogram"]  # ORT's graph after its optimiser
    assert any("batch 8" in c["what"] for c in d["checks"]) and d["ok"] is True


@pytest.mark.slow
def test_onnx_keep_prelu_static_batch(cli, tiny_table, tmp_path):
    r = cli(
        "export", tiny_table("embedding"), "--onnx", tmp_path / "t.onnx", "--prelu", "keep", "--no-dynamic-batch", "-q"
    )
    assert r.exit_code == 0, r.output
    assert "static batch 1" in r.stdout and "7 PRelu" in r.stdout and "0 BatchNormalization" in r.stdout
    assert "ONNX Runtime runs (after ORT_ENABLE_ALL)" in r.stdout


@pytest.mark.slow
def test_a_module_source_to_onnx(cli, tmp_path):
    r = cli("export", MODULE, *MODULE_ARGS, "--onnx", tmp_path / "m.onnx", "-q")
    assert r.exit_code == 0, r.output
    assert "52 Conv" in r.stdout and "0 BatchNormalization" in r.stdout and (tmp_path / "m.onnx").is_file()
