"""Latency anatomy and the deploy path (issue 6), measured side by side in one run.

1. Per-layer anatomy of a network (default mobilefacenet): the per-layer times' sum against the end-to-end
   median (acceptance: within 30%; the rest is framework overhead), and the instrumented pass's cost.
2. One interleaved run (archlab.timing.rounds.interleaved, eager as the baseline): eager vs BN-folded
   eager vs TorchScript (frozen) vs ONNX Runtime (when installed): medians, 95% CIs, ratios to eager
   measured within rounds, and which runtime is best.
3. The network's time against the roofline ideal: sum over layers of max(flops/peak, bytes/bandwidth), with
   the machine's ceilings measured at the same thread count (cached; --remeasure to refresh).

Run: .venv/bin/python benchmarks/bench_latency_anatomy.py [--net mobilefacenet] [--threads 1] [--budget 60]
Exit code 1 when the anatomy's sum is not within 30% of the end-to-end median.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", default="mobilefacenet")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on a shared 2-core machine more threads measure the others' load)",
    )
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for the runtime rounds")
    ap.add_argument("--anatomy-budget", type=float, default=20.0, help="seconds for the per-layer rounds")
    ap.add_argument("--remeasure", action="store_true", help="measure the ceilings again")
    ap.add_argument(
        "--runtimes",
        default="torchscript,onnxruntime",
        help="comma-separated runtimes besides eager and folded (torchscript, onnxruntime, compile)",
    )
    args = ap.parse_args(argv)

    import random

    import torch

    import archlab
    from archlab.nn.ceilings import ceilings
    from archlab.nn.fold import fold_bn
    from archlab.nn.layer_latency import measure
    from archlab.nn.runtimes import Workshop, require
    from archlab.static.roofline import roofline_ideal_ms
    from archlab.timing import rounds as lat

    plan = archlab.plan(args.net)
    t = args.threads
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(
        f"{args.net}, {t} thread(s), torch {torch.__version__}"
        + (f", load average at start {load[0]:.2f} on {os.cpu_count()} CPUs" if load else "")
    )
    ceil = ceilings(t, remeasure=args.remeasure)
    print(
        f"ceilings ({'cached' if ceil.cached else 'measured'} {ceil.measured_at}): peak {ceil.peak_gflops:.1f} "
        f"GFLOP/s, bandwidth {ceil.bandwidth_gbs:.2f} GB/s, ridge {ceil.ridge:.1f} FLOP/B"
    )

    # 1. anatomy
    t0 = time.monotonic()
    rep = measure(plan, threads=t, budget_s=args.anatomy_budget, ceilings=ceil)
    ok = abs(rep.coverage - 1.0) <= 0.30
    print(
        f"\n[anatomy, {time.monotonic() - t0:.0f} s] end-to-end median {rep.e2e.median:.3f} ms "
        f"[CI {rep.e2e.ci_low:.3f}, {rep.e2e.ci_high:.3f}], {rep.e2e.n} rounds"
    )
    print(
        f"  layers sum {rep.layers_sum.median:.3f} ms = {rep.coverage:.1%} of end-to-end "
        f"(acceptance: within 30%: {'yes' if ok else 'NO'}); framework overhead {rep.framework_ms:+.3f} ms"
    )
    if rep.overhead_ratio is not None:
        r = rep.overhead_ratio
        print(
            f"  instrumented pass / plain forward: {r.median:.3f} [CI {r.ci_low:.3f}, {r.ci_high:.3f}]; clock "
            f"{rep.timer_ns:.0f} ns per layer"
        )
    rows = sorted(rep.rows, key=lambda r: -r.latency_ms)[:4]
    print("  rows taking most time: " + "; ".join(f"row {r.index} ({r.type}) {r.share:.0%}" for r in rows))
    for bound in ("memory", "compute"):
        top = rep.top(bound)
        if top:
            print(
                f"  top {bound}-bound: "
                + "; ".join(f"{x.name} {x.latency_ms:.3f} ms at {x.roof_fraction:.0%} of roof" for x in top)
            )

    # 2. runtimes, interleaved
    ws = Workshop(seed=0)
    key = ("bench",)
    cands = []
    checks = {}
    eager = ws.prepare("eager", key, plan, batch=1, threads=t, channels_last=False)
    base = lat.Candidate("eager", eager.fn, eager.enter)
    cands.append(base)
    folded = fold_bn(ws.module(key, plan, False), plan)
    x = ws.input(plan.input, 1, False)
    with torch.inference_mode():
        ref = ws.reference(key, plan, 1, False, t)
        checks["folded"] = float((folded(x) - ref).abs().max())
    cands.append(lat.Candidate("folded", lambda: folded(x), eager.enter))
    for rt in [r for r in args.runtimes.split(",") if r]:
        try:
            require(rt)
            p = ws.prepare(rt, key, plan, batch=1, threads=t, channels_last=False)
        except Exception as e:  # a runtime that cannot run here is reported, not fatal
            print(f"  {rt}: skipped ({e})")
            continue
        checks[rt] = p.max_abs_diff
        cands.append(lat.Candidate(rt, p.fn, p.enter))
    with torch.inference_mode():
        for c in cands:
            lat.warm_up(c)
        t0 = time.monotonic()
        results, _ = lat.interleaved(cands, base, deadline=time.monotonic() + args.budget, rng=random.Random(0))
    print(f"\n[runtimes, interleaved, {time.monotonic() - t0:.0f} s]")
    print(
        f"  {'runtime':12s} {'median ms':>10s} {'95% CI':>20s} {'ratio to eager':>15s} {'ratio CI':>18s} "
        f"{'max |diff|':>10s}"
    )
    for c in cands:
        res = results[c.key]
        s = res.latency
        r = res.ratio
        ci = f"[{s.ci_low:.3f}, {s.ci_high:.3f}]" if s.ci_low is not None else "-"
        rci = f"[{r.ci_low:.3f}, {r.ci_high:.3f}]" if r and r.ci_low is not None else "-"
        print(
            f"  {str(c.key):12s} {s.median:10.3f} {ci:>20s} {r.median if r else 1.0:15.3f} {rci:>18s} "
            f"{checks.get(c.key, 0.0):10.2e}"
        )
    best = min(cands, key=lambda c: results[c.key].latency.median)
    ideal = roofline_ideal_ms(plan, ceil)
    ideal_folded = roofline_ideal_ms(plan, ceil, skip=frozenset(p.bn for p in folded.folded))
    print(f"  best: {best.key} ({results[best.key].ratio.median if results[best.key].ratio else 1.0:.3f}x eager)")

    # 3. roofline
    print(f"\n[roofline] ideal {ideal:.3f} ms (BN folded away: {ideal_folded:.3f} ms)")
    for c in cands:
        ideal_c = ideal if c.key == "eager" else ideal_folded
        print(f"  {str(c.key):12s} {results[c.key].latency.median / ideal_c:6.2f}x the roofline ideal")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
