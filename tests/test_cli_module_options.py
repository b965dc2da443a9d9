"""--arg/--strict on the analysis commands (show, profile, diff, compare, rf; issue 12): a module source built
with arguments gives the counts of that module, ops without a rule are refused with --strict naming them, and
--arg on a table (or on several compare entries) is one line with exit 2. Also compare --input/--columns and rf
--fmap-end/--key-map auto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import archlab
from tests.helpers.cli import one_line_error
from tests.helpers.small_models import params_of, write_small

pytestmark = pytest.mark.usefixtures("single_threaded_torch")
UNRULY = f"{Path(__file__).resolve().parent}/helpers/modules.py:Unruly"
RESNET = f"{Path(__file__).resolve().parent.parent}/examples/models/resnet.py:resnet18"


@pytest.fixture
def small(tmp_path) -> str:
    return f"{write_small(tmp_path)}:small"


def test_profile_builds_the_module_with_arg(cli, small):
    r = cli("profile", small, "--input", "32x32", "--arg", "width=4", "--arg", "classes=3", "-f", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["totals"]["params"] == params_of(4, 3)


def test_show_lists_a_modules_traced_rows(cli, small):
    r = cli("show", small, "--input", "32x32", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    plan = archlab.trace(archlab.load_module(small), (32, 32))
    assert [row["layers"] for row in d["rows"]] == [list(row.layers) for row in plan.rows]
    assert d["rows"][-1]["out"] == [5] and d["uncounted"] == {}
    r = cli("show", small, "--input", "32x32", "--arg", "classes=9")
    assert r.exit_code == 0 and "a traced torch module" in r.stdout


def test_diff_gives_b_the_args_and_a_its_own(cli, small):
    r = cli("diff", small, small, "-A", "input=32x32", "--input", "32x32", "--arg", "classes=7", "-f", "json")
    assert r.exit_code == 0, r.output
    totals = json.loads(r.stdout)["totals"]
    assert totals["params"]["a"] == params_of() and totals["params"]["b"] == params_of(classes=7)
    r = cli("diff", small, small, "-A", "input=32x32", "--input", "32x32", "--a-arg", "classes=7", "-f", "json")
    assert json.loads(r.stdout)["totals"]["params"]["a"] == params_of(classes=7)


def test_compare_traces_module_entries_at_input(cli, small):
    r = cli("compare", small, "mobilefacenet", "--input", "32x32", "--arg", "width=4", "-f", "json")
    assert r.exit_code == 0, r.output
    records = json.loads(r.stdout)["records"]
    assert records[0]["totals"]["params"] == params_of(4)
    assert records[1]["input"] == [3, 112, 112]  # --input is the modules': a table keeps its own
    r = cli("compare", small, "mobilefacenet", "--input", "32x32", "--columns", "quantity,mobilefacenet")
    assert r.exit_code == 0, r.output
    assert "mobilefacenet" in r.stdout and "Small" not in r.stdout and "small" not in r.stdout.split("\n", 2)[1]


def test_strict_names_the_ops_on_every_command(cli):
    for args in (
        ("profile", UNRULY, "--input", "16x16"),
        ("show", UNRULY, "--input", "16x16"),
        ("diff", UNRULY, UNRULY, "-A", "input=16x16", "--input", "16x16"),
        ("compare", UNRULY, "--input", "16x16"),
        ("rf", UNRULY, "--input", "16x16"),
    ):
        one_line_error(cli(*args, "--strict"), "torch.cumsum", "(strict)")
    assert cli("profile", UNRULY, "--input", "16x16").exit_code == 0  # without --strict: listed, not refused


def test_arg_needs_a_module_source(cli, small, tiny_table):
    table = tiny_table("embedding")
    for command in ("profile", "show", "rf"):
        one_line_error(cli(command, table, "--arg", "width=4"), "--arg", "expected FILE.py:CALLABLE")
    one_line_error(cli("diff", small, table, "--arg", "classes=2"), "--arg", "expected FILE.py:CALLABLE")
    one_line_error(cli("compare", small, small, "--input", "8x8", "--arg", "width=2"), "--arg", "2 given")
    one_line_error(cli("compare", small, "--input", "8x8", "--arg", "size=2"), "takes no argument 'size'")


def test_rf_on_a_module_at_its_fmap_end(cli):
    args = ("--input", "64x64", "-n", "1", "--fmap-units", "key", "-q", "-f", "json")
    r = cli("rf", RESNET, "--fmap-end", "layer3.1.relu_1", *args)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["fmap_end"]["layer"] == "layer3.1.relu_1" and d["fmap_end"]["shape"] == [256, 4, 4] and d["heads"] == {}
    one_line_error(cli("rf", RESNET, "--fmap-end", "nope", *args), "--fmap-end", "nope")
    one_line_error(cli("rf", RESNET, "--max-memory", "1K", *args), "--max-memory")


def test_rf_loads_a_checkpoint_into_the_extracted_table_with_key_map_auto(cli, tmp_path):
    checkpoint = tmp_path / "r18.pth"
    torch.save(archlab.load_module(RESNET).state_dict(), checkpoint)
    table = tmp_path / "r18.yaml"
    assert cli("extract", RESNET, "--input", "64x64", "-o", table).exit_code == 0
    r = cli("rf", table, "--head", "none", "--weights", checkpoint, "--key-map", "auto", "-n", "1", "-q", "-f", "json")
    assert r.exit_code == 0, r.output
    assert str(checkpoint) in json.dumps(json.loads(r.stdout))


def test_rf_on_a_module_whose_corners_see_no_face_says_the_ratio_is_undefined(cli, small):
    """The small model's FMap-end units see 7x7 px: the corner units' ERFs hold none of the face region, so the
    centre/corner ratio has no value (was: ZeroDivisionError, exit 1). The module's own weights are 'own'."""
    r = cli("rf", small, "--input", "32x32", "-n", "2", "-q", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    grid = d["units"]
    assert grid["weights"] == "own"
    assert "undefined" in grid["face_share_centre_corner"]["verdict"]
    text = cli("rf", small, "--input", "32x32", "-n", "2", "-q")
    assert text.exit_code == 0 and "none of the face region" in text.output
