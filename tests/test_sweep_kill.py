"""archlab.studies.sweep_resume and archlab.storage.sweep_store under SIGKILL: kill a sweep, then run the same
command again: no finished row lost or repeated, the CSV valid.

The sweeps run in subprocesses (the real CLI, `python -m archlab sweep`, and a driver script calling
``run_sweep``) on the ``embedding`` tiny table with budgets of seconds. The kill points are made deterministic
by waiting for files the sweep writes, never by sleeping a guessed time.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archlab.storage.sweep_store import COLUMNS, CONFIG_COLUMNS

pytestmark = [
    pytest.mark.slow,  # subprocess sweeps with budgets of seconds
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]

ROOT = Path(__file__).resolve().parents[1]


def sweep_command(*args):
    """The argv of `python -m archlab sweep ARGS` (the real CLI, in a subprocess)."""
    return [sys.executable, "-m", "archlab", "sweep", *map(str, args)]


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        body = list(reader)
    assert tuple(header) == COLUMNS
    assert all(len(r) == len(COLUMNS) for r in body)  # never ragged
    return [dict(zip(COLUMNS, r)) for r in body]


def keys(rs):
    ks = [tuple(r[c] for c in CONFIG_COLUMNS) for r in rs]
    assert len(ks) == len(set(ks)), "a configuration appears twice"
    return set(ks)


def wait_for(pred, proc, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        if proc.poll() is not None:
            return pred()
        time.sleep(0.02)
    return False


@pytest.fixture
def tiny(tiny_table):
    return tiny_table("embedding")


def test_sigkill_while_measuring_then_same_command(cli, tiny, tmp_path):
    out = tmp_path / "s.csv"
    side = out.with_suffix(".json")
    common = ["--stems", "2", "--threads", "1", "--warmup", "0.02", "--out", out, "-q"]
    # a finished earlier run: 2 rows (in-process, to save a start-up)
    done = cli("sweep", tiny, "--widths", "0.5,1", "--budget", "20", "--target", "0.2", *common)
    assert done.exit_code == 0, done.output
    before = rows(out)
    assert len(before) == 2
    # a longer run over more widths (target unreachable, so it runs until its budget); kill it mid-way
    args = [
        tiny,
        "--widths",
        "0.5,1,1.5,2",
        "--stems",
        "2",
        "--threads",
        "1",
        "--budget",
        "2.5",
        "--target",
        "0.0001",
        "--warmup",
        "0.3",
        "--out",
        out,
        "-q",
    ]
    proc = subprocess.Popen(
        sweep_command(*args), env=env(), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        started = wait_for(lambda: side.is_file() and len(json.loads(side.read_text())["runs"]) == 2, proc)
        assert started and proc.poll() is None, (
            f"the sweep ended before it could be killed: {proc.poll()} {proc.stderr.read() if proc.poll() else ''}"
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert rows(out) == before  # nothing lost, nothing half-written
    # the same command again, to the end
    again = cli("sweep", *args)
    assert again.exit_code == 0, again.output
    after = rows(out)
    assert all(r in after for r in before)
    assert len(keys(after)) == 4
    runs = json.loads(side.read_text())["runs"]
    assert [r["status"] for r in runs] == ["complete", "did not finish (killed?)", "complete"]
    assert {r["run_id"] for r in after if r["width"] in ("1.5", "2.0")} == {runs[2]["run_id"]}
    assert not list(tmp_path.glob(".s.csv.*.tmp"))


DRIVER = """
import sys, time
from pathlib import Path
from archlab.studies.sweep import SweepOptions, run_sweep
flag = Path(sys.argv[2])
def on_row(row):
    flag.write_text(row["width"])  # the row is in the CSV already; now hang until killed
    time.sleep(120)
run_sweep(SweepOptions(sys.argv[1], widths=(0.5, 1.0, 2.0), stems=("2", "1"), threads=(1,), warmup=0.02,
                       budget=30, max_samples=6), out=sys.argv[3], on_row=on_row)
"""


def test_sigkill_right_after_a_row_is_written_keeps_it(cli, tiny, tmp_path):
    out = tmp_path / "s.csv"
    flag = tmp_path / "flag"
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(tiny), str(flag), str(out)],
        env=env(),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_for(flag.is_file, proc), proc.stderr.read().decode()[-2000:] if proc.poll() else "no row"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    first = rows(out)
    assert len(first) == 1 and first[0]["width"] == flag.read_text()
    # the same configuration grid through the CLI: the killed run's row is kept, the rest measured once
    again = cli(
        "sweep",
        tiny,
        "--widths",
        "0.5,1.0,2.0",
        "--stems",
        "2,1",
        "--threads",
        "1",
        "--warmup",
        "0.02",
        "--budget",
        "1.5",
        "--out",
        out,
        "-q",
    )
    assert again.exit_code == 0, again.output
    after = rows(out)
    assert first[0] in after and len(keys(after)) == 6
    assert sum(r["run_id"] == first[0]["run_id"] for r in after) == 1
