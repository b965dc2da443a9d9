"""`archlab report` with the learned head study: which tables it applies to, the section read back from an
`archlab heads --out` folder (--heads-from), and its document (accuracy beside cost, learned maps, ERF random
vs trained)."""

import json

import pytest

import archlab
from archlab.errors import ArchlabError
from archlab.studies.heads import read_heads_study
from archlab.studies.report_learned import applies
from tests.helpers.heads import run_tiny_heads


def test_the_learned_study_applies_to_112x112_face_tables_only(write_table):
    assert applies(archlab.plan("mobilefacenet")) is None
    assert "3x112x96" in applies(archlab.plan("mobilefacenet", input="112x96"))
    assert "no head" in applies(archlab.plan("ssdlite-mobilenetv2"))


def test_reading_a_folder_that_is_no_study_is_one_clear_error(tmp_path):
    with pytest.raises(ArchlabError, match="not a head study folder"):
        read_heads_study(tmp_path)


@pytest.mark.slow
def test_report_from_a_heads_folder(cli, tmp_path, single_threaded_torch):
    heads = tmp_path / "heads"
    assert run_tiny_heads(cli, heads).exit_code == 0
    study = read_heads_study(heads)
    assert study.trained == [] and len(study.resumed) == 3 and study.config["steps"] == 2
    res = cli(
        "report",
        "mobilefacenet",
        "--quick",
        "--samples",
        "1",
        "--dpi",
        "30",
        "--heads-from",
        heads,
        "--out",
        tmp_path / "r.md",
        "--out",
        tmp_path / "r.json",
    )
    assert res.exit_code == 0, res.output
    md = (tmp_path / "r.md").read_text()
    assert "## The head, learned: GAP vs GDConv vs FC trained on drawn faces" in md
    assert "the table the paper argues from, measured" in md and f"read from `{heads}`" in md
    assert f"--heads-from={heads}" in md
    figures = sorted(p.name for p in (tmp_path / "r_files").iterdir())
    assert {"learned_maps.png", "learned_rf_units.png", "learned_rf_heads.png"} <= set(figures)
    data = json.loads((tmp_path / "r.json").read_text())
    rows = {s["head"]: s for s in data["learned"]["summaries"]}
    assert (rows["gap"]["head_params"], rows["gdconv"]["head_params"], rows["fc"]["head_params"]) == (
        8_448,  # width 0.125: linear 64 x 128 + BN1d 2 x 128
        11_712,  # + depthwise 7 x 7 x 64 + BN 2 x 64
        401_664,  # linear 64 x 49 x 128 + BN1d
    )
    rf = data["learned_rf"]
    assert rf["units"]["weights"] == "trained" and rf["units_random"]["weights"] == "random"
    assert rf["heads"]["gdconv"]["weights"] == "trained"
