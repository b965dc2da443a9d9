"""Apply ``--units`` / ``--batch`` to a count table: rename the compute column, scale per-image counts, label it."""

from __future__ import annotations

from archlab.render.tables import Table
from archlab.static.units import PER_IMAGE_KEYS, Units


def apply_units(table: Table, units: Units) -> Table:
    """Scale the ``madds``/``other_ops``/``activations`` columns in place (``params`` never scale)."""
    if units.is_default:
        return table
    idx = {c: i for i, c in enumerate(table.columns) if c in PER_IMAGE_KEYS}
    for row in table.rows:
        for col, i in idx.items():
            if isinstance(row[i], int) and not isinstance(row[i], bool):
                row[i] = units.scale(col, row[i])
    if "madds" in idx and units.compute != "madds":
        table.columns[idx["madds"]] = units.column
        table.numeric.add(units.column)
    table.title += f" [{units.describe()}]"
    return table


def units_lines(units: Units, totals: dict) -> list[str]:
    """What the numbers in the table mean, with the per-image figures alongside the per-batch ones."""
    if units.is_default:
        return []
    what = (
        "FLOPs = 2 x MAdds (a multiply and an add each count 1; other ops and params unchanged)"
        if units.compute == "flops"
        else "MAdds"
    )
    lines = [f"units: {what}; counts {units.scope}"]
    name = "FLOPs" if units.compute == "flops" else "MAdds"
    per_image = units.compute_value(totals["madds"], per_image=True)
    if units.batch > 1:
        lines.append(
            f"{name} per batch of {units.batch}: {units.compute_value(totals['madds']):,} | per image: "
            f"{per_image:,} | other ops per batch {totals['other_ops'] * units.batch:,} "
            f"(per image {totals['other_ops']:,}) | params {totals['params']:,} (do not scale)"
        )
    else:
        lines.append(f"{name} per image: {per_image:,} ({per_image / 1e6:.1f}M)")
    return lines
