"""archlab.studies.sources and the API: every function that takes a table takes a torch module (an nn.Module or
FILE.py:CALLABLE), traced at its input (issue 12)."""

from __future__ import annotations

import pytest
import torch

import archlab
from archlab.errors import ArchlabError
from tests.helpers.modules import reference

pytestmark = pytest.mark.usefixtures("single_threaded_torch")
FACE = (112, 112)


@pytest.fixture(scope="module")
def face():
    return reference("insightface_mobilefacenet")


def test_static_analyses_take_a_module(face):
    table = archlab.profile("mobilefacenet")
    prof = archlab.profile(face, input=FACE)
    assert prof.totals == table.totals and prof.model == "MobileFaceNet"
    assert archlab.memory(face, input=FACE).peak_bytes == archlab.memory("mobilefacenet").peak_bytes
    assert [f.to_dict()["rf"] for f in archlab.output_fields(face, input=FACE)] == [
        {**f.to_dict()["rf"], "known": False} for f in archlab.output_fields("mobilefacenet")
    ]  # the same field, marked unknown after the l2 norm archlab has no rule for
    assert isinstance(archlab.lint(face, input=FACE), list)


def test_diff_and_compare_take_modules_and_sources(face):
    d = archlab.diff(face, "mobilefacenet", a_options={"input": "112x112"})
    assert (d.a.name, d.b.name) == ("MobileFaceNet", "mobilefacenet")
    c = archlab.compare("mobilefacenet", face, "examples/models/resnet.py:resnet18", input=FACE)
    labels = [(r.label, r.totals["madds"], r.fmap_layer, r.fmap_end) for r in c.records]
    assert labels[0][:2] == ("mobilefacenet", 220_965_376) and labels[1] == (
        "MobileFaceNet", 220_965_376, "conv_6_sep.prelu", (512, 7, 7)
    )  # fmt: skip
    assert labels[2][0] == "resnet18" and labels[2][3] == (512, 4, 4)


def test_table_only_options_and_reports_need_a_table(face):
    with pytest.raises(ArchlabError, match=r"^MobileFaceNet: --embedding needs a table: run `archlab extract` first"):
        archlab.plan(face, input=FACE, embedding=256)
    with pytest.raises(ArchlabError, match="archlab report studies a table"):
        archlab.report(face)
    with pytest.raises(ArchlabError, match="unknown option 'widht'"):
        archlab.plan(face, input=FACE, widht=2)


@pytest.mark.slow
def test_crosscheck_joins_the_tools_by_module_path(face):
    report = archlab.crosscheck(face, input=FACE)
    assert report.ok, report.failures
    names = {lc.name for lc in report.layers}
    assert {"conv1.conv", "conv_3.model.0.add", "conv_6_dw.bn", "linear"} <= names  # the module's own paths
    assert report.uncounted == {"torch.norm": 1, "operator.truediv": 1}


@pytest.mark.slow
def test_receptive_fields_of_a_module(face):
    study = archlab.rf(face, input=FACE, samples=1, units=[(0, 0), (3, 3)])
    assert (study.fmap, study.fmap_shape, study.heads) == ("conv_6_sep.prelu", (512, 7, 7), {})
    assert study.weights == "the module's own weights (MobileFaceNet)"
    table = archlab.rf("mobilefacenet", samples=1, units=[(0, 0)], heads=())
    assert study.rf == table.rf  # the same theoretical field at FMap-end
    there = archlab.rf(face, input=FACE, samples=1, units=[(0, 0)], fmap_end="conv_5.model.1.add")
    assert there.fmap_shape == (128, 7, 7)
    with pytest.raises(ArchlabError, match="the head study swaps a table's head"):
        archlab.rf(face, input=FACE, heads=("gap",))
    with pytest.raises(ArchlabError, match="--fmap-end: MobileFaceNet has no layer 'nope'"):
        archlab.rf(face, input=FACE, fmap_end="nope")


@pytest.mark.slow
def test_latency_and_sweep_of_a_module(face, tmp_path):
    report = archlab.latency(face, input=FACE, budget=0.5, threads=1)
    assert report.latency_ms > 0 and {r.name for r in report.layers} >= {"conv1.conv", "linear"}
    source = "examples/models/resnet.py:resnet18"
    result = archlab.sweep(source, inputs=("64x64", "96x96"), threads=(1,), budget=3, out=tmp_path / "s.csv")
    assert [(row["model"], row["input"], row["stem"]) for row in result.rows] == [
        ("resnet18", "64x64", "-"), ("resnet18", "96x96", "-")
    ]  # fmt: skip
    assert int(result.rows[0]["madds"]) == archlab.plan(source, input=(64, 64)).totals()["madds"]
    with pytest.raises(ArchlabError, match="--widths needs a table"):
        archlab.sweep(face, inputs=("112x112",), widths=(0.5,), out=tmp_path / "t.csv")


@pytest.mark.slow
def test_export_of_a_module(face, tmp_path):
    report = archlab.export(face, input=FACE, torchscript=tmp_path / "net.pt", fold_bn=True)
    assert report.to_dict()["model"] == "MobileFaceNet"
    loaded = torch.jit.load(str(tmp_path / "net.pt"))
    x = torch.randn(1, 3, 112, 112)
    with torch.no_grad():
        assert torch.allclose(loaded(x), face(x), rtol=1e-4, atol=1e-5)
