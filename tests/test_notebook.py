"""The notebook API of the result records: a short repr, _repr_html_ (the printed table as HTML) and to_frame()
with named columns (rf and jump where the record has receptive fields)."""

from __future__ import annotations

import pytest

import archlab
from tests.helpers import records


def check_record(rec, columns: set[str], frame=None) -> None:
    text = repr(rec)
    assert len(text.splitlines()) <= 2 and len(text) < 400, text
    html = rec._repr_html_()
    assert html.startswith('<div class="archlab-record">') and "<table>" in html and "</table>" in html
    df = rec.to_frame() if frame is None else frame
    assert columns <= set(df.columns), columns - set(df.columns)
    assert "index" not in df.columns


def test_profile():
    p = archlab.profile("mobilefacenet")
    assert repr(p) == (
        "<Profile mobilefacenet: input 3x112x112, 1,003,136 params, 220,965,376 MAdds, 146 layers in 9 rows>"
    )
    rows = p.to_frame("row")
    check_record(p, {"row", "type", "fields", "out", "params", "madds", "rf", "jump", "rf_h", "jump_w"}, rows)
    assert list(rows["row"])[:2] == [0, 1] and list(rows["row"])[-1] == "head"
    assert rows.set_index("row").loc[7, "rf"] == "227" and rows.set_index("row").loc[7, "jump_h"] == 16
    layers = p.to_frame()
    assert {"name", "op", "rf", "jump"} <= set(layers.columns)
    assert int(layers["madds"].sum()) == 220_965_376 and len(repr(p)) < 200


def test_diff_by_role():
    d = archlab.diff("mobilenetv2", "mobilefacenet")
    df = d.to_frame()
    check_record(d, {"status", "role", "row_a", "row_b", "params_delta", "madds_delta", "rf_a", "rf_b"}, df)
    head = df[df.role == "head"].iloc[0]
    assert head.row_a == "head" and head.row_b == "head"
    assert str(df["params_a"].dtype) == "Int64"  # rows only B has: gaps, still integers
    assert int(df["madds_delta"].sum()) == 220_965_376 - 300_774_272


def test_comparison():
    comp = records.comparison()
    df = comp.to_frame()
    check_record(comp, {"label", "params", "madds", "peak_bytes", "fmap_end", "rf", "jump", "head"}, df)
    assert list(df["label"])[0] == "mobilefacenet" and df.loc[0, "rf"] == "227"


def test_sweep_result():
    result = records.sweep_result()
    df = result.to_frame()
    check_record(result, {"width", "stem", "madds", "median_ms", "ci_low_ms", "ratio_to_baseline"}, df)
    assert len(df) == 18 and df["width"].dtype.kind == "f"


def test_html_falls_back_to_the_repr_without_a_renderer(monkeypatch):
    from archlab.static.display import Display

    monkeypatch.setattr(Display, "renderers", {})
    assert archlab.profile("mobilefacenet")._repr_html_() is None


@pytest.mark.slow
def test_rf_study_and_check_report():
    study = records.small_rf_study()
    check_record(study, {"i", "j", "rf", "jump", "erf_inside", "erf_r50"})
    assert "RFStudy mobilefacenet (input=64x64)" in repr(study)
    report = archlab.crosscheck("mobilefacenet")
    check_record(report, {"name", "madds", "fvcore", "fvcore_minus_madds", "thop_rule", "status"})
    assert set(report.to_frame("row").columns) >= {"row", "madds", "thop_minus_madds"}
    assert repr(report).startswith("<CheckReport mobilefacenet: ok")
