"""The machine's own ceilings (peak fp32 GFLOP/s, memory bandwidth), cached per machine, and each layer's work.

Ceilings (``measure_ceilings``), at the thread count of the latency run:

* **peak GFLOP/s**: the best of ``repeats`` fp32 matrix products ``C = A @ B`` of ``n x n`` matrices
  (``torch.mm``, i.e. the BLAS sgemm PyTorch uses), ``2 n^3`` FLOPs each, after one untimed call;
* **memory bandwidth**: the best of ``repeats`` copies ``dst.copy_(src)`` of a ``copy_mib`` MiB fp32 buffer,
  counted as ``2 x size`` bytes (read + write, the STREAM "copy" convention; write-allocate traffic is not
  counted). The default buffer (256 MiB each) is meant to be larger than the last-level cache.

Both are the best of a few runs (a ceiling, not a typical value); on a machine shared with other jobs they
are what the machine delivered then (``--remeasure`` to measure again). They are cached in
``$ARCHLAB_CACHE_DIR/ceilings.json`` (default ``~/.cache/archlab/``, or ``$XDG_CACHE_HOME/archlab``), keyed by
CPU model, thread count and torch version; an entry measured with other sizes is measured again.

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

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.plan import INPUT, Layer, Plan, numel

SCHEMA_VERSION = 1
BYTES_PER_ELEMENT = 4  # fp32
DEFAULT_GEMM_N = 2048
DEFAULT_COPY_MIB = 256
DEFAULT_REPEATS = 10
CACHE_FILE = "ceilings.json"
ALIASING_OPS = ("flatten", "dropout")

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


def cache_dir() -> Path:
    env = os.environ.get("ARCHLAB_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "archlab"


def cache_key(cpu: str, threads: int, torch_version: str) -> str:
    return f"{cpu} | threads={threads} | torch={torch_version}"


def _cpu_model() -> str:
    from archlab.analysis.runtimes import cpu_model

    return cpu_model()


def measure_ceilings(threads: int, *, gemm_n: int = DEFAULT_GEMM_N, copy_mib: int = DEFAULT_COPY_MIB,
                     repeats: int = DEFAULT_REPEATS) -> Ceilings:
    """Measure peak sgemm GFLOP/s and copy bandwidth at ``threads`` threads (see the module docstring)."""
    import torch

    if threads < 1:
        raise ArchlabError(f"--threads must be >= 1, got {threads}")
    if gemm_n < 1 or copy_mib < 1 or repeats < 1:
        raise ArchlabError("ceilings: gemm_n, copy_mib and repeats must be >= 1")
    start = time.perf_counter()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        g = torch.Generator().manual_seed(0)
        a = torch.randn(gemm_n, gemm_n, generator=g)
        b = torch.randn(gemm_n, gemm_n, generator=g)
        c = torch.empty(gemm_n, gemm_n)
        best = _best(lambda: torch.mm(a, b, out=c), repeats)
        peak = 2.0 * gemm_n ** 3 / best / 1e9
        del a, b, c
        n = copy_mib * 2 ** 20 // BYTES_PER_ELEMENT
        src = torch.ones(n)
        dst = torch.empty(n)
        best = _best(lambda: dst.copy_(src), repeats)
        bandwidth = 2.0 * n * BYTES_PER_ELEMENT / best / 1e9
        del src, dst
    finally:
        torch.set_num_threads(before)
    return Ceilings(peak, bandwidth, threads, _cpu_model(), torch.__version__, gemm_n, copy_mib, repeats,
                    datetime.now(timezone.utc).isoformat(timespec="seconds"), time.perf_counter() - start)


def _best(fn, repeats: int) -> float:
    fn()  # untimed: first-touch of the pages, thread pool start
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return max(best, 1e-9)


def ceilings(threads: int, *, remeasure: bool = False, gemm_n: int = DEFAULT_GEMM_N,
             copy_mib: int = DEFAULT_COPY_MIB, repeats: int = DEFAULT_REPEATS,
             directory: str | Path | None = None) -> Ceilings:
    """The cached ceilings for this machine and thread count, measured (and cached) when missing."""
    import torch

    path = Path(directory) if directory is not None else cache_dir()
    file = path / CACHE_FILE
    key = cache_key(_cpu_model(), threads, torch.__version__)
    entries = _read_cache(file)
    entry = entries.get(key)
    if entry is not None and not remeasure:
        try:
            c = Ceilings(**{k: entry[k] for k in Ceilings.__dataclass_fields__ if k != "cached"}, cached=True)
        except (KeyError, TypeError):
            c = None
        if c is not None and (c.gemm_n, c.copy_mib, c.repeats) == (gemm_n, copy_mib, repeats) \
                and c.peak_gflops > 0 and c.bandwidth_gbs > 0:
            return c
    c = measure_ceilings(threads, gemm_n=gemm_n, copy_mib=copy_mib, repeats=repeats)
    entries[key] = {k: v for k, v in asdict(c).items() if k != "cached"}
    _write_cache(file, entries)
    return c


def _read_cache(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable or corrupt: measure again and rewrite it
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        return {}
    entries = data.get("entries")
    return dict(entries) if isinstance(entries, dict) else {}


def _write_cache(file: Path, entries: dict) -> None:
    from archlab.fileio import write_atomic

    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, json.dumps({"schema_version": SCHEMA_VERSION, "entries": entries}, indent=2) + "\n")
    except (OSError, ArchlabError):
        pass  # a read-only cache folder only costs a measurement next time


# -- the work of each layer ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Work:
    flops: int
    bytes: int

    @property
    def intensity(self) -> float | None:
        return self.flops / self.bytes if self.bytes else None


def layer_flops(layer: Layer) -> int:
    return 2 * layer.madds if layer.op in ("conv", "linear") else layer.other_ops


def layer_work(layer: Layer, shapes: dict[str, tuple[int, ...]], batch: int = 1) -> Work:
    """FLOPs and bytes moved by one layer (see ``WORK_RULE``); ``shapes`` maps tensor names to shapes."""
    if layer.op in ALIASING_OPS:
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
