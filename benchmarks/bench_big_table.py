"""Speed goal (issue 15): a 20,000-row table profiles in <= 3 s and validates in <= 4 s on 2 cores.

Tables of 100 and 20,000 rows are written to a temp folder and ``archlab profile TABLE -o FILE`` and ``archlab
validate TABLE`` run on each as fresh processes, interleaved round by round (machine drift hits all alike). Each
run is measured twice: its wall time and its CPU time (user + system of the child). On a machine shared with
other jobs the wall time counts their work too; the CPU time is what the command itself needs, the wall time it
would take on 2 idle cores (archlab is single-threaded here). The goal is judged on the median CPU time, and the
ratio to the 100-row table is printed (the time per row should not grow with the table).

Two tables of each size:

* ``conv``: rows ``{type: conv, c: 16, k: 3}`` (3 plan layers each: conv, bn, act): the goal's table;
* ``mixed``: conv, dwsep and bottleneck rows in turn (6 plan layers a row on average), for information.

Run: .venv/bin/python benchmarks/bench_big_table.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"profile": 3.0, "validate": 4.0}
ROWS = {
    "conv": ["{type: conv, c: 16, k: 3}"],
    "mixed": ["{type: conv, c: 16, k: 3}", "{type: dwsep, c: 16}", "{type: bottleneck, t: 2, c: 16, n: 1}"],
}


def write_table(folder: Path, kind: str, n: int) -> Path:
    lines = ["name: big", "input: [112, 112]", "defaults: {norm: bn, act: relu}", "rows:"]
    lines.append("  - {type: conv, c: 16, k: 3, s: 2}")
    lines += [f"  - {ROWS[kind][i % len(ROWS[kind])]}" for i in range(n - 1)]
    lines.append("head: {pool: gap, embedding: {size: 8, layer: linear}}")
    path = folder / f"{kind}{n}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child)."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main(rounds: int = 3) -> int:
    archlab = [sys.executable, "-m", "archlab"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        commands = {}
        for kind in ROWS:
            for n in (100, 20_000):
                table = write_table(folder, kind, n)
                commands[("profile", kind, n)] = [*archlab, "profile", str(table), "-o", str(folder / "out.txt")]
                commands[("validate", kind, n)] = [*archlab, "validate", str(table)]
        measure(commands[("validate", "conv", 100)])  # warm the file cache
        times: dict = {k: [] for k in commands}
        for _ in range(rounds):
            for key, cmd in commands.items():
                times[key].append(measure(cmd))
    print(f"{'command':30s} {'rows':>6s} {'wall s':>8s} {'cpu s':>7s} {'cpu ratio to 100 rows':>22s} {'goal':>8s}")
    met = True
    for (what, kind, n), samples in times.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        small = statistics.median(c for _, c in times[(what, kind, 100)])
        goal = ""
        if n == 20_000 and kind == "conv":
            ok = cpu <= GOALS[what]
            met &= ok
            goal = f"{'met' if ok else 'NOT met'} <= {GOALS[what]:g}"
        print(f"{what + ' (' + kind + ')':30s} {n:6d} {wall:8.2f} {cpu:7.2f} {cpu / small:22.1f} {goal:>8s}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"goal: 20,000 conv rows profile <= {GOALS['profile']:g} s, validate <= {GOALS['validate']:g} s (median CPU "
        f"time, {rounds} interleaved rounds, load average {load:.1f} on {os.cpu_count()} CPUs) -> "
        f"{'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
