"""static/counts.py: published figures hold at the options the table names (``source.published_at``), and only
there. SSDLite's paper figures (MobileNetV2 Table 6: 4.3M params, 0.8B MAdds) are for COCO at 320x320, so the
profile shows the deviation at ``--classes 81 --input 320x320`` and, at the table's defaults (21 classes,
300x300), no deviation but the options to use."""

from __future__ import annotations

import pytest

import archlab
from archlab.render.profile import summary_lines


def test_ssdlite_deviation_at_the_papers_settings():
    p = archlab.profile("ssdlite-mobilenetv2", classes=81, input="320x320")
    assert p.totals["params"] == 4_450_228 and p.totals["madds"] == 847_543_104
    assert p.deviation["params"]["deviation"] == pytest.approx(4_450_228 / 4_300_000 - 1)
    assert p.deviation["madds"]["deviation"] == pytest.approx(847_543_104 / 800_000_000 - 1)
    lines = summary_lines(p)
    assert "published params: 4.3M -> archlab 4,450,228 (+3.5%)" in lines
    assert "published madds: 800M -> archlab 847,543,104 (+5.9%)" in lines
    assert p.published_at == {}


def test_ssdlite_at_its_defaults_names_the_papers_settings_instead():
    p = archlab.profile("ssdlite-mobilenetv2")
    assert p.deviation == {} and p.published == {}
    assert p.published_at == {"classes": 81, "input": [320, 320]}
    text = "\n".join(summary_lines(p))
    assert "published" not in text.split("the published figures hold at")[0]  # no misleading -17%
    assert "the published figures hold at --input 320x320 --classes 81, not at these options" in text


def test_tables_without_published_at_hold_at_their_defaults():
    assert archlab.profile("mobilefacenet").deviation["madds"]["published"] == 221_000_000
    p = archlab.profile("mobilefacenet", width=0.5)
    assert p.deviation == {} and p.published_at == {}  # figures for the defaults only, and no hint to give


def test_rows_carry_their_receptive_field():
    p = archlab.profile("mobilefacenet")
    row7 = next(r for r in p.rows if r.index == 7)
    assert row7.rf.label() == "227" and row7.rf.label("jump") == "16"
    assert "rf" not in row7.to_dict()  # the JSON contract of rows is unchanged
