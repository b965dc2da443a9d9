"""`archlab profile --latency` (archlab/cli/profile_latency.py) end to end on a tiny table: every runtime on
offer, the clock, the 1-thread default and its note, what a folding runtime merged, % of bound per op class,
progress on stderr (none with --quiet), and the options that need --latency. Ceilings from the fake cache
(``cached_ceilings``): no test measures the machine; no test asserts a time."""

from __future__ import annotations

import json

import pytest

from archlab.cli import profile_latency, runtimes_cmd
from tests.helpers.cli import one_line_error

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

FAST = ["--budget", "0.3"]


def test_every_runtime_of_the_library_is_on_offer():
    from archlab.nn.layer_latency import ALL_RUNTIMES
    from archlab.nn.runtimes import RUNTIMES

    assert profile_latency.RUNTIMES == RUNTIMES == tuple(ALL_RUNTIMES) == runtimes_cmd.RUNTIMES


def test_folded_layers_json_default_thread_and_clock(cli, tiny_table, cached_ceilings):
    path = tiny_table("embedding")
    r = cli("profile", path, "--latency", *FAST, "--runtime", "folded", "--depth", "layer", "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    assert r.stderr == ""  # --quiet: no progress
    d = json.loads(r.stdout)
    lat = d["latency"]
    assert lat["threads"] == 1 and lat["runtime"] == "folded" and lat["clock"] == "cpu"  # auto at 1 thread
    assert any(n.startswith("1 thread by default") for n in lat["notes"])
    layers = {x["name"]: x for x in d["layers"]}
    bns = [x for x in d["layers"] if x["op"] == "bn"]
    assert bns and all(x["merged"] == "folded" and not x["ran"] for x in bns)
    for bn in bns:
        into = layers[bn["merged_into"]]
        assert into["op"] in ("conv", "linear") and into["ran"] and into["merged"] is None
    assert [b["op_class"] for b in lat["by_class"]] == ["depthwise", "pointwise", "other"]
    assert all(x["level"] in ("L1", "L2", "DRAM") for x in d["layers"] if x["ran"] and x["bytes"])


def test_wall_clock_and_explicit_threads(cli, tiny_table, cached_ceilings):
    r = cli("profile", tiny_table("embedding"), "--latency", *FAST, "--threads", "1", "--clock", "wall", "-f", "json")
    assert r.exit_code == 0, r.output
    lat = json.loads(r.stdout)["latency"]
    assert lat["clock"] == "wall"
    assert not any(n.startswith("1 thread by default") for n in lat["notes"])  # asked for, not defaulted


def test_table_with_classes_and_progress(cli, tiny_table, cached_ceilings):
    r = cli("profile", tiny_table("embedding"), "--latency", *FAST)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "latency per row (eager)" in out and "framework (between layers)" in out
    assert "% of bound by op class (eager)" in out and "depthwise" in out
    assert "clock: per-thread CPU time" in out and "1 thread by default" in out
    # piped: a line per stage, and one when the work is done
    assert "profile --latency: rounds" in r.stderr and "profile --latency: done in" in r.stderr


def test_csv_is_the_first_table_only(cli, tiny_table, cached_ceilings):
    r = cli("profile", tiny_table("embedding"), "--latency", *FAST, "--depth", "layer", "-f", "csv", "-q")
    assert r.exit_code == 0, r.output
    head = r.stdout.splitlines()[0].split(",")
    assert head[:5] == ["name", "type", "out", "ms", "share %"] and head[-3:] == ["level", "merged", "bound"]
    assert "% of bound" not in r.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--clock", "wall"], "--clock only apply with --latency"),
        (["--max-memory", "1G"], "--max-memory only apply with --latency"),
        (["--runtime", "compile"], "--runtime only apply with --latency"),
        (["--latency", "--runtime", "tensorrt"], "'tensorrt' is not one of"),
        (["--latency", "--clock", "sundial"], "--clock"),
        (["--latency", "--budget", "nan"], "not a finite number"),
        (["--latency", "--max-memory", "1K"], "1.0 kB is available (--max-memory)"),
        (["--latency", "--clock", "cpu", "--threads", "2"], "cpu"),
    ],
)
def test_bad_options_are_one_line(cli, tiny_table, cached_ceilings, args, needle):
    one_line_error(cli("profile", tiny_table("embedding"), *args), needle)


@pytest.mark.slow
def test_onnxruntime_layers_fused_into_their_conv(cli, tiny_table, cached_ceilings):
    r = cli("profile", tiny_table("embedding"), "--latency", *FAST, "--runtime", "onnxruntime", "--depth", "layer")
    assert r.exit_code == 0, r.output
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.split()}
    assert "into 0.0.conv" in rows["0.0.bn"] and "+ 0.0.bn" in rows["0.0.conv"]
    assert "ONNX Runtime's profiler" in r.stdout and "onnxruntime: " in r.stdout


@pytest.mark.slow
def test_compile_is_end_to_end_only(cli, tiny_table, cached_ceilings):
    from archlab.nn.runtimes import has_compiler

    if not has_compiler():
        pytest.skip("torch.compile needs a C++ compiler")
    r = cli("profile", tiny_table("embedding"), "--latency", *FAST, "--runtime", "compile", "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    lat = d["latency"]
    assert lat["source"] == "none" and all(b["layers"] == 0 for b in lat["by_class"])
    assert not any(x["ran"] for x in d["layers"])
    assert any("torch.compile exposes no per-layer times" in n for n in lat["notes"])
