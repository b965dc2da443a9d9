"""archlab.nn.export through `archlab export`: ONNX and TorchScript files of the folded, channels-last
network, checked against the unfolded PyTorch module; given weights; a wrong fold fails; bad input exits 2."""

import json
import warnings

import onnx
import pytest
import torch

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


def test_export_onnx_folded(cli, tiny_table, tmp_path):
    out = tmp_path / "tiny.onnx"
    ts = tmp_path / "tiny.pt"
    r = cli(
        "export",
        tiny_table("embedding"),
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


def test_export_with_weights(cli, tiny_table, tmp_path):
    import archlab
    from archlab.nn.fold import randomize_bn

    path = tiny_table("embedding")
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


def test_export_check_can_fail(cli, tiny_table, tmp_path, monkeypatch):
    from archlab.nn import fold

    real = fold._fold_into

    def wrong(layer, bn, torch_mod):  # forgets the BN shift
        real(layer, bn, torch_mod)
        with torch_mod.no_grad():
            layer.bias.zero_()

    monkeypatch.setattr(fold, "_fold_into", wrong)
    r = cli("export", tiny_table("embedding"), "--onnx", tmp_path / "t.onnx", "--fold-bn", "--exporter", "torchscript")
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
def test_export_bad_input(cli, tiny_table, args, message):
    r = cli("export", tiny_table("embedding"), *args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
