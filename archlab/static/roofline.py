"""The roofline's maths: the machine's ceilings as a record, each layer's work, and the roofline time.

Ceilings (measured by :mod:`archlab.nn.ceilings`), at the thread count of the latency run:

* **peak GFLOP/s**: the best of ``repeats`` fp32 matrix products ``C = A @ B`` of ``n x n`` matrices
  (``torch.mm``, i.e. the BLAS sgemm PyTorch uses), ``2 n^3`` FLOPs each, after one untimed call;
* **memory bandwidth**: the best of ``repeats`` copies ``dst.copy_(src)`` of a ``copy_mib`` MiB fp32 buffer,
  counted as ``2 x size`` bytes (read + write, the STREAM "copy" convention; write-allocate traffic is not
  counted). The default buffer (256 MiB each) is meant to be larger than the last-level cache.

Both are the best of a few runs (a ceiling, not a typical value); on a machine shared with other jobs they
are what the machine delivered then (``--remeasure`` to measure again); :mod:`archlab.nn.ceilings` caches them.

Work of one layer (:func:`layer_work`, fp32, per batch of ``batch`` images):

* FLOPs: ``2 x madds`` for conv and linear (a multiply-add is two FLOPs), ``other_ops`` for every other layer
  (the plan's conventions: BN 2/element, activation 1/element, add 1/element, pools ...);
* bytes: ``4 x (elements of every input + params + elements of the output)``: each input read once, the
  weights read once, the output written once (caches ignored). ``flatten`` and ``dropout`` (a view / the
  identity at inference) move nothing.

The roofline time of a layer is ``max(flops / peak, bytes / bandwidth)``; a layer is memory-bound when its
arithmetic intensity ``flops / bytes`` is below the ridge point ``peak / bandwidth``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from archlab.ir.layer import INPUT, Layer, numel
from archlab.ir.ops import op_of
from archlab.ir.plan import Plan

BYTES_PER_ELEMENT = 4  # fp32

WORK_RULE = (
    "FLOPs = 2 x MAdds for conv/linear, other_ops for other layers; bytes = 4 x (input elements + params + "
    "output elements), fp32, each tensor moved once (flatten/dropout: 0)"
)


@dataclass(frozen=True)
class Ceilings:
    """What the machine delivers at ``threads`` threads: peak fp32 GFLOP/s and memory bandwidth in GB/s."""

    peak_gflops: float
    bandwidth_gbs: float
    threads: int
    cpu_model: str
    torch: str
    gemm_n: int
    copy_mib: int
    repeats: int
    measured_at: str
    seconds: float  # how long the measurement took
    cached: bool = False  # read from the cache file (not measured in this run)
    cache_file: str = ""  # where it is cached

    @property
    def ridge(self) -> float:
        """Arithmetic intensity (FLOP/byte) where the two ceilings meet."""
        return self.peak_gflops / self.bandwidth_gbs

    def attainable_gflops(self, intensity: float) -> float:
        return min(self.peak_gflops, intensity * self.bandwidth_gbs)

    def ideal_s(self, flops: float, nbytes: float) -> float:
        """Roofline time: max(flops / peak, bytes / bandwidth), in seconds."""
        return max(flops / (self.peak_gflops * 1e9), nbytes / (self.bandwidth_gbs * 1e9))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ridge_flop_per_byte"] = self.ridge
        d["method"] = {
            "peak": f"best of {self.repeats} fp32 torch.mm of {self.gemm_n}x{self.gemm_n} matrices, 2n^3 FLOPs",
            "bandwidth": f"best of {self.repeats} copies of a {self.copy_mib} MiB fp32 buffer, 2 x size bytes "
            "(read + write)",
        }
        return d


# -- the work of each layer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    flops: int
    bytes: int

    @property
    def intensity(self) -> float | None:
        return self.flops / self.bytes if self.bytes else None


def layer_flops(layer: Layer) -> int:
    return 2 * layer.madds if op_of(layer.op, layer.kind).weighted else layer.other_ops


def layer_work(layer: Layer, shapes: dict[str, tuple[int, ...]], batch: int = 1) -> Work:
    """FLOPs and bytes moved by one layer (see ``WORK_RULE``); ``shapes`` maps tensor names to shapes."""
    if op_of(layer.op, layer.kind).aliases:
        return Work(0, 0)
    elements = sum(numel(shapes[src]) for src in layer.inputs) + numel(layer.out_shape)
    return Work(batch * layer_flops(layer), BYTES_PER_ELEMENT * (batch * elements + layer.params))


def plan_work(plan: Plan, batch: int = 1) -> dict[str, Work]:
    """:func:`layer_work` of every layer, by name."""
    shapes: dict[str, tuple[int, ...]] = {INPUT: tuple(plan.input)}
    for layer in plan.layers:
        shapes[layer.name] = layer.out_shape
    return {layer.name: layer_work(layer, shapes, batch) for layer in plan.layers}


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


def roofline_ideal_ms(plan: Plan, ceil: Ceilings, batch: int = 1, skip: frozenset[str] = frozenset()) -> float:
    """Sum over layers of max(flops / peak, bytes / bandwidth), in ms (``skip``: layers that do not run)."""
    work = plan_work(plan, batch)
    return 1e3 * sum(ceil.ideal_s(w.flops, w.bytes) for name, w in work.items() if name not in skip)
