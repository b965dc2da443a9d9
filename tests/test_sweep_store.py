"""The sweep store is one run's at a time (archlab.storage.sweep_store.lock_store, archlab.studies.sweep_resume):
a second sweep on the same --out is refused with the holder's pid, never loses rows, the JSON file says what
really happened, and a run removes the temporary files a killed run left (issue 15)."""

import csv
import json
import os
import subprocess
import sys
import time

import pytest

from archlab.errors import ArchlabError
from archlab.storage.sweep_store import CONFIG_COLUMNS, lock_path, lock_store, sidecar_path
from archlab.studies.sweep_grid import SweepOptions, make_grid
from archlab.studies.sweep_resume import RunStore
from tests.helpers.bounded import env, write_tiny

# the budget is a hard bound that preparation counts against: generous for a loaded machine, and a loose --target
# ends the rounds early on a quiet one
FAST = ["--widths", "0.5,1.0", "--stems", "2", "--budget", "20", "--target", "0.2", "--warmup", "0.02"]
FAST += ["--threads", "1", "-q"]


def test_a_second_lock_on_the_same_store_is_refused_with_the_pid(tmp_path):
    out = tmp_path / "s.csv"
    lock = lock_store(out)
    try:
        assert lock_path(out).read_text().strip() == str(os.getpid())
        with pytest.raises(ArchlabError, match=f"in use by pid {os.getpid()}"):
            lock_store(out)
    finally:
        lock.release()
    assert not lock_path(out).exists()  # no lock file left behind
    lock_store(out).release()  # free again
    lock.release()  # idempotent


def test_a_holder_that_has_not_yet_written_its_pid_is_still_named(tmp_path):
    """Both sweeps starting at once: the refused one may look between the holder's lock and its pid write."""
    import fcntl
    import threading

    out = tmp_path / "s.csv"
    path = lock_path(out)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, the file still empty
    writer = threading.Timer(0.2, lambda: os.write(fd, b"4242\n"))
    writer.start()
    try:
        with pytest.raises(ArchlabError, match="in use by pid 4242"):
            lock_store(out)
    finally:
        writer.join()
        os.close(fd)


def test_two_csvs_sharing_one_json_file_are_one_store(tmp_path):
    a, b = tmp_path / "s.csv", tmp_path / "s.txt"
    assert sidecar_path(a) == sidecar_path(b)
    lock = lock_store(a)
    try:
        with pytest.raises(ArchlabError, match="in use"):
            lock_store(b)
    finally:
        lock.release()


def test_the_lock_is_the_kernels_a_dead_holder_leaves_it_free(tmp_path):
    out = tmp_path / "s.csv"
    code = "import sys, os; from archlab.storage.sweep_store import lock_store; lock_store(sys.argv[1]); os._exit(9)"
    subprocess.run([sys.executable, "-c", code, str(out)], env=env(), timeout=60, check=False)
    assert lock_path(out).exists()  # left behind by a process that died holding it...
    lock_store(out).release()  # ...and free: flock locks die with their process


@pytest.fixture
def grid(tmp_path):
    return make_grid(SweepOptions(str(write_tiny(tmp_path)), widths=(1.0,), stems=("2",), threads=(1,)))


def test_a_run_store_locks_and_cleans_its_own_temporary_files(tmp_path, grid):
    out = tmp_path / "s.csv"
    stale = [tmp_path / ".s.csv.k1ll3d.tmp", tmp_path / ".s.json.k1ll3d.tmp"]
    foreign = tmp_path / ".other.csv.abc.tmp"
    for p in [*stale, foreign]:
        p.write_text("half-written")
    store = RunStore(grid, out, fresh=False)
    try:
        assert not any(p.exists() for p in stale) and foreign.exists()
        with pytest.raises(ArchlabError, match="in use by pid"):
            RunStore(grid, out, fresh=False)
    finally:
        store.close()
    RunStore(grid, out, fresh=False).close()


def test_the_store_unlocks_when_the_run_status_is_final(tmp_path, grid):
    out = tmp_path / "s.csv"
    store = RunStore(grid, out, fresh=False)
    run = {"run_id": "r1", "status": "running"}
    store.start(run)
    with pytest.raises(ArchlabError, match="in use"):
        lock_store(out)
    run["status"] = "complete"
    store.write_meta()
    lock_store(out).release()
    assert json.loads(sidecar_path(out).read_text())["runs"] == [run]


# -- end to end, with the real CLI in subprocesses --------------------------------------------------------------


def sweep(tiny, out, *extra):
    return [sys.executable, "-m", "archlab", "sweep", str(tiny), "--out", str(out), *FAST, *extra]


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_resumed_run_with_nothing_to_do_removes_a_killed_runs_temporary_files(tmp_path):
    tiny = write_tiny(tmp_path)
    out = tmp_path / "s.csv"
    first = subprocess.run(sweep(tiny, out), env=env(), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    stale = tmp_path / ".s.json.k1ll3d.tmp"  # a kill -9 while the JSON file was being written
    stale.write_text('{"half')
    again = subprocess.run(sweep(tiny, out), env=env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert not stale.exists()


def wait_for_lock(out, proc, deadline_s=120.0):
    """Until ``proc`` holds the store (its pid in the lock file) or has ended. A bound, never an assertion."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and proc.poll() is None:
        try:
            if lock_path(out).read_text().strip() == str(proc.pid):
                return
        except OSError:
            pass
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(5))
def test_two_sweeps_on_one_out_lose_no_row(tmp_path, trial):
    """Trials alternate: the second sweep starts once the first holds the store, or both start at once. Either
    way one is refused (exit 2, "in use by pid N") or runs after the other; every measured row is in the CSV
    exactly once and the JSON file has one entry per run that measured, with its true status and count."""
    tiny = write_tiny(tmp_path)
    out = tmp_path / "s.csv"
    a = subprocess.Popen(sweep(tiny, out), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if trial % 2 == 0:
        wait_for_lock(out, a)
    b = subprocess.Popen(sweep(tiny, out), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for name, proc in (("a", a), ("b", b)):
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = (proc.returncode, stderr, proc.pid)
    codes = sorted(code for code, _, _ in results.values())
    assert codes in ([0, 0], [0, 2]), results
    for code, stderr, _ in results.values():
        if code == 2:
            other = [pid for c, _, pid in results.values() if c == 0][0]
            assert f"in use by pid {other}" in stderr and "Traceback" not in stderr
    rows = rows_of(out)
    keys = [tuple(r[c] for c in CONFIG_COLUMNS) for r in rows]
    assert len(keys) == len(set(keys)) == 2  # every configuration exactly once
    runs = json.loads(sidecar_path(out).read_text())["runs"]
    measured = {run["run_id"]: run for run in runs}
    assert all(run["status"] == "complete" for run in runs), runs
    for r in rows:  # each row belongs to a run that says it measured it
        assert r["run_id"] in measured
    assert sum(run["measured"] for run in runs) == len(rows)
    assert not lock_path(out).exists()
    assert not list(tmp_path.glob(".s.*.tmp"))
