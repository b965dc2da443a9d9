"""static/diff.py: one table under two option sets aligns by table order; two different tables align by role
(stem, stages by output stride, FMap-end, outputs, head) and say so; unrelated rows are never paired."""

from __future__ import annotations

import archlab
from archlab.render.diff import diff_lines, diff_table
from archlab.static.diff import BY_ROLE, BY_TABLE, roles
from archlab.static.units import Units


def pairs(d):
    return [(r.role, r.status, r.a.index if r.a else None, r.b.index if r.b else None) for r in d.rows]


def test_roles_of_shipped_tables():
    assert roles(archlab.profile("mobilefacenet")) == [
        "stem",
        "stem",
        "stage /4",
        "stage /8",
        "stage /8",
        "stage /16",
        "stage /16",
        "FMap-end",
        "head",
    ]
    v2 = roles(archlab.profile("mobilenetv2"))
    assert v2[0] == "stem" and v2[1] == "stage /2" and v2[-2:] == ["FMap-end", "head"]
    assert roles(archlab.profile("mobilenetv1"))[-2:] == ["stage /32", "head"]  # its FMap-end is a dwsep stage row
    ssd = roles(archlab.profile("ssdlite-mobilenetv2"))
    assert ssd.count("outputs") == 12 and "head" not in ssd


def test_mobilenetv2_vs_mobilefacenet_pairs_only_within_roles():
    d = archlab.diff("mobilenetv2", "mobilefacenet")
    assert d.alignment == BY_ROLE
    got = pairs(d)
    assert got[0] == ("stem", "changed", 0, 0) and got[1] == ("stem", "added", None, 1)
    assert ("stage /2", "removed", 1, None) in got  # MobileFaceNet has no stride-2 stage after its stem
    assert ("FMap-end", "changed", 8, 7) in got  # the 1280-channel conv and conv6_sep
    assert got[-1] == ("head", "changed", "head", "head")
    for role, _, a, b in got:  # a pair never joins rows of different roles
        if a is not None and b is not None:
            assert role in {"stem", "FMap-end", "head"} or role.startswith("stage /")
    assert sum(r.delta("madds") for r in d.rows) == 220_965_376 - 300_774_272
    text = "\n".join(diff_lines(d, Units()))
    assert "rows aligned by role (two different tables: rows pair only within a role): stem, stage /2" in text
    assert diff_table(d).columns[:2] == ["row", "role"]
    assert d.to_dict()["alignment"]["by"] == "role" and d.to_dict()["rows"][0]["role"] == "stem"


def test_a_variant_table_still_shows_its_removed_row():
    d = archlab.diff("mobilefacenet-m", "mobilefacenet-s")
    assert [r.status for r in d.rows] == ["same"] * 7 + ["removed", "changed"]
    assert d.rows[7].role == "FMap-end"


def test_one_table_aligns_by_table_order():
    d = archlab.diff("mobilefacenet", "mobilefacenet", b_options={"stem_stride": 1})
    assert d.alignment == BY_TABLE and all(r.role == "" for r in d.rows)
    assert [r.status for r in d.rows] == ["changed"] * 9
    assert "role" not in diff_table(d).columns
    assert "rows aligned by table order" in "\n".join(diff_lines(d, Units()))
