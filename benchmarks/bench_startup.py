"""Speed goal (issue 2): `archlab profile mobilefacenet` takes at most half the wall time of `import torch`.

Both commands run as fresh processes, interleaved round by round (so machine drift hits both alike); the
script prints the medians and their ratio. Run: .venv/bin/python benchmarks/bench_startup.py [rounds]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL = 0.5


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(rounds: int = 15) -> int:
    archlab = str(Path(sys.executable).parent / "archlab")
    commands = {
        "archlab profile mobilefacenet": [archlab, "profile", "mobilefacenet"],
        "archlab profile mobilefacenet -f json": [archlab, "profile", "mobilefacenet", "-f", "json"],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    }
    for cmd in commands.values():  # warm the file cache
        wall(cmd)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    torch_med = statistics.median(times["python -c 'import torch'"])
    print(f"{'command':42s} {'median s':>9s} {'ratio to import torch':>22s}")
    worst = 0.0
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = med / torch_med
        if name.startswith("archlab"):
            worst = max(worst, ratio)
        print(f"{name:42s} {med:9.3f} {ratio:22.2f}")
    print(
        f"goal: archlab profile <= {GOAL:.2f} x import torch -> {'met' if worst <= GOAL else 'NOT met'} "
        f"(worst ratio {worst:.2f}, {rounds} interleaved rounds)"
    )
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
