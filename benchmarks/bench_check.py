"""`profile --check` cost: every shipped network at full size, torch at 1 intra-op thread vs the default.

Prints, per network, the wall time of archlab.nn.tools.crosscheck with threads=1 and with
threads=None (torch's default), measured side by side in this one run, and their ratio. Absolute times
depend on the machine and its load; the ratio is the point.

    .venv/bin/python benchmarks/bench_check.py [NAME ...]
"""

from __future__ import annotations

import sys
import time

import archlab
from archlab.nn.tools import crosscheck
from archlab.spec import registry


def timed(plan, threads) -> tuple[float, bool]:
    t = time.perf_counter()
    report = crosscheck(plan, threads=threads)
    return time.perf_counter() - t, report.ok


def main(names: list[str]) -> None:
    import torch

    default = torch.get_num_threads()
    crosscheck(archlab.plan("mobilefacenet", input="32x32"))  # warm-up: imports, first-call costs
    print(f"{'network':22s} {'1 thread':>9s} {f'{default} threads':>10s} {'ratio':>6s}  ok")
    tot1 = totd = 0.0
    for name in names or registry.names():
        plan = archlab.plan(name)
        t1, ok1 = timed(plan, 1)
        td, okd = timed(plan, None)
        tot1, totd = tot1 + t1, totd + td
        print(f"{name:22s} {t1:8.2f}s {td:9.2f}s {td / t1:6.2f}  {ok1 and okd}", flush=True)
    print(f"{'all':22s} {tot1:8.2f}s {totd:9.2f}s {totd / tot1:6.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
