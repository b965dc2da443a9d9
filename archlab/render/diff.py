"""Diff records -> a table (one line per aligned row) and summary lines."""

from __future__ import annotations

from archlab.render.tables import Table, shape_str
from archlab.render.text import pct
from archlab.static.diff import Diff
from archlab.static.units import Units


def _opts(options: dict) -> str:
    if not options:
        return "no overrides"
    return ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in options.items())


def _pair(a, b) -> str:
    if a is None:
        return f"- -> {b}"
    if b is None:
        return f"{a} -> -"
    return a if a == b else f"{a} -> {b}"


def side_label(side) -> str:
    return f"{side.name} ({_opts(side.options)})"


def diff_table(d: Diff, units: Units | None = None) -> Table:
    u = units or Units()
    c = u.column
    title = f"diff: A = {side_label(d.a)}  vs  B = {side_label(d.b)} [{u.describe()}]"
    by_role = bool(d.rows) and any(r.role for r in d.rows)
    cols = [
        "row",
        *(["role"] if by_role else []),
        "type",
        "fields",
        "in",
        "out",
        "params_a",
        "params_b",
        "params_delta",
        f"{c}_a",
        f"{c}_b",
        f"{c}_delta",
        "status",
    ]
    t = Table(
        title,
        cols,
        numeric={"params_a", "params_b", "params_delta", f"{c}_a", f"{c}_b", f"{c}_delta"},
        drop=["in", "type", "fields", "role", "params_a", "params_b", f"{c}_a", f"{c}_b"],
    )
    t.rows += [_row_cells(r, u, by_role) for r in d.rows]
    ta, tb = d.a.totals, d.b.totals
    t.rows.append(
        [
            "total",
            *([""] if by_role else []),
            "",
            "",
            _pair(shape_str(d.a.input), shape_str(d.b.input)),
            _pair(shape_str(d.a.output), shape_str(d.b.output)),
            ta["params"],
            tb["params"],
            tb["params"] - ta["params"],
            u.scale("madds", ta["madds"]),
            u.scale("madds", tb["madds"]),
            u.scale("madds", tb["madds"] - ta["madds"]),
            "",
        ]
    )
    t.notes = diff_lines(d, u)
    return t


def _row_cells(r, u: Units, by_role: bool) -> list:
    a, b = r.a, r.b
    get = lambda x, k, f=str: None if x is None else f(getattr(x, k))  # noqa: E731
    return [
        _pair(get(a, "index"), get(b, "index")),
        *([r.role] if by_role else []),
        _pair(get(a, "type"), get(b, "type")),
        _pair(get(a, "label"), get(b, "label")),
        _pair(get(a, "in_shape", shape_str), get(b, "in_shape", shape_str)),
        _pair(get(a, "out_shape", shape_str), get(b, "out_shape", shape_str)),
        a.params if a else None,
        b.params if b else None,
        r.delta("params"),
        u.scale("madds", a.madds) if a else None,
        u.scale("madds", b.madds) if b else None,
        u.scale("madds", r.delta("madds")),
        r.status,
    ]


def _rel(a: int, b: int) -> str:
    return pct((b - a) / a, signed=True) if a else "n/a"


def diff_lines(d: Diff, u: Units) -> list[str]:
    tot = d.totals
    fa, fb = shape_str(d.a.fmap_end), shape_str(d.b.fmap_end)
    lines = [f"FMap-end (the head's input): {fa} -> {fb}" + (" (unchanged)" if fa == fb else "")]
    name = "FLOPs" if u.compute == "flops" else "MAdds"
    for key, label, scale in (
        ("params", "params", False),
        ("params_deployed", "params deployed", False),
        ("madds", name, True),
        ("other_ops", "other ops", True),
        ("activations", "activations", True),
        ("peak_activation_bytes", "peak activation bytes (fp32, batch 1)", False),
    ):
        a, b = tot[key]["a"], tot[key]["b"]
        if scale:
            a, b = u.scale(key, a), u.scale(key, b)
        lines.append(f"{label}: {a:,} -> {b:,} ({b - a:+,}, {_rel(a, b)})")
    counts = {s: sum(1 for r in d.rows if r.status == s) for s in ("same", "changed", "added", "removed")}
    lines.append("rows: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + f"; {d.alignment_text()}")
    if not u.is_default:
        lines.append(f"units: {u.describe()}" + ("; FLOPs = 2 x MAdds" if u.compute == "flops" else ""))
    return lines


def diff_data(d: Diff, units: Units) -> dict:
    """The JSON of ``archlab diff``: the records, the units, and FLOPs beside MAdds when asked."""
    data = d.to_dict()
    data["units"] = units.to_dict()
    if units.compute == "flops":
        for rec in data["rows"]:
            rec["delta"]["flops"] = units.scale("madds", rec["delta"]["madds"])
        data["totals"]["flops"] = {
            k: (units.scale("madds", v) if isinstance(v, int) else v) for k, v in data["totals"]["madds"].items()
        }
    return data
