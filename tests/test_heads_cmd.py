"""`archlab heads` end to end (tiny: 2 steps, 4 + 3 identities): the tables, JSON, resume by (seed, head), the
face grids, bad input; and a trained state_dict from --out loading strictly into `archlab rf --weights`."""

import json

import pytest

from tests.helpers.heads import run_tiny_heads

pytestmark = pytest.mark.slow  # each run trains three heads (a few seconds on a loaded machine)


@pytest.fixture(autouse=True, scope="module")
def _one_thread(single_threaded_torch):
    """Every test here runs torch on one intra-op thread (see conftest)."""


@pytest.fixture(scope="module")
def heads_dir(tmp_path_factory):
    from click.testing import CliRunner

    from archlab.cli.app import app

    out = tmp_path_factory.mktemp("heads") / "run"
    runner = CliRunner()
    res = run_tiny_heads(lambda *a: runner.invoke(app, [str(x) for x in a]), out)
    assert res.exit_code == 0, res.output
    return out, res.stdout


def test_heads_prints_the_study_and_writes_the_folder(heads_dir):
    out, text = heads_dir
    assert sorted(p.name for p in out.iterdir()) == [
        "faces_test.png",
        "faces_train.png",
        "result.json",
        "seed0",
        "study.json",
    ]
    assert sorted(p.name for p in (out / "seed0").iterdir()) == [
        "fc.json",
        "fc.pt",
        "gap.json",
        "gap.pt",
        "gdconv.json",
        "gdconv.pt",
    ]
    assert (out / "faces_train.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "verification on held-out identities (mean ± sd over seeds)" in text
    assert "4 x 10 training, 3 x 10 held-out identities" in text and "3 run(s) trained, 0 resumed" in text
    # the head costs at width 0.125 (FMap-end 64 x 7 x 7, embedding 128): exact, by hand
    lines: dict = {}
    for line in text.splitlines():  # the first table: verification and cost
        if line.split()[:1] in (["gap"], ["gdconv"], ["fc"]):
            lines.setdefault(line.split()[0], line)
    assert "8,448" in lines["gap"]  # linear 64 x 128 + BN1d 2 x 128
    assert "11,712" in lines["gdconv"]  # + depthwise 7 x 7 x 64 + BN 2 x 64
    assert "401,664" in lines["fc"]  # linear 64 x 49 x 128 + BN1d
    assert "gdconv - gap" in text and f"wrote {out / 'faces_test.png'}" in text


def test_heads_resumes_finished_runs_and_emits_json(cli, heads_dir):
    out, _ = heads_dir
    res = run_tiny_heads(cli, out, "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["trained"] == [] and sorted(map(tuple, data["resumed"])) == [(0, "fc"), (0, "gap"), (0, "gdconv")]
    assert [s["head"] for s in data["summaries"]] == ["gap", "gdconv", "fc"]
    assert data["quick"] is False and data["config"]["steps"] == 2


def test_heads_markdown(cli, heads_dir, tmp_path):
    out, _ = heads_dir
    res = run_tiny_heads(cli, out, "-f", "md", "-o", tmp_path / "h.md")
    assert res.exit_code == 0, res.output
    md = (tmp_path / "h.md").read_text()
    assert "## verification on held-out identities" in md and "| gdconv |" in md


@pytest.mark.parametrize("head", ["gdconv", "gap", "fc"])
def test_a_trained_state_dict_loads_strictly_into_rf(cli, heads_dir, head):
    out, _ = heads_dir
    res = cli(
        "rf",
        "mobilefacenet",
        "--width",
        "0.125",
        "--trained-head",
        head,
        "--weights",
        out / "seed0" / f"{head}.pt",
        "--head",
        head,
        "--fmap-units",
        "key",
        "--samples",
        "2",
        "-f",
        "json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["heads"][head]["weights"] == "trained"
    assert data["units"]["weights"] == "trained" and data["units_random"]["weights"] == "random"
    for units in (data["units"], data["units_random"]):
        ratio = units["face_share_centre_corner"]
        assert ratio["n"] == 2 and len(ratio["ci95"]) == 2


def test_a_checkpoint_of_another_head_is_refused_in_one_line(cli, heads_dir):
    out, _ = heads_dir
    res = cli("rf", "mobilefacenet", "--width", "0.125", "--weights", out / "seed0" / "gap.pt", "--samples", "1")
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing key(s)" in lines[0] and "gap.pt" in lines[0]


def test_a_folder_with_other_settings_is_refused(cli, heads_dir):
    out, _ = heads_dir
    res = cli("heads", "mobilefacenet", "--steps", "3", "--seeds", "1", "--out", out)
    assert res.exit_code == 2 and "other settings" in res.stderr and "steps: 2 -> 3" in res.stderr
