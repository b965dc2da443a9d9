"""A fake ceilings cache, so that no test measures the machine (``cached_ceilings`` fixture in conftest)."""

import json
from pathlib import Path

PEAK, BW = 123.0, 4.5  # GFLOP/s and GB/s of the fake entry


def write_cache(folder: Path) -> Path:
    """Write ``folder/ceilings.json`` holding ceilings for 1 thread (the default sizes) on this machine."""
    import torch

    from archlab.nn import ceilings as rl
    from archlab.timing.machine import cpu_model

    entry = {
        "peak_gflops": PEAK,
        "bandwidth_gbs": BW,
        "threads": 1,
        "cpu_model": cpu_model(),
        "torch": torch.__version__,
        "gemm_n": rl.DEFAULT_GEMM_N,
        "copy_mib": rl.DEFAULT_COPY_MIB,
        "repeats": rl.DEFAULT_REPEATS,
        "measured_at": "2026-01-01T00:00:00+00:00",
        "seconds": 1.0,
    }
    key = rl.cache_key(cpu_model(), 1, torch.__version__)
    path = Path(folder) / "ceilings.json"
    path.write_text(json.dumps({"schema_version": 1, "entries": {key: entry}}))
    return path
