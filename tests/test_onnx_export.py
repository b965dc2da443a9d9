"""The export that deploys (archlab.nn.export + archlab.nn.onnx_export): BN folded, a dynamic batch axis, the op
histogram, PReLU decomposed, and an ONNX check on O(1) outputs with a relative tolerance that can fail."""

import onnx
import onnxruntime
import pytest
import torch
from onnx import numpy_helper

import archlab
from archlab.nn.export import Comparison, calibrate_bn, check_onnx, export
from archlab.nn.modules import DecomposedPReLU
from archlab.nn.onnx_export import export_onnx, histogram_text, op_histogram, ort_session
from tests.helpers import tables

NET = tables.text("prelu_block")  # the embedding table without its dwsep row


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("onnx")
    (folder / "tiny.yaml").write_text(NET)
    plan = archlab.plan(folder / "tiny.yaml")
    report = export(plan, onnx=folder / "tiny.onnx")
    return plan, report, folder / "tiny.onnx"


@pytest.mark.slow  # a dynamo export: seconds
def test_defaults_deploy_folded_dynamic_and_decomposed(tiny):
    plan, r, path = tiny
    assert r.ok and r.fold_bn and r.dynamic_batch and r.calibrated and r.onnx_exporter == "dynamo"
    prelus = sum(1 for layer in plan.layers if layer.op == "act" and layer.kind == "prelu")
    convs = sum(1 for layer in plan.layers if layer.op == "conv")
    hist = op_histogram(path.read_bytes())
    assert hist == r.onnx_histogram
    assert hist.get("BatchNormalization", 0) == 0 and hist.get("PRelu", 0) == 0
    assert hist["Conv"] == convs and hist["Max"] == prelus  # fresh PReLU slopes (0.25) lie in [0, 1]: max(x, a*x)
    assert f"{prelus} as max(x, a*x)" in "\n".join(r.lines())
    text = "\n".join(r.lines())
    assert f"{convs} Conv" in text and "0 BatchNormalization" in text and "ORT_ENABLE_ALL" in text
    assert "dynamic batch axis" in text and "nchwc" in "".join(r.ort_histogram)


@pytest.mark.slow  # a dynamo export: seconds
def test_the_file_runs_in_onnxruntime_at_batch_1_and_8(tiny):
    plan, r, path = tiny
    names = [c.what for c in r.comparisons]
    assert "ONNX Runtime vs unfolded PyTorch" in names and "ONNX Runtime vs unfolded PyTorch, batch 8" in names
    sess = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].shape[0] == "batch"
    for b in (1, 8):
        (y,) = sess.run(None, {"x": torch.randn(b, *plan.input).numpy()})
        assert y.shape == (b, 6)


@pytest.mark.slow  # a dynamo export: seconds
def test_checks_run_on_outputs_of_order_one(tiny):
    _, r, _ = tiny
    assert all(c.ref_max_abs > 0.1 for c in r.comparisons)  # calibrated BN: not the 1e-5 of a fresh network
    assert all(c.max_abs_diff <= c.tolerance * c.ref_max_abs for c in r.comparisons)


def test_the_onnx_check_fails_on_a_broken_graph(write_table):
    plan = archlab.plan(write_table(NET))
    module = archlab.build(plan, inplace=False).eval()
    calibrate_bn(module, torch.randn(8, *plan.input))
    x = torch.randn(1, *plan.input)
    good = export_onnx(module, x, exporter="torchscript")  # the faster exporter: the check is the same
    assert check_onnx(good.data, module, x).ok
    model = onnx.load_from_string(good.data)
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    init = next(i for i in model.graph.initializer if i.name == conv.input[1])
    init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 1.05, init.name))  # one conv 5% off
    bad = check_onnx(model.SerializeToString(), module, x)
    assert not bad.ok and "FAILED" in bad.line()


def test_the_tolerance_is_relative():
    assert not Comparison("tiny outputs", 2e-9, 1e-5, 1e-4).ok  # 2e-4 of the outputs: fails
    assert Comparison("large outputs", 2e-4, 10.0, 1e-4).ok
    assert not Comparison("all zero, any difference", 1e-12, 0.0, 1e-4).ok


@pytest.mark.parametrize(
    "slopes, form",
    [((-0.5, 0.5), "relu-min"), ((0.0, 1.0), "max"), ((0.25, 0.25), "max"), ((0.1, 1.5), "relu-min")],
)
def test_decomposed_prelu_is_prelu_exactly(slopes, form):
    p = torch.nn.PReLU(5)
    with torch.no_grad():
        p.weight.copy_(torch.linspace(*slopes, 5))
    d = DecomposedPReLU(p)
    assert d.form == form  # max(x, a*x) only where it is the same function: every slope in [0, 1]
    g = torch.Generator().manual_seed(0)
    for shape in ((3, 5, 4, 4), (3, 5)):
        x = torch.randn(*shape, generator=g) * torch.logspace(-30, 30, shape[-1]).view(*([1] * (len(shape) - 1)), -1)
        x.view(-1)[:2] = torch.tensor([0.0, -0.0])
        assert torch.equal(d(x), p(x)) if form == "max" else torch.allclose(d(x), p(x), atol=1e-7, rtol=1e-6)


@pytest.mark.slow  # a dynamo export: seconds
def test_prelu_can_be_kept_and_the_histogram_names_every_op(tiny):
    plan, _, path = tiny
    module = archlab.build(path.parent / "tiny.yaml", fold_bn=True).eval()
    e = export_onnx(module, torch.randn(1, *plan.input), prelu="keep", dynamic_batch=False)
    assert e.histogram["PRelu"] == sum(1 for layer in plan.layers if layer.kind == "prelu")
    assert "0 BatchNormalization" in histogram_text(e.histogram) and not e.dynamic_batch
    sess = ort_session(e.data)
    assert sess.get_inputs()[0].shape[0] == 1


@pytest.mark.slow
def test_mobilefacenet_graph_has_no_batchnorm_and_runs_at_batch_1_and_8(tmp_path, single_threaded_torch):
    r = export(archlab.plan("mobilefacenet"), onnx=tmp_path / "mfn.onnx")
    assert r.ok, r.failures
    assert r.onnx_histogram.get("BatchNormalization", 0) == 0 and r.onnx_histogram["Conv"] == 49
    assert r.ort_histogram.get("BatchNormalization", 0) == 0
    sess = onnxruntime.InferenceSession(str(tmp_path / "mfn.onnx"), providers=["CPUExecutionProvider"])
    for b in (1, 8):
        (y,) = sess.run(None, {"x": torch.randn(b, 3, 112, 112).numpy()})
        assert y.shape == (b, 128)
    assert {c.what for c in r.comparisons} >= {
        "ONNX Runtime vs unfolded PyTorch",
        "ONNX Runtime vs unfolded PyTorch, batch 8",
    }
