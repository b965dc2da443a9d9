"""Speed goal (issue 12): `archlab profile FILE.py:CALLABLE` for a MobileNetV2-sized module costs at most 1.5x
the wall time of `python -c "import torch"` plus building the module.

Every command runs as a fresh process, interleaved round by round (so machine drift hits all alike):

* the baseline: import torch, import the model file, build the module (``mobilenet_v2()``);
* ``archlab profile examples/models/mobilenetv2.py:mobilenet_v2 --input 224x224`` (the CLI);
* the same through the API the way the CLI calls it: ``load_module`` -> ``profile`` -> ``memory`` -> ``lint``
  -> the rendered table (what the click CLI will do);
* the same with ``-f json``.

The script prints the medians and each one's ratio to the baseline. Run:
    .venv/bin/python benchmarks/bench_trace.py [rounds]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL = 1.5
ROOT = Path(__file__).resolve().parent.parent
SOURCE = "examples/models/mobilenetv2.py:mobilenet_v2"
THREADS = "import torch; torch.set_num_threads(1); "

BASELINE = THREADS + (
    "import importlib.util as u; s = u.spec_from_file_location('m', 'examples/models/mobilenetv2.py'); "
    "m = u.module_from_spec(s); s.loader.exec_module(m); m.mobilenet_v2()"
)
API = THREADS + (
    "import archlab.api as api; "
    "from archlab.render.output import emit; "
    "from archlab.render.profile import profile_view; "
    f"m = api.load_module({SOURCE!r}); "
    "p = api.profile(m, input='224x224'); "
    "tables, data, header = profile_view(p, 'row', api.memory(p.plan), api.lint(p.plan), api.units()); "
    "emit(tables, data, 'table', None, header)"
)


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t0


def main(rounds: int = 9) -> int:
    archlab = str(Path(sys.executable).parent / "archlab")
    baseline = "python: import torch + build the module"
    commands = {
        baseline: [sys.executable, "-c", BASELINE],
        "archlab profile FILE.py:CALLABLE (CLI)": [archlab, "profile", SOURCE, "--input", "224x224"],
        "archlab profile ... -f json (CLI)": [archlab, "profile", SOURCE, "--input", "224x224", "-f", "json"],
        "the API, as the CLI calls it": [sys.executable, "-c", API],
    }
    for cmd in commands.values():  # warm the file cache, and fail early if a command does not run
        wall(cmd)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    base = statistics.median(times[baseline])
    print(f"{'command':42s} {'median s':>9s} {'ratio to baseline':>18s}")
    worst = 0.0
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = med / base
        if name != baseline:
            worst = max(worst, ratio)
        print(f"{name:42s} {med:9.3f} {ratio:18.2f}")
    print(
        f"goal: archlab profile FILE.py:CALLABLE <= {GOAL:.2f} x (import torch + build) -> "
        f"{'met' if worst <= GOAL else 'NOT met'} (worst ratio {worst:.2f}, {rounds} interleaved rounds)"
    )
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 9))
