"""Measuring the machine's ceilings (peak fp32 GFLOP/s, copy bandwidth per memory level) and caching them.

The method (robust on a machine shared with other jobs):

* **peak**: fp32 ``torch.mm`` of ``n x n`` matrices for n = 128, 256, 512 and of the shapes of a small
  network's 1x1 convolutions (``m x k`` by ``k x n``: m = H*W, k = C_in, n = C_out; these run ~4% faster than
  square ones on AVX-512, and ONNX Runtime's 1x1 convs reach them); each sample times enough back-to-back
  calls for >= 50 us; samples go on for ``budget_s`` per shape; the ceiling is the best sample of any shape.
  Many short samples, because a long one (n = 2048, 0.1 s) is time-sliced whenever the machine is busy and
  then reports the others' load, not the machine (78-86 instead of 170-190 GFLOP/s on one machine here);
* **bandwidth per level**: ``dst.copy_(src)`` with a working set (src + dst) of half of L1d, half of L2,
  16 MiB (the last-level cache) and 2 x ``dram_mib`` MiB (DRAM), best sample, ``2 x size`` bytes per copy, the
  time of a 64-byte ``copy_`` (the dispatch) subtracted; and the in-place update ``torch.relu_(buf)`` of a
  buffer as large as the copy's working set (read + write counted; no write-allocate: an in-place layer
  moves its bytes faster than a copy); a level is never slower than the one below it;
  capacities from sysfs (a VM may report its host's whole L3: a larger capacity only lowers the bound);
* the machine's load averages before and after are recorded with the figures.

Cached in ``$ARCHLAB_CACHE_DIR/ceilings.json`` (default ``~/.cache/archlab/``, or ``$XDG_CACHE_HOME/archlab``),
keyed by CPU model, thread count and torch version; an entry measured by another method or options, or older
than ``max_age_s`` (a day), is measured again. The record and the bound's maths: :mod:`archlab.static.roofline`.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.static.roofline import BYTES_PER_ELEMENT, Ceilings, Level
from archlab.timing.machine import cpu_model, loadavg

SCHEMA_VERSION = 2
METHOD = "levels-3"
# square sizes n (n x n x n) and (m, k, n) shapes of 1x1 convolutions (m = H*W, k = C_in, n = C_out)
GEMM_SIZES: tuple = (
    128,
    256,
    512,
    (784, 128, 128),
    (784, 256, 128),
    (196, 512, 128),
    (784, 128, 512),
    (3136, 256, 128),
)
DRAM_MIB = 128  # each buffer: a 256 MiB working set
DEFAULT_BUDGET_S = 0.25  # seconds of samples per size
MAX_AGE_S = 86_400.0  # a day
MIN_SAMPLE_S = 5e-5
CACHE_FILE = "ceilings.json"
FALLBACK_CACHES = {"L1": 32 * 2**10, "L2": 2**20, "L3": 32 * 2**20}


def cache_dir() -> Path:
    env = os.environ.get("ARCHLAB_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "archlab"


def cache_key(cpu: str, threads: int, torch_version: str) -> str:
    return f"{cpu} | threads={threads} | torch={torch_version}"


def gemm_shape(size: int | tuple[int, int, int]) -> tuple[int, int, int]:
    """(m, k, n) of a sgemm size: an int n is the square n x n x n."""
    return (size, size, size) if isinstance(size, int) else (int(size[0]), int(size[1]), int(size[2]))


def shape_text(size: int | tuple[int, int, int]) -> str:
    return "x".join(map(str, gemm_shape(size)))


def method_id(budget_s: float, gemm_sizes: tuple, dram_mib: int) -> str:
    return f"{METHOD} budget={budget_s:g} gemm={','.join(map(shape_text, gemm_sizes))} dram={dram_mib}MiB"


def cache_sizes(base: str = "/sys/devices/system/cpu/cpu0/cache") -> dict[str, int]:
    """Data/unified cache sizes of cpu0 by level (``L1``, ``L2``, ``L3``) from sysfs; {} where unknown."""
    out: dict[str, int] = {}
    try:
        for d in sorted(os.listdir(base)):
            if not d.startswith("index"):
                continue
            path = Path(base) / d
            if (path / "type").read_text().strip() == "Instruction":
                continue
            size = (path / "size").read_text().strip()
            mult = {"K": 2**10, "M": 2**20, "G": 2**30}.get(size[-1:], 1)
            out[f"L{(path / 'level').read_text().strip()}"] = int(size.rstrip("KMG")) * mult
    except (OSError, ValueError):
        return {}
    return out


def best_of(fn, budget_s: float, min_samples: int = 5, clock=time.perf_counter_ns) -> tuple[float, int]:
    """(best seconds per call, samples): samples of enough back-to-back calls for ``MIN_SAMPLE_S`` each, for
    ``budget_s`` seconds (at least ``min_samples``), after one untimed call."""
    fn()
    reps = 1
    while True:
        t0 = clock()
        for _ in range(reps):
            fn()
        if (clock() - t0) / 1e9 >= MIN_SAMPLE_S or reps >= 1 << 20:
            break
        reps *= 2
    best, n = math.inf, 0
    end = time.perf_counter() + budget_s
    while n < min_samples or time.perf_counter() < end:
        t0 = clock()
        for _ in range(reps):
            fn()
        best = min(best, (clock() - t0) / 1e9 / reps)
        n += 1
    return max(best, 1e-12), n


def measure_ceilings(
    threads: int,
    *,
    budget_s: float = DEFAULT_BUDGET_S,
    gemm_sizes: tuple = GEMM_SIZES,
    dram_mib: int = DRAM_MIB,
    caches: dict[str, int] | None = None,
) -> Ceilings:
    """Measure the peak and the copy bandwidth of every level at ``threads`` threads (module docstring)."""
    import torch

    if threads < 1:
        raise ArchlabError(f"--threads must be >= 1, got {threads}")
    if budget_s <= 0 or dram_mib < 1 or not gemm_sizes or min(min(gemm_shape(s)) for s in gemm_sizes) < 1:
        raise ArchlabError("ceilings: budget_s, dram_mib and the gemm sizes must be > 0")
    start, load_before = time.perf_counter(), loadavg()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        peak, best_shape, n_peak = _peak(gemm_sizes, budget_s)
        levels, n_copy = _levels(caches if caches is not None else cache_sizes(), budget_s, dram_mib)
    finally:
        torch.set_num_threads(before)
    load_after = loadavg()
    load = tuple(max(a, b) for a, b in zip(load_before, load_after)) if load_before and load_after else None
    return Ceilings(
        peak,
        levels[-1].gbs,
        threads,
        cpu_model(),
        torch.__version__,
        best_shape,
        dram_mib,
        min(n_peak, n_copy),
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
        time.perf_counter() - start,
        levels=tuple(levels),
        loadavg=load,
        method=method_id(budget_s, tuple(gemm_sizes), dram_mib),
        age_s=0.0,
    )


def _peak(sizes: tuple, budget_s: float) -> tuple[float, str, int]:
    """(best GFLOP/s, the m x k x n shape it was reached at, the fewest samples of any shape)."""
    import torch

    g = torch.Generator().manual_seed(0)
    best, best_shape, fewest = 0.0, shape_text(sizes[0]), 1 << 30
    for size in sizes:
        m, k, n = gemm_shape(size)
        a, b, c = torch.randn(m, k, generator=g), torch.randn(k, n, generator=g), torch.empty(m, n)
        t, samples = best_of(lambda a=a, b=b, c=c: torch.mm(a, b, out=c), budget_s)
        fewest = min(fewest, samples)
        if 2.0 * m * k * n / t / 1e9 > best:
            best, best_shape = 2.0 * m * k * n / t / 1e9, shape_text(size)
    return best, best_shape, fewest


def _levels(caches: dict[str, int], budget_s: float, dram_mib: int) -> tuple[list[Level], int]:
    import torch

    s0, d0 = torch.ones(16), torch.empty(16)
    dispatch, _ = best_of(lambda: d0.copy_(s0), budget_s / 2)
    dispatch_update, _ = best_of(lambda: torch.relu_(s0), budget_s / 2)
    l1 = caches.get("L1", FALLBACK_CACHES["L1"])
    l2 = max(caches.get("L2", FALLBACK_CACHES["L2"]), 2 * l1)
    l3 = max(caches.get("L3", FALLBACK_CACHES["L3"]), 2 * l2)
    plan: list[tuple[str, float, int]] = [("L1", l1, l1 // 2), ("L2", l2, l2 // 2)]
    plan += [("L3", l3, min(16 * 2**20, l3 // 2)), ("DRAM", math.inf, 2 * dram_mib * 2**20)]
    levels, fewest = [], 1 << 30
    for name, cap, ws in plan:
        budget = budget_s * (4 if name == "DRAM" else 1)
        n = max(1, ws // (2 * BYTES_PER_ELEMENT))
        src, dst = torch.ones(n), torch.empty(n)
        t, k = best_of(lambda src=src, dst=dst: dst.copy_(src), budget)
        del src, dst
        buf = torch.ones(2 * n)  # the same footprint as the copy's working set
        tu, ku = best_of(lambda buf=buf: torch.relu_(buf), budget)
        del buf
        fewest = min(fewest, k, ku)
        nbytes = 2 * n * BYTES_PER_ELEMENT
        copy = nbytes / max(t - dispatch, t * 0.05) / 1e9
        update = 2 * nbytes / max(tu - dispatch_update, tu * 0.05) / 1e9
        levels.append(Level(name, float(cap), copy, nbytes, update))
    for i in range(len(levels) - 2, -1, -1):  # a faster level is never slower than the one below it
        lv, below = levels[i], levels[i + 1]
        levels[i] = replace(lv, gbs=max(lv.gbs, below.gbs), update_gbs=max(lv.update_gbs, below.update_gbs))
    return levels, fewest


def ceilings(
    threads: int | None,
    *,
    remeasure: bool = False,
    max_age_s: float = MAX_AGE_S,
    directory: str | Path | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    gemm_sizes: tuple = GEMM_SIZES,
    dram_mib: int = DRAM_MIB,
) -> Ceilings:
    """The cached ceilings for this machine and thread count (None: torch's); measured (and cached) when missing,
    measured by another method, older than ``max_age_s`` or ``remeasure``."""
    import torch

    threads = threads or torch.get_num_threads()
    file = (Path(directory) if directory is not None else cache_dir()) / CACHE_FILE
    key = cache_key(cpu_model(), threads, torch.__version__)
    entries = _read_cache(file)
    method = method_id(budget_s, tuple(gemm_sizes), dram_mib)
    cached = None if remeasure else _from_entry(entries.get(key), file, method)
    if cached is not None and cached.age_s is not None and cached.age_s <= max_age_s:
        return cached
    c = replace(
        measure_ceilings(threads, budget_s=budget_s, gemm_sizes=gemm_sizes, dram_mib=dram_mib), cache_file=str(file)
    )
    entries[key] = _to_entry(c)
    _write_cache(file, entries)
    return c


def _to_entry(c: Ceilings) -> dict:
    d = c.to_dict()
    keep = set(Ceilings.__dataclass_fields__) - {"cached", "cache_file", "age_s"}
    return {k: d[k] for k in keep} | {"method": c.method}


def _from_entry(entry, file: Path, method: str) -> Ceilings | None:
    """A cached entry as Ceilings (with its age), or None when absent, invalid or of another method."""
    if not isinstance(entry, dict) or entry.get("method") != method:
        return None
    try:
        fields = {k: entry[k] for k in Ceilings.__dataclass_fields__ if k not in ("cached", "cache_file", "age_s")}
        fields["levels"] = tuple(Level.from_dict(d) for d in entry["levels"])
        fields["loadavg"] = tuple(entry["loadavg"]) if entry.get("loadavg") is not None else None
        measured = datetime.fromisoformat(str(entry["measured_at"]))
        c = Ceilings(**fields, cached=True, cache_file=str(file))
    except (KeyError, TypeError, ValueError):
        return None
    if measured.tzinfo is None:
        measured = measured.replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - measured).total_seconds()
    if c.peak_gflops <= 0 or not c.levels or any(lv.gbs <= 0 for lv in c.levels) or age < -60:
        return None
    return replace(c, age_s=max(age, 0.0))


def _read_cache(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing, unreadable or corrupt: measure again and rewrite it
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        return {}
    entries = data.get("entries")
    return dict(entries) if isinstance(entries, dict) else {}


def _write_cache(file: Path, entries: dict) -> None:
    from archlab.storage.files import write_atomic

    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, json.dumps({"schema_version": SCHEMA_VERSION, "entries": entries}, indent=2) + "\n")
    except (OSError, ArchlabError):
        pass  # a read-only cache folder only costs a measurement next time
