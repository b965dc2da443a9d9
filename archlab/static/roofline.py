"""The roofline's maths: the machine's ceilings as a record, each layer's work, and each layer's lower bound.

Ceilings (measured by :mod:`archlab.nn.ceilings`), at the thread count of the latency run:

* **peak GFLOP/s**: the best rate of many short fp32 matrix products ``C = A @ B`` (``torch.mm``, the BLAS
  sgemm PyTorch uses) of square matrices and of 1x1-convolution shapes, ``2 m k n`` FLOPs each: the fastest
  any kernel of this machine computes;
* **bandwidth per memory level** (:class:`Level`): the best of many short copies ``dst.copy_(src)`` whose
  working set (source + destination) fits the level (L1, L2, last-level cache) or none of them (DRAM), counted
  as ``2 x size`` bytes (read + write, the STREAM "copy" convention); and the best in-place update
  (``relu_``) of a buffer of that size, read + write counted: no write-allocate, so up to ~2x the copy's rate
  below L2. ``bandwidth_gbs`` is DRAM's copy bandwidth.

Work of one layer (:func:`layer_work`, fp32, per batch of ``batch`` images):

* FLOPs: ``2 x madds`` for conv and linear (a multiply-add is two FLOPs), ``other_ops`` for every other layer
  (the plan's conventions: BN 2/element, activation 1/element, add 1/element, pools ...);
* bytes: ``4 x (elements of every input + params + elements of the output)``: each input read once, the
  weights read once, the output written once. ``flatten`` and ``dropout`` (a view / the identity at inference)
  move nothing. A **fused group** of layers (a runtime that runs conv + BN + activation as one kernel,
  :func:`group_work`) moves only its external tensors: inputs from outside the group, its weights, and the
  outputs read outside it; its intermediates never reach memory.

The **bound** of a layer (or group) is ``max(flops / peak, t_mem)``. Its bytes ``W`` are moved from where its
**footprint** ``F`` (the distinct bytes) sits, the fastest levels filled first: ``t_mem = sum_i (W / F) x
(min(F, C_i) - C_(i-1))+ / bw_i`` for capacities ``C_1 < C_2 < ...``. An out-of-place layer has ``F = W`` and the
copy bandwidth; a layer that may write its output over an input of the same shape (an activation, BN, add, a
channel gate; a fused group whose output matches an external input: ORT's conv + residual Sum) has ``F = W -
output`` and the faster of the copy and in-place bandwidths. No placement moves the bytes faster
(:data:`BOUND_RULE`): a measured time below its bound is a bug in the model. The network's bound is the sum
over the layers (groups) that run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from archlab.ir.layer import INPUT, Layer, numel
from archlab.ir.ops import op_of
from archlab.ir.plan import Plan

BYTES_PER_ELEMENT = 4  # fp32
OP_CLASSES = ("depthwise", "pointwise", "other")

WORK_RULE = (
    "FLOPs = 2 x MAdds for conv/linear, other_ops for other layers; bytes = 4 x (input elements + params + "
    "output elements), fp32, each tensor moved once (flatten/dropout: 0); a fused group: its external tensors only"
)
BOUND_RULE = (
    "bound = max(FLOPs / peak, memory time); memory time: the bytes moved from where the footprint sits, the "
    "fastest levels filled first (L1 at L1's bandwidth, what fits L2 at L2's, ... DRAM); copy bandwidth, or the "
    "in-place update bandwidth for a layer that may overwrite an input; network bound = sum over what runs"
)


@dataclass(frozen=True)
class Level:
    """One level of the memory hierarchy: what fits (bytes; inf for DRAM) and its best copy bandwidth (GB/s)."""

    name: str
    capacity: float
    gbs: float  # copy
    working_set: int = 0  # bytes (source + destination) of the copy that measured it
    update_gbs: float = 0.0  # in-place update (read + write of one buffer); 0: not measured

    @property
    def best_gbs(self) -> float:
        return max(self.gbs, self.update_gbs)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "capacity": None if math.isinf(self.capacity) else int(self.capacity),
            "gbs": self.gbs,
            "update_gbs": self.update_gbs,
            "working_set": self.working_set,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Level:
        cap = d.get("capacity")
        inf = math.inf if cap is None else float(cap)
        return cls(str(d["name"]), inf, float(d["gbs"]), int(d.get("working_set", 0)), float(d.get("update_gbs", 0)))


@dataclass(frozen=True)
class Ceilings:
    """What the machine delivers at ``threads`` threads: peak fp32 GFLOP/s and copy bandwidth per level.

    ``bandwidth_gbs`` is DRAM's (the classic roofline's slope); ``levels`` the whole hierarchy, fastest first
    (empty: DRAM only, as a record from before levels were measured). ``loadavg``: the machine's load averages
    when it was measured; ``gemm``: the shape (``m x k x n``) of the best sgemm; ``copy_mib``: the DRAM copy's buffer;
    ``repeats``: the fewest samples any ceiling is the best of."""

    peak_gflops: float
    bandwidth_gbs: float
    threads: int
    cpu_model: str
    torch: str
    gemm: str
    copy_mib: int
    repeats: int
    measured_at: str
    seconds: float  # how long the measurement took
    cached: bool = False  # read from the cache file (not measured in this run)
    cache_file: str = ""  # where it is cached
    levels: tuple[Level, ...] = ()
    loadavg: tuple[float, ...] | None = None
    method: str = ""  # the measuring method's version (the cache measures again when it changes)
    age_s: float | None = None  # seconds since it was measured, when read from the cache

    @property
    def ridge(self) -> float:
        """Arithmetic intensity (FLOP/byte) where the peak meets the DRAM bandwidth."""
        return self.peak_gflops / self.bandwidth_gbs

    @property
    def memory_levels(self) -> tuple[Level, ...]:
        return self.levels or (Level("DRAM", math.inf, self.bandwidth_gbs),)

    def attainable_gflops(self, intensity: float) -> float:
        return min(self.peak_gflops, intensity * self.bandwidth_gbs)

    def memory_s(self, nbytes: float, footprint: float | None = None) -> float:
        """Seconds to move ``nbytes`` from where a footprint of ``footprint`` bytes (None: ``nbytes``, out of
        place) sits, the fastest levels filled first (see the module docstring)."""
        in_place = footprint is not None and 0 < footprint < nbytes
        fp = footprint if in_place and footprint is not None else nbytes
        t, below = 0.0, 0.0
        for level in self.memory_levels:
            part = min(fp, level.capacity) - below
            if part <= 0:
                break
            t += (nbytes / fp) * part / ((level.best_gbs if in_place else level.gbs) * 1e9)
            below = level.capacity
        return t

    def bound_s(self, flops: float, nbytes: float, footprint: float | None = None) -> float:
        """The lower bound of a layer: max(flops / peak, memory time), in seconds."""
        return max(flops / (self.peak_gflops * 1e9), self.memory_s(nbytes, footprint))

    ideal_s = bound_s  # the roofline time (the name of the single-level roofline)

    def level_of(self, nbytes: float) -> str:
        """The fastest level a footprint of ``nbytes`` fits."""
        for level in self.memory_levels:
            if nbytes <= level.capacity:
                return level.name
        return self.memory_levels[-1].name

    def provenance(self) -> str:
        """When and under what load the figures were measured (one line, for reports)."""
        when = f"measured {self.measured_at}"
        if self.cached:
            ago = f" ({self.age_s / 3600:.1f} h ago)" if self.age_s is not None else ""
            when = f"cached, measured {self.measured_at}{ago}"
        load = f", load average {self.loadavg[0]:.2f}" if self.loadavg else ", load not recorded"
        return f"{when}{load}, {self.threads} thread{'s' if self.threads != 1 else ''}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["levels"] = [level.to_dict() for level in self.memory_levels]
        d["loadavg"] = list(self.loadavg) if self.loadavg is not None else None
        d["ridge_flop_per_byte"] = self.ridge
        d["bound_rule"] = BOUND_RULE
        d["method"] = {
            "version": self.method,
            "peak": f"best of >= {self.repeats} samples of fp32 torch.mm, each >= 50 us of back-to-back calls, "
            "square n = 128, 256, 512 and the m x k x n shapes of 1x1 convolutions (many short runs: a long one is "
            f"time-sliced on a busy machine); best at {self.gemm}; 2mkn FLOPs",
            "bandwidth": f"best of >= {self.repeats} samples of dst.copy_(src) per level, the working set (src + "
            f"dst) inside the level (DRAM: {self.copy_mib} MiB each), 2 x size bytes (read + write), the cost of a "
            "64-byte copy_ subtracted; levels made non-increasing with depth",
        }
        return d


# -- the work of each layer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    flops: int
    bytes: int
    footprint: int | None = None  # distinct bytes, when the output may overwrite an input (None: = bytes)

    @property
    def intensity(self) -> float | None:
        return self.flops / self.bytes if self.bytes else None


def layer_flops(layer: Layer) -> int:
    return 2 * layer.madds if op_of(layer.op, layer.kind).weighted else layer.other_ops


def layer_work(layer: Layer, shapes: dict[str, tuple[int, ...]], batch: int = 1) -> Work:
    """FLOPs and bytes moved by one layer (see ``WORK_RULE``); ``shapes`` maps tensor names to shapes."""
    entry = op_of(layer.op, layer.kind)
    if entry.aliases:
        return Work(0, 0)
    elements = sum(numel(shapes[src]) for src in layer.inputs) + numel(layer.out_shape)
    nbytes = BYTES_PER_ELEMENT * (batch * elements + layer.params)
    overwrites = not entry.weighted and any(shapes[src] == layer.out_shape for src in layer.inputs)
    footprint = nbytes - BYTES_PER_ELEMENT * batch * numel(layer.out_shape) if overwrites else None
    return Work(batch * layer_flops(layer), nbytes, footprint)


def plan_work(plan: Plan, batch: int = 1) -> dict[str, Work]:
    """:func:`layer_work` of every layer, by name."""
    shapes: dict[str, tuple[int, ...]] = {INPUT: tuple(plan.input)}
    for layer in plan.layers:
        shapes[layer.name] = layer.out_shape
    return {layer.name: layer_work(layer, shapes, batch) for layer in plan.layers}


@dataclass(frozen=True)
class PlanGraph:
    """Who reads each tensor of a plan, and which BN folds into which conv/linear (for fused groups)."""

    readers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    folds_into: dict[str, str] = field(default_factory=dict)  # BN -> the conv/linear it folds into

    @classmethod
    def of_plan(cls, plan: Plan) -> PlanGraph:
        readers: dict[str, list[str]] = {}
        for layer in plan.layers:
            for src in layer.inputs:
                readers.setdefault(src, []).append(layer.name)
        folds = {p.bn: p.into for p in plan.fold_pairs()}
        return cls({k: tuple(v) for k, v in readers.items()}, folds)

    def readers_of(self, name: str) -> tuple[str, ...]:
        return self.readers.get(name, ())


def group_work(plan: Plan, names: Iterable[str], batch: int = 1, graph: PlanGraph | None = None) -> Work:
    """FLOPs and external bytes of a fused group of plan layers: inputs from outside the group, its weights,
    and its outputs read outside it (or network outputs). A BN folded into a conv/linear of the group costs
    nothing (its FLOPs are gone; the conv gains a bias). A group of views only (flatten) moves nothing."""
    group = set(names)
    members = [plan.layer(n) for n in group]
    if all(op_of(m.op, m.kind).aliases for m in members):
        return Work(0, 0)
    graph = graph or PlanGraph.of_plan(plan)
    folded = {m.name for m in members if graph.folds_into.get(m.name) in group}
    ext_in = {src for m in members for src in m.inputs if src not in group}
    outs = {m.name for m in members if set(graph.readers_of(m.name)) - group or m.name in plan.outputs}
    elements = sum(numel(plan.shape_of(s)) for s in ext_in) + sum(numel(plan.shape_of(n)) for n in outs)
    flops = sum(layer_flops(m) for m in members if m.name not in folded)
    params = sum(m.params_deployed if folded else m.params for m in members)
    nbytes = BYTES_PER_ELEMENT * (batch * elements + params)
    # an output may overwrite an external input of its shape that no weighted layer of the group reads
    weighted_in = {s for m in members if op_of(m.op, m.kind).weighted for s in m.inputs}
    spare = [s for s in ext_in if s not in weighted_in]
    over = [n for n in outs if any(plan.shape_of(s) == plan.shape_of(n) for s in spare)]
    footprint = nbytes - BYTES_PER_ELEMENT * batch * max(numel(plan.shape_of(n)) for n in over) if over else None
    return Work(batch * flops, nbytes, footprint)


def category(layer: Layer) -> str:
    """A finer op type for tables and colours: depthwise / 1x1 / kxk / grouped conv, linear, bn, act, ..."""
    if layer.op == "conv":
        cin = layer.in_shape[0]
        if layer.groups > 1 and layer.groups == cin:
            return "conv dw"
        if layer.groups > 1:
            return "conv grouped"
        if layer.kernel == (1, 1):
            return "conv 1x1"
        return "conv kxk"
    if layer.op == "act":
        return "act"
    return layer.op


def op_class(layers: Iterable[Layer]) -> str:
    """depthwise / pointwise / other: the class of a layer or fused group, by its first conv."""
    for layer in layers:
        if layer.op == "conv":
            cat = category(layer)
            return "depthwise" if cat == "conv dw" else "pointwise" if cat == "conv 1x1" else "other"
    return "other"


def roofline_ideal_ms(plan: Plan, ceil: Ceilings, batch: int = 1, skip: frozenset[str] = frozenset()) -> float:
    """The network's bound: the sum over layers of their bounds, in ms (``skip``: layers that do not run)."""
    work = plan_work(plan, batch)
    return 1e3 * sum(ceil.bound_s(w.flops, w.bytes, w.footprint) for name, w in work.items() if name not in skip)


def grouped_bound_ms(plan: Plan, ceil: Ceilings, groups: Mapping[str, Iterable[str]], batch: int = 1) -> float:
    """The network's bound for a fused runtime: the sum over its groups (primary layer -> its members)."""
    graph = PlanGraph.of_plan(plan)
    total = 0.0
    for members in groups.values():
        w = group_work(plan, members, batch, graph)
        total += ceil.bound_s(w.flops, w.bytes, w.footprint)
    return 1e3 * total
