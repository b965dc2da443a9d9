"""The learned head study at its defaults (MobileFaceNet width 0.125, GAP / GDConv / FC, 3 seeds x 600 steps,
400 x 10 training and 100 x 10 held-out synthetic faces) and its table.

Goal: the full study within 30 minutes wall on 2 cores (2 worker processes, one torch thread each).
Run: .venv/bin/python benchmarks/bench_heads.py [--steps 600] [--seeds 3] [--workers 2] [--out DIR] [--json F]
With --out, finished (seed, head) runs are kept there and skipped when the command is run again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

GOAL_SECONDS = 30 * 60


class ProgressLine:
    """Prints done/total, rate and ETA at most every ``every`` seconds."""

    def __init__(self, every: float = 30.0):
        self.every, self.start, self.last = every, time.perf_counter(), 0.0

    def __call__(self, done: int, total: int, text: str) -> None:
        now = time.perf_counter()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / done * (total - done) if done else float("nan")
        print(
            f"  [{elapsed:6.0f} s] {done}/{total} steps, ETA {eta:5.0f} s, load {os.getloadavg()[0]:.2f}: {text}",
            file=sys.stderr,
            flush=True,
        )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--width", type=float, default=0.125)
    p.add_argument("--out", type=Path, default=None, help="keep runs here (resume by seed and head)")
    p.add_argument("--json", type=Path, default=None, help="also write the study record as JSON")
    args = p.parse_args(argv)

    from archlab.studies.heads import format_study, run_heads_study

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    study = run_heads_study(
        width=args.width,
        steps=args.steps,
        seeds=args.seeds,
        workers=args.workers,
        out=args.out,
        progress=ProgressLine(),
    )
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    print(format_study(study))
    print()
    print(
        f"wall {wall:.0f} s ({wall / 60:.1f} min) for {len(study.trained)} trained runs, "
        f"{len(study.resumed)} resumed; workers {args.workers}, {os.cpu_count()} cores"
    )
    print(
        "load average before "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + " ".join(f"{x:.2f}" for x in load_after)
    )
    if args.json:
        args.json.write_text(json.dumps(study.to_dict(), indent=1) + "\n", encoding="utf-8")
    full = args.steps == 600 and args.seeds == 3 and not study.resumed
    if full:
        verdict = "PASS" if wall <= GOAL_SECONDS else "FAIL"
        print(f"goal: full study <= {GOAL_SECONDS / 60:.0f} min wall: {verdict}")
        return 0 if wall <= GOAL_SECONDS else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
