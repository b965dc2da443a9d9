"""The records of a latency anatomy (per layer, per row, end to end) and how they are computed from samples.

Pure Python: :mod:`archlab.nn.layer_latency` measures (the instrumented pass, torch), this module turns its
samples into medians, shares, achieved GFLOP/s and GB/s and roofline fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from archlab.ir.plan import Plan
from archlab.static.roofline import WORK_RULE, Ceilings, category, plan_work
from archlab.timing import stats

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
        return {
            "name": self.name,
            "op": self.op,
            "kind": self.kind,
            "category": self.category,
            "row": self.row,
            "latency_ms": self.latency_ms,
            "p10_ms": self.p10_ms,
            "p90_ms": self.p90_ms,
            "share": self.share,
            "ran": self.ran,
            "flops": self.flops,
            "bytes": self.bytes,
            "intensity": self.intensity,
            "gflops": self.gflops,
            "gbs": self.gbs,
            "ideal_ms": self.ideal_ms,
            "roof_fraction": self.roof_fraction,
            "bound": self.bound(ceil),
        }


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
        return {
            "index": self.index,
            "type": self.type,
            "label": self.label,
            "latency_ms": self.latency_ms,
            "share": self.share,
            "flops": self.flops,
            "bytes": self.bytes,
            "gflops": self.gflops,
            "gbs": self.gbs,
            "ideal_ms": self.ideal_ms,
        }


@dataclass
class LatencyReport:
    model: str
    options: dict
    runtime: str
    threads: int
    batch: int
    channels_last: bool
    e2e: stats.Summary  # plain forward, ms per call
    instrumented: stats.Summary  # the instrumented pass's wall time, ms per call
    overhead_ratio: stats.Summary | None  # instrumented / plain, per round
    layers_sum: stats.Summary  # sum of all layer times, ms per call
    timer_ns: float  # median cost of one empty timed span
    number: int  # calls per sample
    converged: bool
    stop: str
    layers: tuple[LayerLatency, ...]
    rows: tuple[RowLatency, ...]
    ceilings: Ceilings | None = None
    samples: list[list[float]] = field(default_factory=list, repr=False)  # per round: per-layer ms (ran layers)
    sample_walls: list[float] = field(default_factory=list, repr=False)  # per round: instrumented wall ms
    loadavg: list[float] | None = None  # the machine's load averages when the measurement ended
    cpus: int = 0  # CPUs usable by the process

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
        lines.append(
            f"measurement overhead: the clock costs {self.timer_ns:.0f} ns per layer, "
            f"{self.timer_overhead_ms:.3f} ms in the layers' sum "
            f"({self.timer_overhead_ms / self.e2e.median:.2%} of end-to-end){rtxt}"
        )
        if self.ceilings is not None:
            c = self.ceilings
            ideal = self.ideal_ms or 0.0
            lines.append(
                f"ceilings ({'cached' if c.cached else 'measured'} {c.measured_at}, {c.threads} thread"
                f"{'s' if c.threads != 1 else ''}): peak {c.peak_gflops:.1f} GFLOP/s (sgemm "
                f"{c.gemm_n}), bandwidth {c.bandwidth_gbs:.2f} GB/s (copy {c.copy_mib} MiB), ridge "
                f"{c.ridge:.1f} FLOP/B"
            )
            lines.append(
                f"roofline ideal (sum over layers of max(flops/peak, bytes/bandwidth)): {ideal:.3f} ms; "
                f"measured end-to-end is {e2e.median / ideal:.1f}x the ideal"
                if ideal > 0
                else "roofline ideal: 0 ms"
            )
            for bound in ("memory", "compute"):
                top = self.top(bound)
                if top:
                    lines.append(
                        f"top {bound}-bound layers: "
                        + "; ".join(
                            f"{t.name} ({t.category}) {t.latency_ms:.3f} ms, {_pct(t.roof_fraction)} of roof"
                            for t in top
                        )
                    )
        lines.append("work: " + WORK_RULE)
        return lines

    def to_dict(self) -> dict:
        """The ``latency`` section of ``archlab profile --latency -f json``."""
        return {
            "runtime": self.runtime,
            "threads": self.threads,
            "batch": self.batch,
            "channels_last": self.channels_last,
            "method": METHOD,
            "work_rule": WORK_RULE,
            "latency_ms": self.e2e.median,
            "end_to_end": self.e2e.to_dict(),
            "instrumented": self.instrumented.to_dict(),
            "overhead_ratio": self.overhead_ratio.to_dict() if self.overhead_ratio else None,
            "layers_sum_ms": self.layers_sum.median,
            "coverage": self.coverage,
            "framework_ms": self.framework_ms,
            "timer_ns": self.timer_ns,
            "timer_overhead_ms": self.timer_overhead_ms,
            "number": self.number,
            "converged": self.converged,
            "stop": self.stop,
            "ceilings": self.ceilings.to_dict() if self.ceilings else None,
            "roofline_ideal_ms": self.ideal_ms,
            "top_memory_bound": [t.name for t in self.top("memory")],
            "top_compute_bound": [t.name for t in self.top("compute")],
            "rows": [r.to_dict() for r in self.rows],
            "layers": [layer.to_dict(self.ceilings) for layer in self.layers],
        }


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def anatomy(
    plan: Plan,
    runtime,
    threads,
    batch,
    channels_last,
    base,
    results,
    names,
    layer_samples,
    walls,
    timer_ns,
    number,
    ceilings,
) -> LatencyReport:
    e2e = base.latency
    converged = all(r.converged for r in results.values())
    stop = "converged" if converged else ", ".join(sorted({r.stop for r in results.values() if not r.converged}))
    res = results["instrumented"]
    index = {name: i for i, name in enumerate(names)}
    work = plan_work(plan, batch)
    layers = []
    per_layer: list = list(zip(*layer_samples)) if layer_samples else [() for _ in names]
    for layer in plan.layers:
        w = work[layer.name]
        i = index.get(layer.name)
        if i is None:  # does not run in this runtime (a folded BN)
            layers.append(
                LayerLatency(
                    layer.name,
                    layer.op,
                    layer.kind,
                    category(layer),
                    layer.row,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0,
                    0,
                    ran=False,
                    ideal_ms=0.0 if ceilings else None,
                )
            )
            continue
        s = sorted(per_layer[i])
        med = stats.quantile(s, 0.5)
        layers.append(
            LayerLatency(
                layer.name,
                layer.op,
                layer.kind,
                category(layer),
                layer.row,
                med,
                stats.quantile(s, 0.1),
                stats.quantile(s, 0.9),
                med / e2e.median if e2e.median > 0 else 0.0,
                w.flops,
                w.bytes,
                ideal_ms=1e3 * ceilings.ideal_s(w.flops, w.bytes) if ceilings else None,
            )
        )
    by_name = {layer.name: layer for layer in layers}
    rows = []
    for info in plan.rows:
        idx = [index[n] for n in info.layers if n in index]
        sums = sorted(sum(sample[i] for i in idx) for sample in layer_samples) if layer_samples else [0.0]
        med = stats.quantile(sums, 0.5)
        members = [by_name[n] for n in info.layers]
        rows.append(
            RowLatency(
                info.index,
                info.type,
                info.label,
                tuple(info.layers),
                med,
                med / e2e.median if e2e.median > 0 else 0.0,
                sum(m.flops for m in members),
                sum(m.bytes for m in members),
                sum(m.ideal_ms or 0.0 for m in members) if ceilings else None,
            )
        )
    totals = [sum(sample) for sample in layer_samples] or [0.0]
    return LatencyReport(
        plan.model,
        dict(plan.options),
        runtime,
        threads,
        batch,
        channels_last,
        e2e,
        stats.summarize(walls or [0.0]),
        res.ratio,
        stats.summarize(totals),
        timer_ns,
        number,
        converged,
        stop,
        tuple(layers),
        tuple(rows),
        ceilings,
        layer_samples,
        walls,
    )
