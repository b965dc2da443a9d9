"""The machine's ceilings (``archlab ceilings``) as tables: the bandwidths per memory level (copy and in-place
update, with each level's capacity and ridge), then the peak, the DRAM bandwidth, the load average when they
were measured and their age."""

from __future__ import annotations

import math

from archlab.render.tables import Table
from archlab.render.text import sig
from archlab.static.roofline import Ceilings


def size_text(nbytes) -> str:
    """A capacity in binary units: ``48 KiB``, ``2 MiB``, ``16.5 MiB``."""
    if nbytes is None or not math.isfinite(nbytes):
        return ""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


def levels_table(c: Ceilings) -> Table:
    """One line per memory level, fastest first: what fits it, its best copy and in-place update bandwidth."""
    t = Table(
        f"memory levels ({c.threads} thread{'s' if c.threads != 1 else ''})",
        ["level", "capacity", "copy GB/s", "update GB/s", "ridge FLOP/B", "copy working set"],
        numeric={"capacity", "copy GB/s", "update GB/s", "ridge FLOP/B", "copy working set"},
        formats={
            "capacity": size_text,
            "copy GB/s": sig,
            "update GB/s": sig,
            "ridge FLOP/B": sig,
            "copy working set": size_text,
        },
    )
    for level in c.memory_levels:
        t.rows.append(
            [
                level.name,
                None if math.isinf(level.capacity) else int(level.capacity),
                level.gbs,
                level.update_gbs or None,
                c.peak_gflops / level.gbs if level.gbs > 0 else None,
                level.working_set or None,
            ]
        )
    t.notes = [
        "copy: best dst.copy_(src) with the working set (src + dst) inside the level, read + write bytes; update: "
        "best in-place update of one buffer that size (no write-allocate), read + write bytes; capacity of DRAM: "
        "everything beyond the last cache"
    ]
    return t


def ceilings_table(c: Ceilings) -> Table:
    d = c.to_dict()
    t = Table("machine ceilings", ["quantity", "value", "method"], numeric={"value"})
    load = c.loadavg[0] if c.loadavg else None
    t.rows += [
        ["peak fp32 GFLOP/s", round(c.peak_gflops, 2), d["method"]["peak"]],
        ["DRAM copy bandwidth GB/s", round(c.bandwidth_gbs, 3), d["method"]["bandwidth"]],
        ["ridge FLOP/byte", round(c.ridge, 2), "peak / DRAM bandwidth: below it a layer out of cache is memory-bound"],
        [
            "load average when measured",
            round(load, 2) if load is not None else None,
            "1-minute load average (a busy machine measures lower ceilings)" if load is not None else "not recorded",
        ],
        [
            "age (hours)",
            round((c.age_s or 0.0) / 3600, 2),
            f"measured {c.measured_at}; measured again when older than a day (--remeasure: now)",
        ],
    ]
    t.notes = [
        c.provenance(),
        f"{c.cpu_model}, {c.threads} thread{'s' if c.threads != 1 else ''}, torch {c.torch}; "
        f"{'cached' if c.cached else 'measured now'} ({c.measured_at}, took {c.seconds:.1f} s)"
        + (f"; cache {c.cache_file}" if c.cache_file else ""),
    ]
    return t


def ceilings_data(c: Ceilings) -> dict:
    """``-f json``: the record (levels, load, method, age) and the one-line provenance."""
    return {**c.to_dict(), "provenance": c.provenance()}
