"""Every runtime of a network end to end, and the table checked against an independent measurement in the same run.

1. ``archlab.runtime_table(NET)`` (archlab.nn.runtime_table): eager, folded, channels-last, TorchScript, ONNX
   Runtime (and torch.compile with --compile), interleaved rounds at 1 thread on the per-thread CPU clock,
   ratios to eager within rounds, 95% CIs.
2. An independent measurement, written here from plain torch / onnxruntime calls (own modules, own export, own
   session, own timing loop: random order per round, 1 untimed + 3 timed calls per visit, thread_time_ns), half
   of its rounds just before the table and half just after (so a drift of the machine's load hits both alike).
3. Acceptance (issue 17): optimised ONNX Runtime / eager <= 0.70, and every runtime's ratio in the table within
   5% of the independent one. Exit code 1 otherwise.

    .venv/bin/python benchmarks/bench_runtimes.py [--net mobilefacenet] [--budget 60] [--rounds 40] [--compile]
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import time

import torch

import archlab
from archlab.timing.machine import keep_heap, load_text, loadavg
from archlab.timing.stats import summarize

ORT_LIMIT = 0.70
AGREE = 0.05


def independent(net: str, runtimes: list[str], seed: int = 0) -> dict:
    """The same runtimes built from plain torch / onnxruntime calls (not archlab's Workshop)."""
    import onnxruntime as ort

    from archlab.nn.modules import DecomposedPReLU
    from archlab.nn.quiet import quiet

    torch.manual_seed(seed)  # the table's weights: Workshop builds with this seed too
    eager = archlab.build(net).eval()
    from archlab.nn.fold import fold_bn

    folded = fold_bn(eager)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn((1, *eager.plan.input), generator=g)
    xcl = x.contiguous(memory_format=torch.channels_last)
    fns = {"eager": lambda: eager(x), "folded": lambda: folded(x)}
    if "channels-last" in runtimes:
        fcl = copy.deepcopy(folded).to(memory_format=torch.channels_last)
        fns["channels-last"] = lambda: fcl(xcl)
    if "torchscript" in runtimes:
        with torch.no_grad():
            frozen = torch.jit.freeze(torch.jit.trace(eager, x, check_trace=False).eval())
        fns["torchscript"] = lambda: frozen(x)
    if "onnxruntime" in runtimes:
        dec = copy.deepcopy(folded)
        for name, mod in list(dec.named_modules()):
            if isinstance(mod, torch.nn.PReLU):
                parent, _, leaf = name.rpartition(".")
                setattr(dec.get_submodule(parent) if parent else dec, leaf, DecomposedPReLU(mod))
        dec.recompile()
        with quiet():
            prog = torch.onnx.export(dec, (x,), dynamo=True, optimize=True, input_names=["x"])
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = 1, 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sess = ort.InferenceSession(prog.model_proto.SerializeToString(), so, providers=["CPUExecutionProvider"])
        feed = {"x": x.numpy()}
        fns["onnxruntime"] = lambda: sess.run(None, feed)
    if "compile" in runtimes:
        compiled = torch.compile(folded, dynamic=False)
        with torch.inference_mode():
            compiled(x), compiled(x)
        fns["compile"] = lambda: compiled(x)
    return fns


def time_independently(fns: dict, rounds: int, calls: int = 3, seed: int = 1) -> dict[str, list[float]]:
    """Per round, a fresh random order; per visit 1 untimed call and ``calls`` timed ones, on thread_time_ns."""
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {k: [] for k in fns}
    with torch.inference_mode():
        for fn in fns.values():
            for _ in range(5):
                fn()
        for _ in range(rounds):
            order = list(fns)
            rng.shuffle(order)
            for k in order:
                fns[k]()
                t0 = time.thread_time_ns()
                for _ in range(calls):
                    fns[k]()
                samples[k].append((time.thread_time_ns() - t0) / calls / 1e6)
    return samples


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", default="mobilefacenet")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds of rounds for the table")
    ap.add_argument("--rounds", type=int, default=60, help="rounds of the independent measurement")
    ap.add_argument("--compile", action="store_true", help="torch.compile too (tens of seconds to compile)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    keep_heap()
    runtimes = ["eager", "folded", "channels-last", "torchscript", "onnxruntime"] + (
        ["compile"] if args.compile else []
    )
    print(f"{args.net}, 1 thread, torch {torch.__version__}; start: {load_text(loadavg())}")
    fns = independent(args.net, runtimes)
    t0 = time.monotonic()
    before = time_independently(fns, args.rounds // 2, seed=1)
    t1 = time.monotonic()
    table = archlab.runtime_table(args.net, runtimes=runtimes, budget=args.budget)
    t2 = time.monotonic()
    after = time_independently(fns, args.rounds - args.rounds // 2, seed=2)
    samples = {k: before[k] + after[k] for k in fns}
    print("\n".join(table.lines()))
    print(
        f"\nindependent measurement: {args.rounds} rounds, {t1 - t0:.0f} s before the table and "
        f"{time.monotonic() - t2:.0f} s after it; {load_text(loadavg())}"
    )
    ok = True
    for r in sorted(table.rows, key=lambda r: r.latency.median):
        ind = summarize([a / b for a, b in zip(samples[r.runtime], samples["eager"])])
        mine = r.ratio.median if r.ratio else 1.0
        agree = abs(mine / ind.median - 1) <= AGREE
        ok &= agree
        ci = f" [{ind.ci_low:.3f}, {ind.ci_high:.3f}]" if ind.ci_low is not None else ""
        print(
            f"  {r.runtime:14s} table {mine:.3f}x eager ({r.latency.median:.3f} ms), independent {ind.median:.3f}x{ci} "
            f"({statistics.median(samples[r.runtime]):.3f} ms): {mine / ind.median - 1:+.1%} "
            f"{'within' if agree else 'NOT within'} {AGREE:.0%}"
        )
    ort_ratio = table.row("onnxruntime").ratio
    passed = ort_ratio is not None and ort_ratio.median <= ORT_LIMIT
    ok &= passed
    print(
        f"acceptance: optimised ONNX Runtime / eager = {ort_ratio.median if ort_ratio else float('nan'):.3f} "
        f"{'<=' if passed else '>'} {ORT_LIMIT} {'ok' if passed else 'FAIL'}; fastest: {table.best.runtime}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
