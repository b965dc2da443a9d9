"""The machine's ceilings (``archlab ceilings``) as a table."""

from __future__ import annotations

from archlab.render.tables import Table


def ceilings_table(c) -> Table:
    d = c.to_dict()
    t = Table("machine ceilings", ["quantity", "value", "method"], numeric={"value"})
    t.rows += [
        ["peak fp32 GFLOP/s", round(c.peak_gflops, 2), d["method"]["peak"]],
        ["memory bandwidth GB/s", round(c.bandwidth_gbs, 3), d["method"]["bandwidth"]],
        ["ridge FLOP/byte", round(c.ridge, 2), "peak / bandwidth: below it a layer is memory-bound"],
    ]
    t.notes = [
        f"{c.cpu_model}, {c.threads} thread{'s' if c.threads != 1 else ''}, torch {c.torch}; "
        f"{'cached' if c.cached else 'measured now'} ({c.measured_at}, took {c.seconds:.1f} s)"
        + (f"; cache {c.cache_file}" if c.cache_file else "")
    ]
    return t
