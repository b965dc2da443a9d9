"""PReLU in ONNX Runtime: the three ways archlab can export it, side by side on one network.

* ``max``: ``max(x, a*x)`` (Mul, Max), archlab's default when every slope lies in [0, 1] (the same function);
* ``relu-min``: ``relu(x) + a*min(x, 0)`` (Relu, Min, Mul, Add), the default otherwise;
* ``keep``: ONNX ``PRelu`` nodes (``--prelu keep``): ORT's kernel branches per element.

The network is built with BN calibrated on a seeded batch (O(1) activations of mixed signs, as a trained
network's) and BN-folded; each form is exported with archlab's one export and run in an ORT session with
archlab's options, at 1 thread. Rounds interleave the forms in random order; each visit is 1 untimed and 5 timed
calls on the per-thread CPU clock; the ratio is the median of per-round ratios to ``relu-min``.

    .venv/bin/python benchmarks/bench_prelu_forms.py [--net mobilefacenet] [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import torch


def main() -> None:
    from archlab.api import plan as make_plan
    from archlab.nn.build import build_plan
    from archlab.nn.export import calibrate_bn
    from archlab.nn.fold import fold_bn
    from archlab.nn.modules import DecomposedPReLU
    from archlab.nn.onnx_export import export_onnx, ort_session
    from archlab.timing.machine import keep_heap, load_text

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", default="mobilefacenet")
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(1)
    keep_heap()
    torch.manual_seed(0)
    plan = make_plan(args.net)
    module = build_plan(plan).eval()
    calibrate_bn(module, torch.randn(32, *plan.input, generator=torch.Generator().manual_seed(3)))
    module = fold_bn(module, plan).eval()
    x = torch.randn(1, *plan.input, generator=torch.Generator().manual_seed(1))
    sessions = {}
    for form in ("max", "relu-min", "keep"):
        if form == "relu-min":  # force the general form: every DecomposedPReLU built from this module says relu-min
            original = DecomposedPReLU.__init__

            def general(self, prelu, _init=original):
                _init(self, prelu)
                self.form = "relu-min"

            DecomposedPReLU.__init__ = general  # type: ignore[method-assign]
        try:
            e = export_onnx(module, x, prelu="keep" if form == "keep" else "decomposed", dynamic_batch=False)
        finally:
            if form == "relu-min":
                DecomposedPReLU.__init__ = original  # type: ignore[method-assign]
        sessions[form] = (ort_session(e.data, 1), e.prelu)
    xn = x.numpy()
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for _ in range(args.rounds):
        order = list(sessions)
        random.shuffle(order)
        for k in order:
            sess = sessions[k][0]
            sess.run(None, {"x": xn})
            t0 = time.thread_time_ns()
            for _ in range(5):
                sess.run(None, {"x": xn})
            times[k].append((time.thread_time_ns() - t0) / 5 / 1e6)
    load = load_text(list(os.getloadavg()), os.cpu_count())
    print(f"{args.net}: ONNX Runtime, 1 thread, {args.rounds} interleaved rounds; {load}")
    for k, (_, how) in sessions.items():
        ratio = statistics.median(a / b for a, b in zip(times[k], times["relu-min"]))
        how = "forced (every slope is in [0, 1] here)" if k == "relu-min" else how
        print(f"  {k:9s} median {statistics.median(times[k]):7.3f} ms  x relu-min {ratio:.3f}  ({how})")


if __name__ == "__main__":
    main()
