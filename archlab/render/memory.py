"""Memory records -> summary lines and a per-layer output-bytes column."""

from __future__ import annotations

from archlab.render.tables import Table
from archlab.static.memory import WEIGHT_BYTES, MemoryReport


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def memory_lines(mem: MemoryReport) -> list[str]:
    scope = "batch 1" if mem.batch == 1 else f"batch {mem.batch}, per image {mem.peak_bytes // mem.batch:,} B"
    alive = ", ".join(mem.peak_tensors)
    sizes = mem.model_bytes
    weights = " | ".join(
        f"{dt} {sizes[dt]['params']:,} B ({human_bytes(sizes[dt]['params'])}), deployed "
        f"{sizes[dt]['params_deployed']:,} B"
        for dt in WEIGHT_BYTES
    )
    return [
        f"peak activation memory ({mem.dtype}, {scope}): {mem.peak_bytes:,} B ({human_bytes(mem.peak_bytes)}) while "
        f"{mem.peak_layer} runs; alive: {alive} (rule: tensors freed after their last reader, residual inputs kept "
        f"until their add; README 'Memory')",
        f"model size (weights only; deployed = BN folded): {weights}",
    ] + (
        [
            f"memory includes the outputs of {sum(mem.uncounted.values())} call(s) archlab has no rule for "
            f"({', '.join(sorted(mem.uncounted))}), sized as traced"
        ]
        if mem.uncounted
        else []
    )


def add_out_bytes(table: Table, mem: MemoryReport) -> Table:
    """Append an ``out_bytes`` column to a per-layer table (rows keyed by the layer name in column 0)."""
    by_name = {m.name: m.out_bytes for m in mem.layers}
    table.columns.append("out_bytes")
    table.numeric.add("out_bytes")
    for row in table.rows:
        row.append(by_name.get(row[0]))
    return table
