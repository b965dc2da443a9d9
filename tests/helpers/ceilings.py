"""Ceilings for tests: a cache file written by hand (so no test measures the machine; the ``cached_ceilings``
fixture in conftest) and fake records."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

from archlab.nn import ceilings as cl
from archlab.static.roofline import Ceilings, Level
from archlab.timing.machine import cpu_model

PEAK, BW = 123.0, 4.5  # GFLOP/s and GB/s of the default fake entry


def fake_levels(bw: float) -> tuple[Level, ...]:
    return (Level("L1", 48 * 2**10, 40 * bw), Level("L2", 2 * 2**20, 8 * bw), Level("DRAM", math.inf, bw))


def write_cache(
    directory: Path, peak: float = PEAK, bw: float = BW, threads: int = 1, measured_at: str | None = None
) -> Path:
    """A ceilings cache holding one entry for ``threads`` with the default method, measured now (or then)."""
    import torch

    c = Ceilings(
        peak,
        bw,
        threads,
        cpu_model(),
        torch.__version__,
        "256x256x256",
        cl.DRAM_MIB,
        5,
        measured_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        1.0,
        levels=fake_levels(bw),
        loadavg=(0.5, 0.5, 0.5),
        method=cl.method_id(cl.DEFAULT_BUDGET_S, cl.GEMM_SIZES, cl.DRAM_MIB),
    )
    key = cl.cache_key(cpu_model(), threads, torch.__version__)
    file = Path(directory) / cl.CACHE_FILE
    file.write_text(json.dumps({"schema_version": cl.SCHEMA_VERSION, "entries": {key: cl._to_entry(c)}}))
    return file
