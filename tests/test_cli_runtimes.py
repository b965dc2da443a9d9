"""`archlab runtimes` and `archlab deploy` (archlab/cli/runtimes_cmd.py, deploy_cmd.py, render/runtimes.py) on a
tiny table: the table, csv and JSON shapes, the file deploy writes and its evidence, --out refused when it is not
a folder, and bad options as one line. Runtimes are limited to eager and folded (no export, no compile) and the
budget is tiny; no test asserts a time."""

from __future__ import annotations

import json

import pytest

from archlab.render.runtimes import CSV_COLUMNS, runtimes_csv, runtimes_view
from tests.helpers import latency_records as records
from tests.helpers.cli import one_line_error
from tests.helpers.widths import assert_numbers_whole

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

FAST = ["--runtimes", "eager,folded", "--budget", "0.3"]


def test_view_is_fastest_first_with_the_librarys_notes():
    table = records.runtime_table()
    t = runtimes_view(table)
    assert [row[0] for row in t.rows] == ["onnxruntime", "folded", "eager"]
    checks = {row[0]: row[t.columns.index("check")] for row in t.rows}
    assert checks == {"onnxruntime": "ok", "folded": "FAILED", "eager": "baseline"}
    lines = table.lines()
    assert t.title == lines[0] and t.notes == lines[2 + len(table.rows) :]
    assert "fastest: onnxruntime (0.658x eager)" in t.notes and "compile: not timed (needs a C++ compiler)" in t.notes
    csv = runtimes_csv(table)
    assert csv.columns == CSV_COLUMNS and [row[0] for row in csv.rows] == ["onnxruntime", "folded", "eager"]
    assert csv.rows[0][CSV_COLUMNS.index("median_ms")] == 0.9876  # full precision


@pytest.mark.parametrize("width", [60, 80, 120])
def test_view_never_cuts_a_number(width):
    assert_numbers_whole(runtimes_view(records.runtime_table()), width)


def test_runtimes_json(cli, tiny_table):
    r = cli("runtimes", tiny_table("embedding"), *FAST, "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    d = json.loads(r.stdout)
    assert [row["runtime"] for row in d["rows"]] == ["eager", "folded"]
    assert d["threads"] == 1 and d["batch"] == 1 and d["clock"] == "cpu" and d["baseline"] == "eager"
    assert d["best"] in ("eager", "folded") and d["budget_s"] == 0.3
    folded = d["rows"][1]
    assert folded["check_ok"] is True and folded["ratio_to_eager"]["median"] > 0
    assert set(folded["latency"]) == {"n", "median", "ci_low", "ci_high", "p10", "p90"}


def test_runtimes_table_and_csv(cli, tiny_table):
    path = tiny_table("embedding")
    r = cli("runtimes", path, *FAST, "--clock", "wall")
    assert r.exit_code == 0, r.output
    assert "tiny: runtimes end to end, 1 thread, batch 1" in r.stdout and "fastest: " in r.stdout
    assert "clock: wall time" in r.stdout and "runtimes: prepare" in r.stderr
    r = cli("runtimes", path, *FAST, "-f", "csv", "-q")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].split(",") == CSV_COLUMNS and len(lines) == 3


def test_deploy_writes_the_fastest_and_its_evidence(cli, tiny_table, tmp_path):
    out = tmp_path / "deploy" / "here"  # made, parents too
    r = cli("deploy", tiny_table("embedding"), "--out", out, *FAST, "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["runtime"] == d["table"]["best"] and d["runtime"] in ("eager", "folded")
    assert d["artefact"] == str(out / f"tiny.{d['runtime']}.pt") and (out / f"tiny.{d['runtime']}.pt").is_file()
    evidence = json.loads((out / "tiny.deploy.json").read_text())
    assert evidence["runtime"] == d["runtime"] and evidence["table"]["rows"] == d["table"]["rows"]
    assert "archlab.build(" in d["recipe"]


def test_deploy_text_says_what_it_wrote(cli, tiny_table, tmp_path):
    r = cli("deploy", tiny_table("embedding"), "--out", tmp_path, *FAST, "-q")
    assert r.exit_code == 0, r.output
    assert "deploy: " in r.stdout and "-> wrote " in r.stdout and f"evidence: {tmp_path}" in r.stdout
    assert "fastest: " in r.stdout and "run it: " in r.stdout


def test_deploy_refuses_an_out_that_is_not_a_folder(cli, tiny_table, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("keep me")
    one_line_error(cli("deploy", tiny_table("embedding"), "--out", f, *FAST), "is not a folder")
    assert f.read_text() == "keep me"


def test_deploy_leaves_no_empty_folder_on_a_bad_network(cli, tmp_path):
    out = tmp_path / "never"
    one_line_error(cli("deploy", "no-such-network", "--out", out, *FAST), "unknown network")
    assert not out.exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--runtimes", "eager,tensorrt"], "unknown runtime 'tensorrt'"),
        (["--runtimes", ","], "give runtimes separated by commas"),
        (["--threads", "0"], "--threads"),
        (["--budget", "inf"], "not a finite number"),
        (["--clock", "sundial"], "--clock"),
        (["--clock", "cpu", "--threads", "2"], "--clock cpu needs 1 thread"),
        (["--max-memory", "1K"], "(--max-memory)"),
    ],
)
@pytest.mark.parametrize("command", ["runtimes", "deploy"])
def test_bad_options_are_one_line(cli, tiny_table, tmp_path, command, args, needle):
    where = ["--out", tmp_path] if command == "deploy" else []
    one_line_error(cli(command, tiny_table("embedding"), *where, *args), needle)


def test_deploy_recipe_for_a_module_built_with_args_runs_as_printed(cli, tmp_path):
    """The recipe makes the module again from its source and arguments, at its input, and loads the artefact."""
    import torch

    from tests.helpers.small_models import write_small

    src = f"{write_small(tmp_path)}:small"
    r = cli("deploy", src, "--input", "32x32", "--arg", "width=4", "--arg", "classes=3", "--out", tmp_path, *FAST)
    assert r.exit_code == 0, r.output
    d = json.loads(cli("deploy", src, "--input", "32x32", "--arg", "width=4", "--arg", "classes=3", "--out",
                       tmp_path, *FAST, "-f", "json", "-q").stdout)  # fmt: skip
    code = d["recipe"].split("; run under")[0]
    assert f"archlab.load_module({src!r}, {{'width': 4, 'classes': 3}})" in code and "input=(3, 32, 32)" in code
    import archlab

    scope = {"archlab": archlab, "torch": torch}
    threads = torch.get_num_threads()
    try:
        exec(code.replace("; ", "\n"), scope)
    finally:
        torch.set_num_threads(threads)
    with torch.inference_mode():
        assert scope["m"](torch.randn(1, 3, 32, 32)).shape == (1, 3)
