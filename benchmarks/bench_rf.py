"""How long does `archlab rf mobilefacenet --head all` (N = 8) take, and what makes the unit grid affordable?

1. Side by side, interleaved in one process: the input gradient of one FMap-end unit on the measuring canvas
   (352x352 for MobileFaceNet at 112x112) through the network as built, and through the same network after
   ``for_input_gradients`` (BN folded into its conv, PReLU with an input-only backward). Same weights, same
   forward graph; prints the median per-unit time of each and their ratio (and checks the gradients agree).
   Then 14 units' gradients (two rows of the grid) computed one after another with torch's intra-op threads,
   against what ``rf_study`` does: single-threaded kernels, one worker thread per core over the shared graph.
2. The default command end to end, in a subprocess (imports, 49 units x 8 samples, 3 heads x 8 samples,
   two figures): wall and CPU seconds and the ratio to the 60 s budget of issue 4.

    .venv/bin/python benchmarks/bench_rf.py [--rounds 5] [--samples 8] [--skip-cli]

The machine may be shared: the ratio in (1) is robust to that, the absolute time in (2) is not; its CPU
seconds (divided by the 2 cores) show what it would take on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 60.0


def unit_gradient_ratio(rounds: int) -> None:
    import torch

    import archlab
    from archlab.ir.structure import fmap_end, truncate
    from archlab.nn.build import build_plan
    from archlab.nn.erf import for_input_gradients, init_weights
    from archlab.nn.erf import frozen as _prepare
    from archlab.static.receptive import canvas_margins, receptive_fields

    plan = archlab.plan("mobilefacenet")
    fmap = fmap_end(plan)
    rf = receptive_fields(plan.layers)[fmap]
    top, bottom, left, right = canvas_margins(rf, (7, 7), (112, 112), round_end=False)  # as rf_study
    size = (112 + top + bottom, 112 + left + right)
    cplan = truncate(archlab.plan("mobilefacenet", input=f"{size[0]}x{size[1]}"), fmap)
    plain = _prepare(build_plan(cplan))
    init_weights(plain, 0, 0)
    fast = for_input_gradients(plain, cplan)
    x = torch.zeros(1, 3, *size)
    x[0, :, top : top + 112, left : left + 112] = torch.randn(3, 112, 112, generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    outs = {"as built": plain(x), "for_input_gradients": fast(x)}
    units = [(i, j) for i in range(7) for j in range(7)]
    grads = {}
    times = {k: [] for k in outs}
    for r in range(rounds):
        order = list(outs) if r % 2 == 0 else list(outs)[::-1]
        for name in order:
            i, j = units[(r * 7) % 49]
            cot = torch.zeros_like(outs[name])
            cot[0, :, i + top // 16, j + left // 16] = 1
            t = time.perf_counter()
            (g,) = torch.autograd.grad(outs[name], x, cot, retain_graph=True)
            times[name].append(time.perf_counter() - t)
            grads.setdefault(r, {})[name] = g
    worst = max(
        float((d["as built"] - d["for_input_gradients"]).abs().max() / d["as built"].abs().max())
        for d in grads.values()
    )
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"[1] one unit's input gradient on the {size[0]}x{size[1]} canvas, median of {rounds} interleaved rounds:")
    for k, v in med.items():
        print(f"    {k:22s} {v * 1000:8.1f} ms")
    print(
        f"    ratio for_input_gradients / as built: {med['for_input_gradients'] / med['as built']:.2f} "
        f"(max relative gradient difference {worst:.1e})"
    )

    from archlab.nn.erf import parallel_map as _parallel_map

    y = outs["for_input_gradients"]
    some = units[:14]

    def one(u):
        cot = torch.zeros_like(y)
        cot[0, :, u[0] + top // 16, u[1] + left // 16] = 1
        return torch.autograd.grad(y, x, cot, retain_graph=True)[0]

    threads = torch.get_num_threads()

    def pooled():  # as rf_study: single-threaded kernels, one worker per thread
        torch.set_num_threads(1)
        try:
            return [g for _, g in _parallel_map(one, some, threads)]
        finally:
            torch.set_num_threads(threads)

    ways = {"serial, intra-op threads": lambda: [one(u) for u in some], "_parallel_map": pooled}
    times = {k: [] for k in ways}
    for r in range(max(2, rounds // 2)):
        for name in list(ways) if r % 2 == 0 else list(ways)[::-1]:
            t = time.perf_counter()
            ways[name]()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"    {len(some)} units, {torch.get_num_threads()} threads, median of {len(times['_parallel_map'])} rounds:")
    for k, v in med.items():
        print(f"    {k:26s} {v:6.2f} s")
    print(f"    ratio _parallel_map / serial: {med['_parallel_map'] / med['serial, intra-op threads']:.2f}")


def cli_run(samples: int) -> None:
    exe = Path(sys.executable).with_name("archlab")
    with tempfile.TemporaryDirectory() as out:
        cmd = [str(exe), "rf", "mobilefacenet", "--head", "all", "--samples", str(samples), "--out", out]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        files = sorted(os.listdir(out))
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        raise SystemExit(f"archlab rf failed with exit code {res.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        f"[2] {' '.join(cmd[1:5])} --samples {samples} --out DIR: wall {wall:.1f} s, CPU {cpu:.1f} s "
        f"(CPU / 2 cores = {cpu / 2:.1f} s); wall / budget {BUDGET_S:.0f} s = {wall / BUDGET_S:.2f}; "
        f"figures: {', '.join(files)}"
    )
    load = os.getloadavg()[0]
    if load > 2.5:
        print(f"    note: load average {load:.1f} on {os.cpu_count()} cores while measuring (shared machine)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--skip-cli", action="store_true")
    args = ap.parse_args()
    unit_gradient_ratio(args.rounds)
    if not args.skip_cli:
        cli_run(args.samples)


if __name__ == "__main__":
    main()
