"""Ops archlab has no rule for (archlab.ir.plan.uncounted): listed by name and count in every output, never
counted as zero in silence; strict mode refuses them (issue 12). The module here calls a custom autograd
Function, torch.cumsum and torch.fft.rfft2."""

from __future__ import annotations

import json

import pytest
import torch

import archlab
from archlab.errors import ArchlabError
from tests.helpers.modules import Unruly, outputs, relative_difference

pytestmark = pytest.mark.usefixtures("single_threaded_torch")
MISSING = {"tests.helpers.modules.Doubler.apply": 1, "torch.cumsum": 1, "torch.fft.rfft2": 1, "Tensor.abs": 1}


def test_ops_without_a_rule_are_opaque_layers_listed_by_name_and_count():
    plan = archlab.trace(Unruly().eval(), (16, 16))
    assert plan.uncounted() == MISSING and plan.notes == ("traced with torch.fx",)
    assert plan.layer("Doubler").fn == "tests.helpers.modules.Doubler.apply"  # one call, named by its Function
    layer = plan.layer("cumsum")
    assert (layer.op, layer.fn, layer.out_shape, layer.madds, layer.other_ops) == (
        "opaque",
        "torch.cumsum",
        (8, 16, 16),
        0,
        0,
    )
    assert plan.layer("rfft2").out_shape == (8, 16, 9)  # the shape as traced
    assert plan.totals()["madds"] == 8 * 3 * 9 * 16 * 16  # the conv's: the rest is listed, not counted


def test_the_walk_lists_them_too(monkeypatch):
    import archlab.nn.trace as tracing

    monkeypatch.setattr(tracing, "_fx_graph", lambda module: (_ for _ in ()).throw(RuntimeError("forced")))
    plan = tracing.trace(Unruly().eval(), (16, 16))
    assert plan.notes[0].startswith("traced by running the module once")
    assert plan.uncounted() == MISSING and plan.layer("Doubler").out_shape == (8, 16, 16)


def test_every_output_lists_them():
    module = Unruly().eval()
    prof = archlab.profile(module, input=(16, 16))
    data = prof.to_dict()
    assert data["uncounted"] == MISSING
    line = next(n for n in data["notes"] if n.startswith("not counted"))
    assert "torch.cumsum x1" in line and "tests.helpers.modules.Doubler.apply x1" in line
    assert archlab.memory(module, input=(16, 16)).to_dict()["uncounted"] == MISSING
    fields = prof.receptive_fields()
    assert fields["conv"].known and not fields["cumsum"].known and fields["cumsum"].label().endswith("?")


@pytest.mark.slow
def test_the_check_lists_them_and_compares_the_rest():
    report = archlab.crosscheck(Unruly().eval(), input=(16, 16))
    assert report.uncounted == MISSING and report.to_dict()["uncounted"] == MISSING
    assert report.ok, report.failures


def test_strict_refuses_them_in_one_line():
    with pytest.raises(ArchlabError, match=r"^Unruly: not counted .*torch\.cumsum x1.*\(strict\)$"):
        archlab.profile(Unruly(), input=(16, 16), strict=True)
    with pytest.raises(ArchlabError, match="strict"):
        archlab.trace(Unruly(), (16, 16), strict=True)
    archlab.profile("mobilenetv2", strict=True)  # a table with rules for everything passes


def test_the_build_calls_them_again():
    module = Unruly().eval()
    plan = archlab.plan(module, input=(16, 16))
    x = torch.randn(1, 3, 16, 16)
    assert relative_difference(outputs(archlab.build(plan), x), outputs(module, x)) <= 1e-6


def test_a_table_can_name_a_torch_function_and_nothing_else(write_table):
    recipe = json.dumps({"args": [{"tensor": 0}, 1], "kwargs": {}, "item": None})
    row = {"type": "layer", "op": "opaque", "fn": "torch.cumsum", "shape": [4, 8, 8], "args": recipe}
    path = write_table(f"name: t\ninput: [8, 8]\nrows:\n  - {{type: conv, c: 4, k: 3}}\n  - {json.dumps(row)}\n")
    assert archlab.plan(path).uncounted() == {"torch.cumsum": 1}
    net = archlab.build(path).eval()
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 8, 8)).shape == (1, 4, 8, 8)
    row["fn"] = "torch.load"
    bad = write_table(f"name: t\ninput: [8, 8]\nrows:\n  - {json.dumps(row)}\n", "bad.yaml")
    with pytest.raises(ArchlabError, match="archlab will not call 'torch.load'"):
        archlab.build(bad)
