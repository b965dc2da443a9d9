"""How numbers, intervals and options read in tables and pages: one policy, so every output agrees.

The policy (every renderer formats through these functions):

* counts (params, MAdds, bytes, n): integers with thousands separators, ``5,419,008``; never rounded;
* ratios (× baseline, params / first entry, FLOP/byte, centre/corner): 3 significant digits, ``1.04``, ``0.470``;
* milliseconds: 3 significant digits, at least 1 decimal below 1000 (``12.3``, ``1.23``, ``0.0456``, ``123.0``),
  whole milliseconds from 1000 up (``1,234``);
* percentages: 1 decimal (``91.1%``, ``+2.1%``); a non-zero value below 0.1% in magnitude keeps 1 significant
  digit (``-0.02%``) so that a small deviation never reads as zero;
* other measured quantities (GFLOP/s, GB/s, MB, MFLOP, pixels): 3 significant digits (``sig``).

The CSV and JSON outputs carry the full-precision values; only text and pages are rounded.
"""

from __future__ import annotations

import math


def shape_str(shape) -> str:
    return "x".join(str(v) for v in shape)


def _finite(v) -> bool:
    return v is not None and not (isinstance(v, float) and not math.isfinite(v))


def count(v) -> str:
    """An integer count with thousands separators (a float is rounded to the nearest integer)."""
    if not _finite(v):
        return "—"
    return f"{round(v):,}"


def sig(v, digits: int = 3) -> str:
    """``digits`` significant digits, no exponent: 1234.5 -> ``1,235``, 0.012345 -> ``0.0123``, 2.0 -> ``2.00``."""
    if not _finite(v):
        return "—"
    v = float(v)
    if v == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - magnitude)
    rounded = round(v, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > magnitude:  # 9.996 -> 10.0: one digit fewer
        decimals = max(0, decimals - 1)
    return f"{v:,.{decimals}f}"


def ratio_value(v) -> str:
    """A ratio: 3 significant digits (``1.04``, ``0.470``, ``2.85``)."""
    return sig(v, 3)


def ms_value(v) -> str:
    """Milliseconds: 3 significant digits, at least one decimal below 1000 ms, whole ms above."""
    if not _finite(v):
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    text = sig(v, 3)
    return text if "." in text else f"{float(v):.1f}"


def pct(fraction, *, signed: bool = False) -> str:
    """A fraction as a percentage with 1 decimal; below 0.1% (not zero): 1 significant digit."""
    if not _finite(fraction):
        return "—"
    value = float(fraction) * 100
    sign = "+" if signed else ""
    if value != 0 and abs(value) < 0.1:
        magnitude = math.floor(math.log10(abs(value)))
        return f"{value:{sign}.{-magnitude}f}%"
    return f"{value:{sign}.1f}%"


def pct_number(v) -> str:
    """A value already in percent (``share %``, ``roof %``) with 1 decimal, no sign."""
    return "—" if not _finite(v) else f"{float(v):.1f}"


def interval(lo, hi, fmt=sig) -> str:
    """``[lo, hi]`` in the given format; empty when either end is missing."""
    if not _finite(lo) or not _finite(hi):
        return ""
    return f"[{fmt(lo)}, {fmt(hi)}]"


def ms(summary) -> str:
    """A latency summary (median and 95% CI), in ms: ``12.3 [12.1, 12.6]``."""
    if summary is None:
        return "—"
    ci = interval(summary.ci_low, summary.ci_high, ms_value)
    return ms_value(summary.median) + (f" {ci}" if ci else "")


def ratio(summary) -> str:
    """A ratio summary (median and 95% CI): ``2.85 [2.77, 2.93]``."""
    if summary is None:
        return "—"
    ci = interval(summary.ci_low, summary.ci_high, ratio_value)
    return ratio_value(summary.median) + (f" {ci}" if ci else "")


def short(v) -> str:
    """A published figure as the papers round it: ``221M``, ``0.8G``, ``990k``."""
    if v >= 1e9:
        return f"{v / 1e9:g}G"
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:,}"


def options_text(options: dict) -> str:
    if not options:
        return "—"
    return ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in options.items())


def width_text(w: float) -> str:
    return f"{w:.1f}" if float(w).is_integer() else f"{w:g}"


def rf_text(rf) -> str:
    return f"{rf.label()} px, jump {rf.label('jump')}"


def fmap_text(rec) -> str:
    return shape_str(rec.fmap_end)


def cell_text(value) -> str:
    """A table cell with no column format: counts with separators, floats to 3 significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return sig(value)
    return str(value)
