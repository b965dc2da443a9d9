"""The records of a latency anatomy (per layer, per row, end to end), their text lines and dictionaries.

Pure Python: :mod:`archlab.nn.layer_latency` measures (torch), :mod:`archlab.timing.anatomy_build` turns its
samples into these records: medians, shares, achieved GFLOP/s and GB/s, and each layer's fraction of its
bound (:mod:`archlab.static.roofline`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from archlab.static.roofline import BOUND_RULE, OP_CLASSES, WORK_RULE, Ceilings
from archlab.timing import stats

METHOD = (
    "per layer: a clock around each leaf-module call in an instrumented pass that calls the built network's "
    "modules in forward order (eager runtimes), or the runtime's profiler (TorchScript: the autograd profiler's "
    "aten events by the frozen graph's scope names; ONNX Runtime: its profiler's node events mapped to the plan's "
    "layers, a fused node under the first layer of its group); end-to-end: the plain run; both in interleaved "
    "rounds (random order, one untimed call each, `number` timed calls per sample); medians over rounds"
)
SOURCES = {
    "instrumented": "the instrumented pass",
    "torchscript-profiler": "the TorchScript profiler",
    "ort-profiler": "ONNX Runtime's profiler",
    "none": "none (this runtime exposes no per-layer times)",
}


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
    flops: int  # of the layer, or of its fused group (then under the group's first layer)
    bytes: int
    ran: bool = True
    ideal_ms: float | None = None  # the bound (ms), with ceilings
    covers: tuple[str, ...] = ()  # the other layers of its fused group
    fused_into: str | None = None  # the layer whose fused node computes this one
    op_class: str = "other"  # depthwise | pointwise | other
    level: str | None = None  # the fastest memory level its footprint fits
    footprint: int | None = None  # distinct bytes when its output may overwrite an input (None: = bytes)

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
        """Bound / measured time: 1 means the layer runs at its bound; above 1 is a bug in the model."""
        if self.ideal_ms is None or not self.ran or self.latency_ms <= 0:
            return None
        return self.ideal_ms / self.latency_ms

    def bound(self, ceil: Ceilings | None) -> str | None:
        if ceil is None or not self.ran or self.intensity is None or self.flops == 0:
            return None
        memory = ceil.memory_s(self.bytes, self.footprint)
        return "compute" if self.flops / (ceil.peak_gflops * 1e9) >= memory else "memory"

    def to_dict(self, ceil: Ceilings | None = None) -> dict:
        keys = ("name", "op", "kind", "category", "row", "latency_ms", "p10_ms", "p90_ms", "share", "ran")
        d = {k: getattr(self, k) for k in keys}
        d.update(flops=self.flops, bytes=self.bytes, intensity=self.intensity, gflops=self.gflops, gbs=self.gbs)
        d.update(ideal_ms=self.ideal_ms, roof_fraction=self.roof_fraction, bound=self.bound(ceil))
        d.update(covers=list(self.covers), fused_into=self.fused_into, op_class=self.op_class, level=self.level)
        return d


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
        keys = ("index", "type", "label", "latency_ms", "share", "flops", "bytes", "gflops", "gbs", "ideal_ms")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class ClassBound:
    """Time and bound of one op class (depthwise, pointwise, other) summed over the layers that ran."""

    op_class: str
    layers: int
    latency_ms: float
    bound_ms: float

    @property
    def fraction(self) -> float | None:
        return self.bound_ms / self.latency_ms if self.latency_ms > 0 else None

    def to_dict(self) -> dict:
        return {
            "op_class": self.op_class,
            "layers": self.layers,
            "latency_ms": self.latency_ms,
            "bound_ms": self.bound_ms,
            "fraction": self.fraction,
        }


@dataclass
class LatencyReport:
    model: str
    options: dict
    runtime: str
    threads: int
    batch: int
    channels_last: bool
    e2e: stats.Summary  # plain run, ms per call, on ``clock``
    instrumented: stats.Summary  # the instrumented (profiled) run, ms per call
    overhead_ratio: stats.Summary | None  # instrumented / plain, per round
    layers_sum: stats.Summary  # sum of all layer times, ms per call
    timer_ns: float  # median cost of one empty timed span (0: a profiler's)
    number: int  # calls per sample
    converged: bool
    stop: str
    layers: tuple[LayerLatency, ...]
    rows: tuple[RowLatency, ...]
    ceilings: Ceilings | None = None
    samples: list[list[float]] = field(default_factory=list, repr=False)  # per round: per-layer ms (ran layers)
    sample_walls: list[float] = field(default_factory=list, repr=False)  # per round: instrumented ms
    loadavg: list[float] | None = None  # the machine's load averages when the measurement ended
    cpus: int = 0  # CPUs usable by the process
    clock: str = "wall"  # cpu: per-thread CPU time (1 thread); wall
    e2e_wall: stats.Summary | None = None  # the plain run on the wall clock (beside a CPU-clock e2e)
    source: str = "instrumented"  # where the per-layer times come from (SOURCES)
    unattributed: dict[str, float] = field(default_factory=dict)  # ms per call of work in no plan layer
    notes: list[str] = field(default_factory=list)

    @property
    def latency_ms(self) -> float:
        return self.e2e.median

    @property
    def framework_ms(self) -> float:
        """End-to-end minus the sum of the layers: the runtime's own work between layers."""
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
        """The network's bound: the sum of the bounds of the layers (fused groups) that ran."""
        if self.ceilings is None:
            return None
        return sum(layer.ideal_ms or 0.0 for layer in self.layers if layer.ran)

    @property
    def bound_fraction(self) -> float | None:
        """The network's bound over its measured end-to-end median."""
        ideal = self.ideal_ms
        return ideal / self.e2e.median if ideal is not None and self.e2e.median > 0 else None

    def with_ceilings(self, ceil: Ceilings) -> LatencyReport:
        """The same measurement bounded by other ceilings (each layer's work is kept)."""
        layers = tuple(
            replace(
                x,
                ideal_ms=1e3 * ceil.bound_s(x.flops, x.bytes, x.footprint) if x.ran else 0.0,
                level=ceil.level_of(x.footprint or x.bytes) if x.ran and x.bytes else None,
            )
            for x in self.layers
        )
        return replace(self, layers=layers, ceilings=ceil)

    def above_bound(self, limit: float = 1.0) -> list[LayerLatency]:
        """Layers measured faster than their bound allows (roof fraction > ``limit``): a bug in the model."""
        return [layer for layer in self.layers if (layer.roof_fraction or 0.0) > limit]

    def by_class(self) -> list[ClassBound]:
        """% of bound per op class: depthwise, pointwise, other (layers with a time and a bound)."""
        out = []
        for cls in OP_CLASSES:
            picked = [x for x in self.layers if x.ran and x.op_class == cls and x.ideal_ms is not None]
            out.append(
                ClassBound(cls, len(picked), sum(x.latency_ms for x in picked), sum(x.ideal_ms or 0.0 for x in picked))
            )
        return out

    def top(self, bound: str, k: int = 3) -> list[LayerLatency]:
        """The ``k`` layers of one bound ('memory' or 'compute') that take the most time."""
        picked = [layer for layer in self.layers if layer.bound(self.ceilings) == bound]
        return sorted(picked, key=lambda layer: -layer.latency_ms)[:k]

    def overhead_lines(self) -> list[str]:
        return report_lines(self)

    def to_dict(self) -> dict:
        """The ``latency`` section of ``archlab profile --latency -f json``."""
        return report_dict(self)


# -- text and JSON ---------------------------------------------------------------------------------------------


def _ci(s: stats.Summary, digits: int = 3) -> str:
    return f" [95% CI {s.ci_low:.{digits}f}, {s.ci_high:.{digits}f}]" if s.ci_low is not None else ""


def clock_text(clock: str, threads: int) -> str:
    if clock == "cpu":
        return "per-thread CPU time (1 thread: the inference runs on the calling thread; preemption left out)"
    return f"wall time ({threads} threads: a CPU clock is not a latency there)" if threads > 1 else "wall time"


def report_lines(r: LatencyReport) -> list[str]:
    e2e = r.e2e
    lines = [
        f"latency ({r.runtime}, {r.threads} thread{'s' if r.threads != 1 else ''}, batch {r.batch}"
        f"{', channels-last' if r.channels_last else ''}): end-to-end median {e2e.median:.3f} ms{_ci(e2e)}, "
        f"{e2e.n} rounds x {r.number} call{'s' if r.number != 1 else ''}"
        f"{'' if r.converged else ' (CI target not reached: ' + r.stop + ')'}",
        f"clock: {clock_text(r.clock, r.threads)}"
        + (f"; wall time {r.e2e_wall.median:.3f} ms{_ci(r.e2e_wall)}" if r.e2e_wall and r.clock == "cpu" else ""),
        f"per-layer times from {SOURCES.get(r.source, r.source)}",
    ]
    if r.source != "none":
        lines.append(
            f"layers add up to {r.layers_sum.median:.3f} ms = {r.coverage:.1%} of end-to-end; the rest, "
            f"{r.framework_ms:+.3f} ms, is framework overhead (the runtime's work between layers)"
        )
        lines.append(_overhead_line(r))
    lines += [f"not in any layer: {k} {v:.3f} ms per call" for k, v in r.unattributed.items()]
    if r.ceilings is not None:
        lines += _bound_lines(r)
    lines += r.notes
    lines.append("work: " + WORK_RULE)
    return lines


def _overhead_line(r: LatencyReport) -> str:
    ratio = r.overhead_ratio
    what = "instrumented pass" if r.source == "instrumented" else "profiled run"
    rtxt = f"; the {what} takes {ratio.median:.3f}x the plain run{_ci(ratio)}" if ratio is not None else ""
    if r.source != "instrumented":
        return f"measurement overhead: profiler times are wall-clock spans (per visit the fastest call's){rtxt}"
    return (
        f"measurement overhead: the clock costs {r.timer_ns:.0f} ns per layer, {r.timer_overhead_ms:.3f} ms in the "
        f"layers' sum ({r.timer_overhead_ms / r.e2e.median:.2%} of end-to-end){rtxt}"
    )


def _bound_lines(r: LatencyReport) -> list[str]:
    c = r.ceilings
    assert c is not None
    ideal = r.ideal_ms or 0.0
    levels = ", ".join(f"{lv.name} {lv.gbs:.1f}" for lv in c.memory_levels)
    lines = [
        f"ceilings ({c.provenance()}): peak {c.peak_gflops:.1f} GFLOP/s (sgemm {c.gemm}), copy GB/s by level: "
        f"{levels}; bandwidth {c.bandwidth_gbs:.2f} GB/s (DRAM), ridge {c.ridge:.1f} FLOP/B",
        f"roofline ideal (the bound: {BOUND_RULE}): {ideal:.3f} ms; measured end-to-end is {e2e_x(r)} the "
        "bound" + (f" ({r.bound_fraction:.0%} of it)" if r.bound_fraction else ""),
        "% of bound by op class: "
        + "; ".join(
            f"{b.op_class} {b.fraction:.0%} ({b.layers} layers, {b.latency_ms:.3f} ms, bound {b.bound_ms:.3f} ms)"
            for b in r.by_class()
            if b.fraction is not None
        ),
    ]
    above = r.above_bound()
    if above:
        lines.append(
            f"{len(above)} layer(s) ran faster than their bound (a bug in the model): "
            + ", ".join(f"{x.name} {x.roof_fraction:.0%}" for x in above[:5])
        )
    for bound in ("memory", "compute"):
        top = r.top(bound)
        if top:
            lines.append(
                f"top {bound}-bound layers: "
                + "; ".join(
                    f"{t.name} ({t.category}) {t.latency_ms:.3f} ms, {_pct(t.roof_fraction)} of roof" for t in top
                )
            )
    return lines


def e2e_x(r: LatencyReport) -> str:
    ideal = r.ideal_ms or 0.0
    return f"{r.e2e.median / ideal:.1f}x" if ideal > 0 else "n/a x"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def report_dict(r: LatencyReport) -> dict:
    return {
        "runtime": r.runtime,
        "threads": r.threads,
        "batch": r.batch,
        "channels_last": r.channels_last,
        "method": METHOD,
        "work_rule": WORK_RULE,
        "bound_rule": BOUND_RULE,
        "clock": r.clock,
        "source": r.source,
        "latency_ms": r.e2e.median,
        "end_to_end": r.e2e.to_dict(),
        "end_to_end_wall": r.e2e_wall.to_dict() if r.e2e_wall else None,
        "instrumented": r.instrumented.to_dict(),
        "overhead_ratio": r.overhead_ratio.to_dict() if r.overhead_ratio else None,
        "layers_sum_ms": r.layers_sum.median,
        "coverage": r.coverage,
        "framework_ms": r.framework_ms,
        "unattributed_ms": dict(r.unattributed),
        "timer_ns": r.timer_ns,
        "timer_overhead_ms": r.timer_overhead_ms,
        "number": r.number,
        "converged": r.converged,
        "stop": r.stop,
        "ceilings": r.ceilings.to_dict() if r.ceilings else None,
        "roofline_ideal_ms": r.ideal_ms,
        "bound_fraction": r.bound_fraction,
        "by_class": [b.to_dict() for b in r.by_class()] if r.ceilings else [],
        "above_bound": [x.name for x in r.above_bound()],
        "top_memory_bound": [t.name for t in r.top("memory")],
        "top_compute_bound": [t.name for t in r.top("compute")],
        "notes": list(r.notes),
        "rows": [row.to_dict() for row in r.rows],
        "layers": [layer.to_dict(r.ceilings) for layer in r.layers],
    }
