"""Latency anatomy against a roofline that is a lower bound (issues 6 and 17), every runtime that exposes layers.

For each network (default mobilefacenet and mobilenetv2), at 1 thread (per-thread CPU clock):

1. the machine's ceilings: sgemm peak and copy bandwidth per memory level (cached for a day; --remeasure);
2. per runtime (eager, folded, channels-last: the instrumented pass; TorchScript and ONNX Runtime: their
   profilers): end-to-end median, the layers' sum against it, the network's bound (sum over the layers / fused
   groups that run) and the measured time's fraction of it, % of bound per op class, the layer closest to its
   bound;
3. acceptance: no layer above 100% of its bound (a bug in the model: exit 1), and the best runtime's measured
   latency >= 40% of its bound (reported, with the reason when it misses: the rest of the time is in layers far
   from their bound; the per-class line says which).

    .venv/bin/python benchmarks/bench_latency_anatomy.py [--nets mobilefacenet,mobilenetv2] [--budget 15]
        [--runtimes eager,folded,channels-last,torchscript,onnxruntime] [--remeasure]
"""

from __future__ import annotations

import argparse
import sys
import time

BEST_FRACTION = 0.40


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default="mobilefacenet,mobilenetv2")
    ap.add_argument("--budget", type=float, default=15.0, help="seconds of rounds per runtime")
    ap.add_argument("--runtimes", default="eager,folded,channels-last,torchscript,onnxruntime")
    ap.add_argument("--remeasure", action="store_true", help="measure the ceilings again")
    args = ap.parse_args(argv)

    import torch

    import archlab
    from archlab.nn.ceilings import ceilings
    from archlab.nn.latency import latency
    from archlab.timing.machine import load_text, loadavg

    torch.set_num_threads(1)
    ceil = ceilings(1, remeasure=args.remeasure)
    levels = ", ".join(f"{lv.name} {lv.gbs:.0f}" for lv in ceil.memory_levels)
    print(f"1 thread, torch {torch.__version__}; {load_text(loadavg())}")
    print(f"ceilings ({ceil.provenance()}): peak {ceil.peak_gflops:.0f} GFLOP/s, copy GB/s {levels}")
    ok = True
    for net in args.nets.split(","):
        plan = archlab.plan(net)
        reports = {}
        for rt in args.runtimes.split(","):
            t0 = time.monotonic()
            r = latency(plan, runtime=rt, threads=1, budget_s=args.budget, ceilings=ceil)
            reports[rt] = r
            above = r.above_bound()
            ok &= not above
            top = max((x for x in r.layers if x.roof_fraction is not None), key=lambda x: x.roof_fraction or 0)
            classes = "; ".join(f"{b.op_class} {b.fraction:.0%}" for b in r.by_class() if b.fraction is not None)
            print(
                f"{net:14s} {rt:13s} {r.e2e.median:7.3f} ms [{r.e2e.ci_low or 0:.3f}, {r.e2e.ci_high or 0:.3f}] "
                f"layers {r.coverage:6.1%}, bound {r.ideal_ms or 0:.3f} ms = {r.bound_fraction or 0:5.1%} of it; "
                f"closest {top.name} {top.roof_fraction:.0%}; above 100%: {len(above)}; by class: {classes} "
                f"({time.monotonic() - t0:.0f} s)"
            )
            for k, v in r.unattributed.items():
                print(f"{'':29s}not in any layer: {k} {v:.3f} ms")
        best_rt, best = min(reports.items(), key=lambda kv: kv[1].e2e.median)
        frac = best.bound_fraction or 0.0
        meets = frac >= BEST_FRACTION
        why = "" if meets else f" (misses: {_why(best)})"
        print(
            f"{net}: best {best_rt} at {frac:.1%} of its bound: {'>=' if meets else '<'} {BEST_FRACTION:.0%}{why}; "
            f"{load_text(loadavg())}"
        )
    print("acceptance: no layer above 100% of its bound: " + ("ok" if ok else "FAIL"))
    return 0 if ok else 1


def _why(r) -> str:
    """Where the time far from the bound goes: the op classes and work in no layer, by time above their bound."""
    gaps = [
        (b.latency_ms - b.bound_ms, f"{b.op_class} {b.latency_ms:.2f} ms at {b.fraction:.0%}") for b in r.by_class()
    ]
    gaps += [(v, f"{k} {v:.2f} ms, no bound") for k, v in r.unattributed.items()]
    gaps.append((max(r.framework_ms, 0.0), f"between layers {r.framework_ms:.2f} ms"))
    return "; ".join(text for _, text in sorted(gaps, reverse=True)[:3])


if __name__ == "__main__":
    sys.exit(main())
