"""Where the time goes: measured time per layer and per table row, against the machine's ceilings.

Method (README, "Latency anatomy"):

* The built network's ``forward`` is straight-line module calls (:mod:`archlab.build`), so a second,
  **instrumented** pass can call the same leaf modules in the same order, reading a clock
  (``time.perf_counter_ns``) right before and right after each module call. Tensors are freed after their
  last reader, as in the generated ``forward``. Each layer's time is thus the module call alone (PyTorch's
  module dispatch included); what ``forward`` does between module calls is not in any layer.
* The **plain** forward (the end-to-end time) and the instrumented pass are timed in interleaved rounds
  (:func:`archlab.analysis.latency.interleaved`, the plain forward being the baseline): in each round both
  run, in random order, one untimed call and then ``number`` timed calls each (``number`` from the warm-up:
  enough calls for 10 ms). Rounds go on until the 95% CIs of both medians are within ±``target`` or the
  time budget is spent (at least ``min_samples`` rounds).
* Reported per layer: the median over rounds of its per-call time; per row: the median of the per-round sums
  of its layers; the **end-to-end** latency: the median of the plain forward. ``framework`` = end-to-end
  minus the median sum of all layers: the Python of ``forward`` between module calls, argument passing,
  freeing tensors. The **measurement overhead** is stated twice: the clock's own cost per layer (``timer_ns``,
  the median of an empty timed span, included once in every layer's time), and the instrumented pass's wall
  time over the plain forward's (the median of the per-round ratios, with its CI).
* Achieved GFLOP/s and GB/s per layer divide :func:`archlab.analysis.roofline.layer_work` by the time; the
  roofline time ``max(flops/peak, bytes/bandwidth)`` over the measured time is the fraction of the roof.

Runtimes: ``eager`` (the module as built), ``folded`` (BN folded into the conv/linear before it,
:func:`archlab.analysis.fold.fold_bn`: folded BN layers do not run, their time and work are 0).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

from archlab.analysis import latency as lat
from archlab.analysis.roofline import WORK_RULE, Ceilings, category, plan_work
from archlab.errors import OptionError
from archlab.plan import Plan

RUNTIMES = ("eager", "folded")
DEFAULT_BUDGET_S = 10.0
DEFAULT_TARGET = 0.02
DEFAULT_MIN_SAMPLES = 10

METHOD = (
    "per layer: perf_counter_ns around each leaf-module call in an instrumented pass that calls the built "
    "network's modules in forward order; end-to-end: the plain forward; both in interleaved rounds (random "
    "order, one untimed call each, `number` timed calls per sample); medians over rounds"
)


@dataclass(frozen=True)
class LayerLatency:
    name: str
    op: str
    kind: str
    category: str
    row: int | str
    latency_ms: float  # median per call (0 for a layer that does not run, e.g. a folded BN)
    p10_ms: float
    p90_ms: float
    share: float  # of the end-to-end median
    flops: int
    bytes: int
    ran: bool = True
    ideal_ms: float | None = None  # roofline time, with ceilings

    @property
    def intensity(self) -> float | None:
        return self.flops / self.bytes if self.bytes else None

    @property
    def gflops(self) -> float | None:
        return self.flops / (self.latency_ms * 1e6) if self.latency_ms > 0 and self.ran else None

    @property
    def gbs(self) -> float | None:
        return self.bytes / (self.latency_ms * 1e6) if self.latency_ms > 0 and self.ran else None

    @property
    def roof_fraction(self) -> float | None:
        """Roofline time / measured time: 1 means the layer runs at the roof."""
        if self.ideal_ms is None or not self.ran or self.latency_ms <= 0:
            return None
        return self.ideal_ms / self.latency_ms

    def bound(self, ceil: Ceilings | None) -> str | None:
        if ceil is None or not self.ran or self.intensity is None or self.flops == 0:
            return None
        return "memory" if self.intensity < ceil.ridge else "compute"

    def to_dict(self, ceil: Ceilings | None = None) -> dict:
        return {"name": self.name, "op": self.op, "kind": self.kind, "category": self.category, "row": self.row,
                "latency_ms": self.latency_ms, "p10_ms": self.p10_ms, "p90_ms": self.p90_ms, "share": self.share,
                "ran": self.ran, "flops": self.flops, "bytes": self.bytes, "intensity": self.intensity,
                "gflops": self.gflops, "gbs": self.gbs, "ideal_ms": self.ideal_ms,
                "roof_fraction": self.roof_fraction, "bound": self.bound(ceil)}


@dataclass(frozen=True)
class RowLatency:
    index: int | str
    type: str
    label: str
    layers: tuple[str, ...]
    latency_ms: float  # median over rounds of the sum of its layers' times
    share: float
    flops: int
    bytes: int
    ideal_ms: float | None = None

    @property
    def gflops(self) -> float | None:
        return self.flops / (self.latency_ms * 1e6) if self.latency_ms > 0 else None

    @property
    def gbs(self) -> float | None:
        return self.bytes / (self.latency_ms * 1e6) if self.latency_ms > 0 else None

    def to_dict(self) -> dict:
        return {"index": self.index, "type": self.type, "label": self.label, "latency_ms": self.latency_ms,
                "share": self.share, "flops": self.flops, "bytes": self.bytes, "gflops": self.gflops,
                "gbs": self.gbs, "ideal_ms": self.ideal_ms}


@dataclass
class LatencyReport:
    model: str
    options: dict
    runtime: str
    threads: int
    batch: int
    channels_last: bool
    e2e: lat.Summary  # plain forward, ms per call
    instrumented: lat.Summary  # the instrumented pass's wall time, ms per call
    overhead_ratio: lat.Summary | None  # instrumented / plain, per round
    layers_sum: lat.Summary  # sum of all layer times, ms per call
    timer_ns: float  # median cost of one empty timed span
    number: int  # calls per sample
    converged: bool
    stop: str
    layers: tuple[LayerLatency, ...]
    rows: tuple[RowLatency, ...]
    ceilings: Ceilings | None = None
    samples: list[list[float]] = field(default_factory=list, repr=False)  # per round: per-layer ms (ran layers)
    sample_walls: list[float] = field(default_factory=list, repr=False)  # per round: instrumented wall ms

    @property
    def latency_ms(self) -> float:
        return self.e2e.median

    @property
    def framework_ms(self) -> float:
        """End-to-end minus the sum of the layers: forward's own Python between module calls."""
        return self.e2e.median - self.layers_sum.median

    @property
    def coverage(self) -> float:
        """Sum of the layers' medians over the end-to-end median."""
        return self.layers_sum.median / self.e2e.median if self.e2e.median > 0 else math.nan

    @property
    def timer_overhead_ms(self) -> float:
        """The clock's cost included in the layers' sum: one empty timed span per layer that runs."""
        return self.timer_ns * sum(1 for layer in self.layers if layer.ran) / 1e6

    @property
    def ideal_ms(self) -> float | None:
        if self.ceilings is None:
            return None
        return sum(layer.ideal_ms or 0.0 for layer in self.layers if layer.ran)

    def top(self, bound: str, k: int = 3) -> list[LayerLatency]:
        """The ``k`` layers of one bound ('memory' or 'compute') that take the most time."""
        picked = [layer for layer in self.layers if layer.bound(self.ceilings) == bound]
        return sorted(picked, key=lambda layer: -layer.latency_ms)[:k]

    def overhead_lines(self) -> list[str]:
        e2e = self.e2e
        ci = f" [95% CI {e2e.ci_low:.3f}, {e2e.ci_high:.3f}]" if e2e.ci_low is not None else ""
        lines = [
            f"latency ({self.runtime}, {self.threads} thread{'s' if self.threads != 1 else ''}, batch {self.batch}"
            f"{', channels-last' if self.channels_last else ''}): end-to-end median {e2e.median:.3f} ms{ci}, "
            f"{e2e.n} rounds x {self.number} call{'s' if self.number != 1 else ''}"
            f"{'' if self.converged else ' (CI target not reached: ' + self.stop + ')'}",
            f"layers add up to {self.layers_sum.median:.3f} ms = {self.coverage:.1%} of end-to-end; the rest, "
            f"{self.framework_ms:+.3f} ms, is framework overhead (forward's Python between module calls, "
            "argument passing, freeing tensors)",
        ]
        ratio = self.overhead_ratio
        rtxt = ""
        if ratio is not None:
            rci = f" [CI {ratio.ci_low:.3f}, {ratio.ci_high:.3f}]" if ratio.ci_low is not None else ""
            rtxt = f"; the instrumented pass takes {ratio.median:.3f}x the plain forward{rci}"
        lines.append(f"measurement overhead: the clock costs {self.timer_ns:.0f} ns per layer, "
                     f"{self.timer_overhead_ms:.3f} ms in the layers' sum "
                     f"({self.timer_overhead_ms / self.e2e.median:.2%} of end-to-end){rtxt}")
        if self.ceilings is not None:
            c = self.ceilings
            ideal = self.ideal_ms or 0.0
            lines.append(f"ceilings ({'cached' if c.cached else 'measured'} {c.measured_at}, {c.threads} thread"
                         f"{'s' if c.threads != 1 else ''}): peak {c.peak_gflops:.1f} GFLOP/s (sgemm "
                         f"{c.gemm_n}), bandwidth {c.bandwidth_gbs:.2f} GB/s (copy {c.copy_mib} MiB), ridge "
                         f"{c.ridge:.1f} FLOP/B")
            lines.append(f"roofline ideal (sum over layers of max(flops/peak, bytes/bandwidth)): {ideal:.3f} ms; "
                         f"measured end-to-end is {e2e.median / ideal:.1f}x the ideal" if ideal > 0 else
                         "roofline ideal: 0 ms")
            for bound in ("memory", "compute"):
                top = self.top(bound)
                if top:
                    lines.append(f"top {bound}-bound layers: " + "; ".join(
                        f"{t.name} ({t.category}) {t.latency_ms:.3f} ms, {_pct(t.roof_fraction)} of roof"
                        for t in top))
        lines.append("work: " + WORK_RULE)
        return lines

    def to_dict(self) -> dict:
        """The ``latency`` section of ``archlab profile --latency -f json``."""
        return {
            "runtime": self.runtime, "threads": self.threads, "batch": self.batch,
            "channels_last": self.channels_last, "method": METHOD, "work_rule": WORK_RULE,
            "latency_ms": self.e2e.median, "end_to_end": self.e2e.to_dict(),
            "instrumented": self.instrumented.to_dict(),
            "overhead_ratio": self.overhead_ratio.to_dict() if self.overhead_ratio else None,
            "layers_sum_ms": self.layers_sum.median, "coverage": self.coverage, "framework_ms": self.framework_ms,
            "timer_ns": self.timer_ns, "timer_overhead_ms": self.timer_overhead_ms,
            "number": self.number, "converged": self.converged, "stop": self.stop,
            "ceilings": self.ceilings.to_dict() if self.ceilings else None,
            "roofline_ideal_ms": self.ideal_ms,
            "top_memory_bound": [t.name for t in self.top("memory")],
            "top_compute_bound": [t.name for t in self.top("compute")],
            "rows": [r.to_dict() for r in self.rows],
            "layers": [layer.to_dict(self.ceilings) for layer in self.layers],
        }


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


# -- the instrumented pass -----------------------------------------------------------------------------------

class Instrumented:
    """Calls the leaf modules of a built (fx) network in ``forward`` order, timing each call.

    ``names``: the module path of each step; after a call, ``acc[i]`` holds the nanoseconds of step ``i``
    summed over the calls since the last :meth:`reset`.
    """

    def __init__(self, module, clock_ns=time.perf_counter_ns) -> None:
        nodes = list(module.graph.nodes)
        slot = {}
        steps = []
        placeholders = [n for n in nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise ValueError("the instrumented pass needs a network with one input")
        slot[placeholders[0]] = 0
        out_node = None
        for n in nodes:
            if n.op == "placeholder":
                continue
            if n.op == "output":
                out_node = n
                continue
            if n.op != "call_module" or n.kwargs:
                raise ValueError(f"the instrumented pass handles module calls only, not {n.op} {n.target}")
            slot[n] = len(slot)
            steps.append((module.get_submodule(n.target), tuple(slot[a] for a in n.args), slot[n], str(n.target)))
        outs = out_node.args[0]
        self.multi = isinstance(outs, (tuple, list))
        self.out_slots = tuple(slot[o] for o in outs) if self.multi else (slot[outs],)
        last = {}
        for i, (_, args, _, _) in enumerate(steps):
            for a in args:
                last[a] = i
        keep = set(self.out_slots)
        self.free_after = [tuple(a for a in set(args) if last[a] == i and a not in keep and a != 0)
                           for i, (_, args, _, _) in enumerate(steps)]
        self.steps = [(m, args, out) for m, args, out, _ in steps]
        self.names = [name for _, _, _, name in steps]
        self.size = len(slot)
        self.acc = [0] * len(steps)
        self.clock = clock_ns

    def reset(self) -> None:
        self.acc = [0] * len(self.steps)

    def __call__(self, x):
        env = [None] * self.size
        env[0] = x
        acc = self.acc
        clock = self.clock
        free = self.free_after
        for i, (mod, args, out) in enumerate(self.steps):
            a = [env[j] for j in args]
            t0 = clock()
            env[out] = mod(*a)
            t1 = clock()
            acc[i] += t1 - t0
            del a
            for j in free[i]:
                env[j] = None
        outs = tuple(env[j] for j in self.out_slots)
        return outs if self.multi else outs[0]


def timer_cost_ns(clock_ns=time.perf_counter_ns, n: int = 20001) -> float:
    """Median nanoseconds of an empty timed span ``t0 = clock(); t1 = clock()``."""
    spans = []
    for _ in range(n):
        t0 = clock_ns()
        t1 = clock_ns()
        spans.append(t1 - t0)
    spans.sort()
    return float(spans[len(spans) // 2])


# -- the measurement -----------------------------------------------------------------------------------------

def measure(plan: Plan, *, runtime: str = "eager", threads: int | None = None, batch: int = 1,
            channels_last: bool = False, budget_s: float = DEFAULT_BUDGET_S, target: float = DEFAULT_TARGET,
            min_samples: int = DEFAULT_MIN_SAMPLES, max_samples: int | None = None, ceilings: Ceilings | None = None,
            seed: int = 0, module=None, warmup_s: float = 0.3, min_sample_s: float = 0.01) -> LatencyReport:
    """Measure the network of ``plan``: end-to-end, per layer, per row (see the module docstring).

    ``module``: a network built from ``plan`` (built here when None; with ``runtime='folded'`` it is folded).
    ``ceilings``: when given, every layer gets its roofline time and bound.
    """
    import torch

    if runtime not in RUNTIMES:
        raise OptionError(f"--runtime: per-layer timing supports {', '.join(RUNTIMES)}, not {runtime!r}")
    if batch < 1:
        raise OptionError(f"--batch must be >= 1, got {batch}")
    if threads is not None and threads < 1:
        raise OptionError(f"--threads must be >= 1, got {threads}")
    if budget_s <= 0:
        raise OptionError(f"--budget must be > 0 seconds, got {budget_s}")
    threads = threads or torch.get_num_threads()
    if module is None:
        from archlab.build import build_plan

        torch.manual_seed(seed)
        module = build_plan(plan)
    module = module.eval()
    if runtime == "folded":
        from archlab.analysis.fold import fold_bn

        module = fold_bn(module, plan)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn((batch, *plan.input), generator=g).contiguous(memory_format=fmt) if len(plan.input) == 3 \
        else torch.randn((batch, *plan.input), generator=g)
    inst = Instrumented(module)

    before = torch.get_num_threads()

    def enter():
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    layer_samples: list[list[float]] = []
    walls: list[float] = []

    def plain_fn():
        return module(x)

    def inst_fn():
        return inst(x)

    plain = lat.Candidate("forward", plain_fn, enter)
    instr = lat.Candidate("instrumented", inst_fn, enter)

    def sample(c: lat.Candidate) -> float:
        if c.key != "instrumented":
            return lat.visit(c)
        c.enter()
        c.fn()
        inst.reset()
        number = max(1, c.number)
        t0 = time.perf_counter_ns()
        for _ in range(number):
            c.fn()
        t1 = time.perf_counter_ns()
        layer_samples.append([v / number / 1e6 for v in inst.acc])
        wall = (t1 - t0) / number / 1e6
        walls.append(wall)
        return wall

    import gc

    gc.collect()
    gc.freeze()  # the rounds' gc.collect() then skips the (large) object graph of torch: ms instead of 0.2 s
    try:
        with torch.inference_mode():
            enter()
            timer_ns = timer_cost_ns()
            lat.warm_up(plain, seconds=warmup_s, min_sample_s=min_sample_s)
            lat.warm_up(instr, seconds=warmup_s / 2, min_sample_s=min_sample_s)
            instr.number = plain.number  # the same calls per sample, so both see the same cache state
            deadline = time.monotonic() + budget_s
            results, base = lat.interleaved([plain, instr], plain, deadline=deadline, target=target,
                                            min_samples=min_samples, max_samples=max_samples,
                                            rng=random.Random(seed), sample=sample)
    finally:
        gc.unfreeze()
        torch.set_num_threads(before)
    return _report(plan, runtime, threads, batch, channels_last, base, results, inst.names, layer_samples, walls,
                   timer_ns, plain.number, ceilings)


def _report(plan, runtime, threads, batch, channels_last, base, results, names, layer_samples, walls, timer_ns,
            number, ceilings) -> LatencyReport:
    e2e = base.latency
    converged = all(r.converged for r in results.values())
    stop = "converged" if converged else ", ".join(sorted({r.stop for r in results.values() if not r.converged}))
    res = results["instrumented"]
    index = {name: i for i, name in enumerate(names)}
    work = plan_work(plan, batch)
    layers = []
    per_layer = list(zip(*layer_samples)) if layer_samples else [[] for _ in names]
    for layer in plan.layers:
        w = work[layer.name]
        i = index.get(layer.name)
        if i is None:  # does not run in this runtime (a folded BN)
            layers.append(LayerLatency(layer.name, layer.op, layer.kind, category(layer), layer.row, 0.0, 0.0, 0.0,
                                       0.0, 0, 0, ran=False, ideal_ms=0.0 if ceilings else None))
            continue
        s = sorted(per_layer[i])
        med = lat.quantile(s, 0.5)
        layers.append(LayerLatency(
            layer.name, layer.op, layer.kind, category(layer), layer.row, med, lat.quantile(s, 0.1),
            lat.quantile(s, 0.9), med / e2e.median if e2e.median > 0 else 0.0, w.flops, w.bytes,
            ideal_ms=1e3 * ceilings.ideal_s(w.flops, w.bytes) if ceilings else None))
    by_name = {layer.name: layer for layer in layers}
    rows = []
    for info in plan.rows:
        idx = [index[n] for n in info.layers if n in index]
        sums = sorted(sum(sample[i] for i in idx) for sample in layer_samples) if layer_samples else [0.0]
        med = lat.quantile(sums, 0.5)
        members = [by_name[n] for n in info.layers]
        rows.append(RowLatency(info.index, info.type, info.label, tuple(info.layers), med,
                               med / e2e.median if e2e.median > 0 else 0.0, sum(m.flops for m in members),
                               sum(m.bytes for m in members),
                               sum(m.ideal_ms or 0.0 for m in members) if ceilings else None))
    totals = [sum(sample) for sample in layer_samples] or [0.0]
    return LatencyReport(plan.model, dict(plan.options), runtime, threads, batch, channels_last, e2e,
                         lat.summarize(walls or [0.0]), res.ratio, lat.summarize(totals), timer_ns, number,
                         converged, stop, tuple(layers),
                         tuple(rows), ceilings, layer_samples, walls)


def augment_profile_dict(data: dict, report: LatencyReport) -> dict:
    """Add the latency to a profile's JSON: ``totals.latency_ms``, ``rows[].latency_ms``,
    ``layers[].latency_ms`` (and share, achieved GFLOP/s, GB/s, intensity), and the ``latency`` section."""
    data["totals"]["latency_ms"] = report.latency_ms
    by_layer = {layer.name: layer for layer in report.layers}
    for d in data.get("layers", []):
        layer = by_layer.get(d["name"])
        if layer is not None:
            d.update({"latency_ms": layer.latency_ms, "latency_share": layer.share, "flops": layer.flops,
                      "bytes": layer.bytes, "intensity": layer.intensity, "gflops": layer.gflops,
                      "gbs": layer.gbs, "ran": layer.ran, "bound": layer.bound(report.ceilings),
                      "roof_fraction": layer.roof_fraction})
    by_row = {str(r.index): r for r in report.rows}
    for d in data.get("rows", []):
        r = by_row.get(str(d["index"]))
        if r is not None:
            d.update({"latency_ms": r.latency_ms, "latency_share": r.share})
    section = report.to_dict()
    section.pop("layers")  # already merged into layers[]
    section.pop("rows")
    data["latency"] = section
    return data
