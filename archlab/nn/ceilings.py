"""Measuring the machine's ceilings (peak fp32 GFLOP/s, memory bandwidth) and caching them per machine.

Cached in ``$ARCHLAB_CACHE_DIR/ceilings.json`` (default ``~/.cache/archlab/``, or ``$XDG_CACHE_HOME/archlab``),
keyed by CPU model, thread count and torch version; an entry measured with other sizes is measured again.
The record and the roofline maths: :mod:`archlab.static.roofline`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.static.roofline import BYTES_PER_ELEMENT, Ceilings

SCHEMA_VERSION = 1
DEFAULT_GEMM_N = 2048
DEFAULT_COPY_MIB = 256
DEFAULT_REPEATS = 10
CACHE_FILE = "ceilings.json"


def cache_dir() -> Path:
    env = os.environ.get("ARCHLAB_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "archlab"


def cache_key(cpu: str, threads: int, torch_version: str) -> str:
    return f"{cpu} | threads={threads} | torch={torch_version}"


def _cpu_model() -> str:
    from archlab.nn.runtimes import cpu_model

    return cpu_model()


def measure_ceilings(
    threads: int, *, gemm_n: int = DEFAULT_GEMM_N, copy_mib: int = DEFAULT_COPY_MIB, repeats: int = DEFAULT_REPEATS
) -> Ceilings:
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
        peak = _gemm_gflops(gemm_n, repeats)
        bandwidth = _copy_gbs(copy_mib, repeats)
    finally:
        torch.set_num_threads(before)
    return Ceilings(
        peak,
        bandwidth,
        threads,
        _cpu_model(),
        torch.__version__,
        gemm_n,
        copy_mib,
        repeats,
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
        time.perf_counter() - start,
    )


def _gemm_gflops(n: int, repeats: int) -> float:
    import torch

    g = torch.Generator().manual_seed(0)
    a, b, c = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g), torch.empty(n, n)
    return 2.0 * n**3 / _best(lambda: torch.mm(a, b, out=c), repeats) / 1e9


def _copy_gbs(mib: int, repeats: int) -> float:
    import torch

    n = mib * 2**20 // BYTES_PER_ELEMENT
    src, dst = torch.ones(n), torch.empty(n)
    return 2.0 * n * BYTES_PER_ELEMENT / _best(lambda: dst.copy_(src), repeats) / 1e9


def _best(fn, repeats: int) -> float:
    fn()  # untimed: first-touch of the pages, thread pool start
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return max(best, 1e-9)


def ceilings(
    threads: int | None,
    *,
    remeasure: bool = False,
    gemm_n: int = DEFAULT_GEMM_N,
    copy_mib: int = DEFAULT_COPY_MIB,
    repeats: int = DEFAULT_REPEATS,
    directory: str | Path | None = None,
) -> Ceilings:
    """The cached ceilings for this machine and thread count (None: torch's), measured (and cached) when missing."""
    import torch

    threads = threads or torch.get_num_threads()
    path = Path(directory) if directory is not None else cache_dir()
    file = path / CACHE_FILE
    key = cache_key(_cpu_model(), threads, torch.__version__)
    entries = _read_cache(file)
    entry = entries.get(key)
    if entry is not None and not remeasure:
        try:
            fields = {k: entry[k] for k in Ceilings.__dataclass_fields__ if k not in ("cached", "cache_file")}
            c = Ceilings(**fields, cached=True, cache_file=str(file))
        except (KeyError, TypeError):
            c = None
        if (
            c is not None
            and (c.gemm_n, c.copy_mib, c.repeats) == (gemm_n, copy_mib, repeats)
            and c.peak_gflops > 0
            and c.bandwidth_gbs > 0
        ):
            return c
    c = replace(measure_ceilings(threads, gemm_n=gemm_n, copy_mib=copy_mib, repeats=repeats), cache_file=str(file))
    entries[key] = {k: v for k, v in asdict(c).items() if k not in ("cached", "cache_file")}
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
    from archlab.storage.files import write_atomic

    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(file, json.dumps({"schema_version": SCHEMA_VERSION, "entries": entries}, indent=2) + "\n")
    except (OSError, ArchlabError):
        pass  # a read-only cache folder only costs a measurement next time
