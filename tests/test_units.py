"""archlab.static.units: --units madds|flops and --batch N, labelled in every output format; JSON counts stay
integers."""

import json

import pytest

from archlab.errors import OptionError
from archlab.static.units import Units

MADDS, OTHER, ACTS, PARAMS = 220_965_376, 9_534_720, 3_205_632, 1_003_136  # mobilefacenet (test_counts.py)


def test_flops_are_twice_madds_in_json(cli):
    data = json.loads(cli("profile", "mobilefacenet", "--units", "flops", "-f", "json").stdout)
    assert data["units"]["compute"] == "flops" and data["units"]["batch"] == 1
    assert data["totals"]["madds"] == MADDS and data["totals"]["flops"] == 2 * MADDS == 441_930_752
    assert all(r["flops"] == 2 * r["madds"] for r in data["rows"])
    assert sum(l["flops"] for l in data["layers"]) == 2 * MADDS
    assert "per_batch" not in data


def test_batch_in_json_keeps_per_image_and_adds_per_batch(cli):
    data = json.loads(cli("profile", "mobilefacenet", "--batch", "8", "--units", "flops", "-f", "json").stdout)
    assert data["totals"]["madds"] == MADDS  # per image, the contract
    per = data["per_batch"]
    assert per["batch"] == 8
    assert per["totals"] == {"madds": 8 * MADDS, "flops": 16 * MADDS, "other_ops": 8 * OTHER, "activations": 8 * ACTS}
    assert all(isinstance(v, int) for v in per["totals"].values())
    assert data["memory"]["peak_bytes"] == 8 * 3_211_264 and data["memory"]["peak_bytes_per_image"] == 3_211_264


def test_table_is_labelled_and_scaled(cli):
    out = cli("profile", "mobilefacenet", "--units", "flops", "--batch", "2").stdout
    assert "units: FLOPs (= 2 x MAdds), per batch of 2 images" in out.splitlines()[1]
    header = next(l for l in out.splitlines() if l.startswith("row"))
    assert " flops " in header and " madds " not in header
    total = next(l for l in out.splitlines() if l.startswith("total"))
    assert f"{4 * MADDS:,}" in total and f"{PARAMS:,}" in total  # params do not scale
    assert f"FLOPs per batch of 2: {4 * MADDS:,} | per image: {2 * MADDS:,}" in out


@pytest.mark.parametrize("fmt, label", [("csv", "flops"), ("md", "FLOPs (= 2 x MAdds)")])
def test_other_formats_are_labelled(cli, fmt, label):
    out = cli("profile", "mobilefacenet", "--units", "flops", "-f", fmt).stdout
    assert label in out
    if fmt == "csv":
        cols = out.splitlines()[0].split(",")
        total = next(l for l in out.splitlines() if l.startswith("total")).split(",")
        assert int(total[cols.index("flops")]) == 2 * MADDS


def test_default_output_unchanged(cli):
    out = cli("profile", "mobilefacenet").stdout
    assert "units:" not in out and " madds " in next(l for l in out.splitlines() if l.startswith("row"))


def test_bad_units_and_batch(cli):
    assert cli("profile", "mobilefacenet", "--batch", "0").exit_code == 2
    assert cli("profile", "mobilefacenet", "--units", "gflops").exit_code == 2
    with pytest.raises(OptionError, match="--batch"):
        Units("madds", 0)
    with pytest.raises(OptionError, match="--units"):
        Units("macs")
    assert Units("flops", 3).scale("madds", 10) == 60 and Units("flops", 3).scale("params", 10) == 10
