"""How numbers, intervals and options read in tables and pages (one place, so every output agrees)."""

from __future__ import annotations

from archlab.render.tables import shape_str


def ms(summary, nd: int = 2) -> str:
    if summary is None:
        return "—"
    ci = f" [{summary.ci_low:.{nd}f}, {summary.ci_high:.{nd}f}]" if summary.ci_low is not None else ""
    return f"{summary.median:.{nd}f}{ci}"


def ratio(summary) -> str:
    if summary is None:
        return "—"
    ci = f" [{summary.ci_low:.2f}, {summary.ci_high:.2f}]" if summary.ci_low is not None else ""
    return f"{summary.median:.2f}{ci}"


def short(v) -> str:
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
