"""archlab.render.latency_table and roofline_plot on hand-built reports (tests/helpers/latency_records.py, no
measurement): a fused runtime's layers read 'into' the layer that computes them, the time in no layer and the
framework's time add up to the end-to-end median, % of bound per op class, the JSON fields, a runtime without
per-layer times, tables at 60/80/120 columns, and the roofline figure's one roof per memory level."""

from __future__ import annotations

import pytest

import archlab
from archlab.render.latency_table import class_table, latency_table, merges, profile_latency_data
from archlab.render.tables import Table
from archlab.static.counts import Profile
from tests.helpers import latency_records as records
from tests.helpers import tables
from tests.helpers.widths import assert_numbers_whole


@pytest.fixture
def plan(tmp_path):
    return archlab.plan(tables.write(tmp_path, "embedding"))


def column(t: Table, name: str) -> list:
    i = t.columns.index(name)
    return [row[i] for row in t.rows]


def test_fused_layers_read_into_the_layer_that_computes_them(plan):
    r = records.fused_report(plan)
    t = latency_table(r, "layer", plan)
    folds = {p.bn: p.into for p in plan.fold_pairs()}
    by_name = {row[0]: dict(zip(t.columns, row)) for row in t.rows}
    assert folds and all(by_name[bn]["merged"] == f"into {into}" for bn, into in folds.items())
    assert all(by_name[bn]["bound"] == "folded" and by_name[bn]["ms"] is None for bn in folds)
    for into in set(folds.values()):
        covered = [bn for bn, x in folds.items() if x == into]
        assert by_name[into]["merged"] == "+ " + " + ".join(covered)
        assert by_name[into]["level"] == "L1"  # tiny tensors: every footprint fits the fake 48 KiB L1
    assert merges(r, plan) == {bn: ("folded", into) for bn, into in folds.items()}
    assert any("11 BN layers folded into the conv/linear before them" in n for n in t.notes)


def test_time_in_no_layer_and_between_layers_add_up_to_end_to_end(plan):
    r = records.fused_report(plan)
    for depth in ("layer", "row"):
        t = latency_table(r, depth, plan)
        names = column(t, t.columns[0])
        ms = dict(zip(names, column(t, "ms")))
        assert ms["not in a layer: (reorder)"] == records.REORDER_MS
        assert ms["framework (between layers)"] == pytest.approx(r.framework_ms - records.REORDER_MS)
        parts = sum(v for k, v in ms.items() if v is not None and k != "total (end-to-end)")
        assert parts == pytest.approx(ms["total (end-to-end)"]) and ms["total (end-to-end)"] == r.e2e.median


def test_percent_of_bound_per_op_class(plan):
    r = records.fused_report(plan)
    t = class_table(r)
    assert t is not None and column(t, "class") == ["depthwise", "pointwise", "other"]
    for b, row in zip(r.by_class(), t.rows):
        d = dict(zip(t.columns, row))
        assert d["layers"] == b.layers and d["ms"] == b.latency_ms and d["bound ms"] == b.bound_ms
        assert d["% of bound"] == pytest.approx(100 * b.bound_ms / b.latency_ms)
    # 3 depthwise convs + the GDConv; the 1x1 convs; everything else that runs (act, add, flatten, the stem, linear)
    assert [b.layers for b in r.by_class()] == [4, 5, 12]


def test_a_runtime_without_per_layer_times_shows_the_total_only(plan):
    r = records.end_to_end_only(plan)
    t = latency_table(r, "layer", plan)
    assert column(t, "name") == ["total (end-to-end)"] and t.rows[0][3] == r.e2e.median
    assert class_table(r) is None
    assert not any("folded into" in n for n in t.notes)


def test_profile_json_carries_the_merges_levels_and_classes(plan):
    r = records.fused_report(plan)
    data = profile_latency_data(Profile.from_plan(plan).to_dict(), r, plan)
    layers = {d["name"]: d for d in data["layers"]}
    for p in plan.fold_pairs():
        assert layers[p.bn]["merged"] == "folded" and layers[p.bn]["merged_into"] == p.into
        assert p.bn in layers[p.into]["covers"] and layers[p.into]["level"] == "L1"
    assert {d["op_class"] for d in data["layers"]} == {"depthwise", "pointwise", "other"}
    lat = data["latency"]
    assert lat["unattributed_ms"] == {"(reorder)": records.REORDER_MS} and lat["clock"] == "cpu"
    assert [b["op_class"] for b in lat["by_class"]] == ["depthwise", "pointwise", "other"]
    assert "1 thread by default: a test note" in lat["notes"] and lat["lines"] == r.overhead_lines()
    assert [lv["name"] for lv in lat["ceilings"]["levels"]] == ["L1", "L2", "DRAM"]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_latency_tables_never_cut_a_number(plan, width):
    r = records.fused_report(plan)
    for t in (latency_table(r, "layer", plan), latency_table(r, "row", plan), class_table(r)):
        assert t is not None
        assert_numbers_whole(t, width)


def test_roofline_figure_draws_one_labelled_roof_per_level(plan, tmp_path, monkeypatch):
    from archlab.render import output
    from archlab.render.report_plots import MIN_TEXT_PT
    from archlab.render.roofline_plot import roofline_figure

    figures = []
    real = output.save_figure
    monkeypatch.setattr(output, "save_figure", lambda fig, path, **kw: figures.append(fig) or real(fig, path, **kw))
    drawn = roofline_figure(records.fused_report(plan), tmp_path / "roof.png", dpi=40)
    assert (tmp_path / "roof.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and drawn["points"] > 0
    fig = figures[0]
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    roofs = [x for x in labels if " roof: " in x]
    assert [x.split(" roof")[0] for x in roofs] == ["L1", "L2", "DRAM"]
    assert "L1 roof: 180 GB/s copy (fits 48 KiB)" in roofs and "DRAM roof: 4.5 GB/s copy" in roofs
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text")) if t.get_text()]
    assert texts and min(t.get_fontsize() for t in texts) >= MIN_TEXT_PT
