"""`archlab ceilings` (archlab/cli/ceilings_cmd.py, render/ceilings.py) on the fake cache (``cached_ceilings``:
PEAK, BW and the levels of tests/helpers/ceilings.py; nothing measured): per-level copy and update bandwidth,
the peak, the load average when measured and the age, in the table, csv and JSON."""

from __future__ import annotations

import json

import pytest

from archlab.render.ceilings import ceilings_table, levels_table, size_text
from tests.helpers import latency_records
from tests.helpers.ceilings import BW, PEAK
from tests.helpers.widths import assert_numbers_whole


def test_json_carries_levels_load_age_and_provenance(cli, cached_ceilings):
    r = cli("ceilings", "-f", "json")  # 1 thread by default: the fake cache's entry
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["threads"] == 1 and d["peak_gflops"] == PEAK and d["bandwidth_gbs"] == BW and d["cached"] is True
    assert [(lv["name"], lv["gbs"]) for lv in d["levels"]] == [("L1", 40 * BW), ("L2", 8 * BW), ("DRAM", BW)]
    assert d["levels"][0]["capacity"] == 48 * 2**10 and d["levels"][-1]["capacity"] is None
    assert d["loadavg"] == [0.5, 0.5, 0.5] and 0 <= d["age_s"] < 3600
    assert d["provenance"].startswith("cached, measured ") and "load average 0.50, 1 thread" in d["provenance"]


def test_table_shows_each_level_the_load_and_the_age(cli, cached_ceilings):
    r = cli("ceilings")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "peak fp32 GFLOP/s" in out and "cached" in out and "load average when measured" in out
    assert "age (hours)" in out and "memory levels (1 thread)" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("L1 ", "L2 ", "DRAM "))}
    assert rows["L1"][1:4] == ["48", "KiB", "180"] and rows["L2"][1:4] == ["2", "MiB", "36.0"]
    assert rows["DRAM"][1:3] == ["4.50", f"{PEAK / BW:.1f}"]  # no capacity: everything beyond the caches


def test_csv_is_the_levels(cli, cached_ceilings):
    r = cli("ceilings", "-f", "csv")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "level,capacity,copy GB/s,update GB/s,ridge FLOP/B,copy working set"
    assert lines[1].startswith(f"L1,{48 * 2**10},{40 * BW}") and lines[3].startswith(f"DRAM,,{BW}")


def test_sizes():
    assert [size_text(n) for n in (512, 48 * 2**10, 2 * 2**20, 33 * 2**19, 3 * 2**30)] == [
        "512 B",
        "48 KiB",
        "2 MiB",
        "16.5 MiB",
        "3 GiB",
    ]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_tables_never_cut_a_number(width):
    c = latency_records.ceilings()
    for t in (ceilings_table(c), levels_table(c)):
        assert_numbers_whole(t, width)


def test_bad_threads_is_one_line(cli, cached_ceilings):
    from tests.helpers.cli import one_line_error

    one_line_error(cli("ceilings", "--threads", "0"), "--threads")
