"""Profile records -> tables and summary lines."""

from __future__ import annotations

from archlab.ir.ops import CONVENTIONS
from archlab.render.tables import Table, shape_str
from archlab.render.text import pct, short
from archlab.static.counts import Profile

COUNTS = ["params", "madds", "other_ops", "activations"]
# what a narrow terminal hides first (the rest fold; row/name, out, params and MAdds always show)
ROW_DROP = ["layers", "in", "type", "activations", "other_ops", "jump", "rf"]
LAYER_DROP = ["kind", "in", "padding", "groups", "out_bytes", "activations", "other_ops", "stride", "jump", "kernel"]
LAYER_DROP += ["rf", "op"]


def _pair(v) -> str:
    return "" if v is None else (str(v[0]) if v[0] == v[1] else f"{v[0]}x{v[1]}")


def profile_table(prof: Profile, depth: str = "row") -> Table:
    rfs = prof.receptive_fields()  # columns rf, jump: theoretical receptive field of each output
    if depth == "layer":
        t = Table(
            f"{prof.model}: layers",
            ["name", "op", "kind", "in", "out", "kernel", "stride", "padding", "groups", "rf", "jump", *COUNTS],
            numeric=set(COUNTS) | {"groups"},
            drop=list(LAYER_DROP),
        )
        t.rows += [_layer_cells(l, rfs[l.name]) for l in prof.layers]
    else:
        t = Table(
            f"{prof.model}: rows",
            ["row", "type", "fields", "in", "out", "layers", "rf", "jump", *COUNTS],
            numeric=set(COUNTS) | {"layers"},
            drop=list(ROW_DROP),
        )
        t.rows += [_row_cells(r) for r in prof.rows]
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


def _layer_cells(l, rf) -> list:
    return [
        l.name,
        l.op,
        l.kind,
        shape_str(l.in_shape),
        shape_str(l.out_shape),
        _pair(l.kernel),
        _pair(l.stride),
        _pair(l.padding),
        l.groups if l.op == "conv" else None,
        rf.label(),
        rf.label("jump"),
        l.params,
        l.madds,
        l.other_ops,
        l.activations,
    ]


def _row_cells(r) -> list:
    return [
        r.index,
        r.type,
        r.label,
        shape_str(r.in_shape),
        shape_str(r.out_shape),
        r.layers,
        r.rf.label() if r.rf else "",
        r.rf.label("jump") if r.rf else "",
        r.params,
        r.madds,
        r.other_ops,
        r.activations,
    ]


def summary_lines(prof: Profile) -> list[str]:
    tot = prof.totals
    lines = [
        f"totals: params {tot['params']:,} (deployed, BN folded: {tot['params_deployed']:,}) | "
        f"MAdds {tot['madds']:,} ({tot['madds'] / 1e6:.1f}M) | other ops {tot['other_ops']:,} | "
        f"activations {tot['activations']:,}"
    ]
    for key, d in prof.deviation.items():
        lines.append(
            f"published {key}: {short(d['published'])} -> archlab {d['archlab']:,} ({pct(d['deviation'], signed=True)})"
        )
    if prof.published.get("note"):
        lines.append(f"source: {prof.published['note']}")
    if prof.published_at:
        lines.append(
            f"the published figures hold at {options_flags(prof.published_at)}, not at these options: run with "
            "those for archlab's deviation from them"
        )
    lines += prof.notes  # a traced module: how it was traced; ops without a rule, by name and count
    lines.append(
        "conventions: madds = " + CONVENTIONS["madds"] + "; other_ops = BN 2/elt, act 1/elt, add 1/elt, "
        "pools (see README 'Conventions')"
    )
    return lines


def options_flags(options: dict) -> str:
    """``{'classes': 81, 'input': [320, 320]}`` -> ``--classes 81 --input 320x320``."""
    out = []
    for k, v in options.items():
        flag = "--" + k.replace("_", "-")
        out.append(flag if v is True else f"{flag} {'x'.join(map(str, v)) if isinstance(v, list) else v}")
    return " ".join(out)


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
