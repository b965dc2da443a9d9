"""`archlab sweep`'s options for issue 17 (archlab/cli/sweep_cmd.py): 1 thread by default and why, --clock,
every runtime (folded and channels-last too), module sources (--arg, --inputs; width, stem and head need a
table), --strict, --max-memory, and bad options as one line. Budgets are tiny; no test asserts a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import one_line_error

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

ROOT = Path(__file__).resolve().parent.parent
MODULE = f"{ROOT}/examples/models/mobilenetv2.py:mobilenet_v2"
MODULE_ARGS = ["--arg", "width_mult=0.25", "--arg", "num_classes=10"]
ONE = ["--widths", "1", "--stems", "2"]


def test_one_thread_by_default_on_the_cpu_clock(cli, tiny_table):
    r = cli("sweep", tiny_table("embedding"), *ONE, "--budget", "1", "--warmup", "0.05", "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [row["threads"] for row in d["rows"]] == [1]
    assert any(n.startswith("threads: 1 by default") for n in d["notes"])
    assert {c["clock"] for c in d["clocks"].values()} == {"cpu"}
    assert "a hard bound" in d["method"]["stop"]


@pytest.mark.slow
def test_folded_and_channels_last_runtimes_on_the_wall_clock(cli, tiny_table):
    args = ["--runtimes", "eager,folded,channels-last", "--clock", "wall", "--budget", "4", "--warmup", "0.05"]
    r = cli("sweep", tiny_table("embedding"), *ONE, *args, "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [row["runtime"] for row in d["rows"]] == ["eager", "folded", "channels-last"]
    assert {c["clock"] for c in d["clocks"].values()} == {"wall"}


@pytest.mark.slow
def test_a_module_source_sweeps_its_inputs(cli):
    r = cli("sweep", MODULE, *MODULE_ARGS, "--inputs", "32x32,16x16", "--budget", "3", "--warmup", "0.05", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["model"] == "mobilenet_v2" and [row["input"] for row in d["rows"]] == ["32x32", "16x16"]
    import archlab

    module = archlab.load_module(MODULE, ["width_mult=0.25", "num_classes=10"])
    for row in d["rows"]:  # the counts of `archlab profile` of the module at that input
        assert row["madds"] == archlab.profile(module, input=row["input"]).totals["madds"]


def test_strict_refuses_ops_without_a_rule_before_timing(cli):
    unruly = f"{ROOT}/tests/helpers/modules.py:Unruly"
    one_line_error(cli("sweep", unruly, "--inputs", "16x16", "--strict", "--budget", "1"), "cumsum", "(strict)")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--runtimes", "eager,tensorrt"], "unknown runtime 'tensorrt'"),
        (["--clock", "sundial"], "--clock"),
        (["--clock", "cpu", "--threads", "2"], "--clock cpu needs 1 thread"),
        (["--budget", "nan"], "not a finite number"),
        (["--max-memory", "1K"], "(--max-memory)"),
        (["--arg", "x=1"], "expected FILE.py:CALLABLE"),
    ],
)
def test_bad_options_are_one_line(cli, tiny_table, args, needle):
    one_line_error(cli("sweep", tiny_table("embedding"), *ONE, "--budget", "1", *args), needle)


@pytest.mark.parametrize(
    "args, needle",
    [
        ([], "a module needs its input size: --inputs"),
        (["--inputs", "32x32", "--widths", "0.5"], "--widths needs a table"),
        (["--inputs", "32x32", "--heads", "gap"], "--heads needs a table"),
    ],
)
def test_a_module_needs_inputs_and_no_table_options(cli, args, needle):
    one_line_error(cli("sweep", MODULE, *MODULE_ARGS, "--budget", "1", *args), needle)
