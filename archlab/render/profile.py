"""Profile records -> tables and summary lines."""

from __future__ import annotations

from archlab.ir.ops import CONVENTIONS
from archlab.render.tables import Table, shape_str
from archlab.static.counts import Profile

COUNTS = ["params", "madds", "other_ops", "activations"]


def _pair(v) -> str:
    return "" if v is None else (str(v[0]) if v[0] == v[1] else f"{v[0]}x{v[1]}")


def profile_table(prof: Profile, depth: str = "row") -> Table:
    rfs = prof.receptive_fields()  # columns rf, jump: theoretical receptive field of each output
    if depth == "layer":
        t = Table(
            f"{prof.model}: layers",
            ["name", "op", "kind", "in", "out", "kernel", "stride", "padding", "groups", "rf", "jump", *COUNTS],
            numeric=set(COUNTS) | {"groups"},
        )
        for l in prof.layers:
            t.rows.append(
                [
                    l.name,
                    l.op,
                    l.kind,
                    shape_str(l.in_shape),
                    shape_str(l.out_shape),
                    _pair(l.kernel),
                    _pair(l.stride),
                    _pair(l.padding),
                    l.groups if l.op == "conv" else None,
                    rfs[l.name].label(),
                    rfs[l.name].label("jump"),
                    l.params,
                    l.madds,
                    l.other_ops,
                    l.activations,
                ]
            )
    else:
        t = Table(
            f"{prof.model}: rows",
            ["row", "type", "fields", "in", "out", "layers", "rf", "jump", *COUNTS],
            numeric=set(COUNTS) | {"layers"},
        )
        for r, info in zip(prof.rows, prof.plan.rows):
            rf = rfs[info.layers[-1]] if info.layers else None
            t.rows.append(
                [
                    r.index,
                    r.type,
                    r.label,
                    shape_str(r.in_shape),
                    shape_str(r.out_shape),
                    r.layers,
                    rf.label() if rf else "",
                    rf.label("jump") if rf else "",
                    r.params,
                    r.madds,
                    r.other_ops,
                    r.activations,
                ]
            )
    tot = prof.totals
    t.rows.append(
        ["total", "", "", shape_str(prof.input), shape_str(prof.output)]
        + ([""] * (len(t.columns) - 5 - len(COUNTS)))
        + [tot[k] for k in COUNTS]
    )
    t.notes = summary_lines(prof) + [
        "rf, jump: theoretical receptive field and effective stride in input pixels (Araujo et al. 2019; "
        "* = branches with different jump or centre; `archlab rf` measures the effective RF)"
    ]
    return t


def summary_lines(prof: Profile) -> list[str]:
    tot = prof.totals
    lines = [
        f"totals: params {tot['params']:,} (deployed, BN folded: {tot['params_deployed']:,}) | "
        f"MAdds {tot['madds']:,} ({tot['madds'] / 1e6:.1f}M) | other ops {tot['other_ops']:,} | "
        f"activations {tot['activations']:,}"
    ]
    for key, d in prof.deviation.items():
        lines.append(f"published {key}: {_short(d['published'])} -> archlab {d['archlab']:,} ({d['deviation']:+.2%})")
    if prof.published.get("note"):
        lines.append(f"source: {prof.published['note']}")
    lines += prof.notes  # a traced module: how it was traced; ops without a rule, by name and count
    lines.append(
        "conventions: madds = " + CONVENTIONS["madds"] + "; other_ops = BN 2/elt, act 1/elt, add 1/elt, "
        "pools (see README 'Conventions')"
    )
    return lines


def _short(v) -> str:
    if v >= 1e9:
        return f"{v / 1e9:g}G"
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    return f"{v:,}"


def profile_header(prof: Profile) -> list[str]:
    opts = ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in prof.options.items())
    return [
        f"{prof.model}: input {shape_str(prof.input)} -> output {shape_str(prof.output)}"
        + (f" | options: {opts}" if opts else "")
    ]


def profile_view(prof: Profile, depth: str, mem, findings, units, check=None) -> tuple[list[Table], dict, list[str]]:
    """``archlab profile``: the count table (units applied, out_bytes per layer), memory and lint notes, and the
    cross-check table when ``check`` (a :class:`~archlab.static.crosscheck.CheckReport`) is given; with the JSON
    and header lines. Returns (tables, data, header)."""
    from archlab.render.check import check_table
    from archlab.render.memory import add_out_bytes, memory_lines
    from archlab.render.units import apply_units, units_lines

    table = apply_units(profile_table(prof, depth), units)
    if depth == "layer":
        add_out_bytes(table, mem)
    table.notes = [
        *table.notes,
        *units_lines(units, prof.totals),
        *memory_lines(mem),
        *(f"lint: {f}" for f in findings),
    ]
    data = units.augment(prof.to_dict())
    data["memory"] = mem.to_dict()
    data["lint"] = [f.to_dict() for f in findings]
    header = profile_header(prof)
    if not units.is_default:
        header = [*header, f"units: {units.describe()}"]
    tables = [table]
    if check is not None:
        data["check"] = check.to_dict()
        tables.append(check_table(check, depth))
    return tables, data, header
