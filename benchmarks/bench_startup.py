"""Speed goal (issue 17): `archlab profile mobilefacenet` costs at most 0.10x the wall time of
`python -c "import torch"` (median of per-round ratios) and at most 0.25 s of CPU.

Every command runs as a fresh process; the commands are interleaved in a fresh random order every round (so
machine drift hits all alike). Wall time from perf_counter, CPU time from the children's rusage (user + system).
Run: .venv/bin/python benchmarks/bench_startup.py [rounds]
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_RATIO = 0.10
GOAL_CPU_S = 0.25
TORCH = "python -c 'import torch'"


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(rounds: int = 21) -> int:
    archlab = str(Path(sys.executable).parent / "archlab")
    commands = {
        "archlab profile mobilefacenet": [archlab, "profile", "mobilefacenet"],
        "archlab profile mobilefacenet -f json": [archlab, "profile", "mobilefacenet", "-f", "json"],
        "archlab --help": [archlab, "--help"],
        TORCH: [sys.executable, "-c", "import torch"],
    }
    for cmd in commands.values():  # warm the file cache
        run(cmd)
    wall: dict[str, list[float]] = {k: [] for k in commands}
    cpu: dict[str, list[float]] = {k: [] for k in commands}
    ratios: dict[str, list[float]] = {k: [] for k in commands}
    rng = random.Random(0)
    load = os.getloadavg()
    for _ in range(rounds):
        order = list(commands)
        rng.shuffle(order)
        got = {name: run(commands[name]) for name in order}
        for name, (w, c) in got.items():
            wall[name].append(w)
            cpu[name].append(c)
            ratios[name].append(w / got[TORCH][0])
    print(f"{rounds} interleaved rounds; load average {load[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"{'command':40s} {'wall s':>8s} {'CPU s':>7s} {'wall / import torch':>20s}")
    ok = True
    for name in commands:
        ratio = statistics.median(ratios[name])
        print(f"{name:40s} {statistics.median(wall[name]):8.3f} {statistics.median(cpu[name]):7.3f} {ratio:20.3f}")
        if name.startswith("archlab profile"):
            ok &= ratio <= GOAL_RATIO and statistics.median(cpu[name]) <= GOAL_CPU_S
    print(
        f"goal: archlab profile <= {GOAL_RATIO:.2f} x import torch and <= {GOAL_CPU_S} s CPU -> "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 21))
