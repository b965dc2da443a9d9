"""The end-to-end runtime table (archlab.timing.runtime_table / archlab.nn.runtime_table) and deploy
(archlab.studies.deploy): the fastest runtime whose check passed is chosen and written with its evidence."""

import json

import pytest
import torch

import archlab
from archlab.timing.runtime_table import RuntimeRow, RuntimeTable
from archlab.timing.stats import summarize
from tests.helpers import tables

NET = tables.text("prelu_block")  # the embedding table without its dwsep row


def row(rt, ms, ok=True, ratio=None):
    s = summarize([ms] * 6)
    return RuntimeRow(rt, s, s, s, summarize([ratio or 1.0] * 6), 0.0, 1.0, ok, True, "converged", 3, 0.1)


def test_best_is_the_fastest_whose_outputs_match():
    t = RuntimeTable("m", {}, 1, 1, "cpu", [row("eager", 10), row("onnxruntime", 5, ok=False), row("folded", 8)],
                     10.0, 11.0, 6)  # fmt: skip
    assert t.best.runtime == "folded"
    text = "\n".join(t.lines())
    assert "CHECK FAILED" in text and "fastest: folded" in text
    d = t.to_dict()
    assert d["best"] == "folded" and [r["runtime"] for r in d["rows"]] == ["eager", "onnxruntime", "folded"]
    assert json.loads(json.dumps(d)) == d


def test_measure_and_deploy_a_tiny_network(write_table, tmp_path):
    path = write_table(NET)
    torch.set_num_threads(1)
    r = archlab.deploy(path, out=tmp_path, runtimes=("eager", "folded", "torchscript"), budget=1.0)
    t = r.table
    assert {x.runtime for x in t.rows} == {"eager", "folded", "torchscript"}
    assert t.row("eager").ratio.median == 1.0 and t.clock == "cpu" and t.threads == 1
    assert all(x.check_ok for x in t.rows) and all(x.cpu is not None for x in t.rows)
    assert r.runtime == t.best.runtime
    evidence = json.loads((tmp_path / "tiny.deploy.json").read_text())
    assert evidence["runtime"] == r.runtime and evidence["table"]["best"] == r.runtime
    assert (tmp_path / f"tiny.{r.runtime}.pt").exists() or (tmp_path / "tiny.torchscript.pt").exists()
    assert "run it:" in "\n".join(r.lines())


@pytest.mark.slow
def test_deploy_writes_an_onnx_file_that_runs(write_table, tmp_path):
    import onnxruntime

    path = write_table(NET)
    r = archlab.deploy(path, out=tmp_path, runtimes=("onnxruntime",), budget=1.0)
    assert {x.runtime for x in r.table.rows} == {"eager", "onnxruntime"}
    if r.runtime == "onnxruntime":
        sess = onnxruntime.InferenceSession(r.artefact, providers=["CPUExecutionProvider"])
        (y,) = sess.run(None, {"x": torch.randn(2, 3, 16, 16).numpy()})
        assert y.shape == (2, 6)


def test_deploy_needs_a_folder(write_table, tmp_path):
    from archlab.errors import OptionError

    with pytest.raises(OptionError, match="not a folder"):
        archlab.deploy(write_table(NET), out=tmp_path / "missing")
