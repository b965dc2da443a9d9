"""Cross-check records -> a table (per row or per layer) and the lines that explain the totals."""

from __future__ import annotations

from archlab.render.tables import Table
from archlab.static.crosscheck import CheckReport

NUMERIC = {"madds", "other_ops", "fvcore", "fvcore-madds", "thop", "thop-madds"}


def _tool(report: CheckReport, dist: str) -> str:
    v = report.tools.get(dist)
    return f"{dist} {v}" if v else dist


def check_table(report: CheckReport, depth: str = "row") -> Table:
    thop = _tool(report, "ultralytics-thop") if "ultralytics-thop" in report.tools else _tool(report, "thop")
    scope = "per image" if report.batch == 1 else f"per batch of {report.batch} images"
    title = (
        f"{report.model}: cross-check with {_tool(report, 'fvcore')} and {thop} "
        f"(multiply-adds as each tool counts them, {scope}; --units does not apply)"
    )
    first = ["name", "op"] if depth == "layer" else ["row", "type"]
    t = Table(
        title,
        [
            *first,
            "madds",
            "other_ops",
            "fvcore",
            "fvcore-madds",
            "fvcore rules",
            "thop",
            "thop-madds",
            "thop rules",
            "status",
        ],
        numeric=NUMERIC,
        drop=["other_ops", "fvcore rules", "thop rules", first[1], "fvcore", "thop"],
    )
    t.rows += _layer_rows(report) if depth == "layer" else _row_rows(report)
    a = report.totals["archlab"]
    fv, th = report.totals["fvcore"]["flops"], report.totals["thop"]["ops"]
    t.rows.append(
        [
            "total",
            "",
            a["madds"],
            a["other_ops"],
            fv,
            fv - a["madds"],
            "",
            th,
            th - a["madds"],
            "",
            "ok" if report.ok else "FAILED",
        ]
    )
    t.notes = [
        "fvcore-madds, thop-madds: a difference, the tool's count minus archlab's madds (0: they agree; "
        "otherwise the tool's rule, named under 'rules')",
        *check_lines(report),
    ]
    return t


def _layer_rows(report: CheckReport) -> list[list]:
    return [
        [
            lc.name,
            f"{lc.op}:{lc.kind}" if lc.kind else lc.op,
            lc.madds,
            lc.other_ops,
            lc.fvcore,
            lc.fvcore - lc.madds,
            lc.fvcore_rule.short,
            lc.thop,
            lc.thop - lc.madds,
            lc.thop_rule.short,
            lc.status,
        ]
        for lc in report.layers
    ]


def _row_rows(report: CheckReport) -> list[list]:
    out = []
    for r in report.rows:
        m = r.total("madds")
        out.append(
            [
                r.index,
                r.type,
                m,
                r.total("other_ops"),
                r.total("fvcore"),
                r.total("fvcore") - m,
                r.rules("fvcore"),
                r.total("thop"),
                r.total("thop") - m,
                r.rules("thop"),
                r.status,
            ]
        )
    return out


def _eq(lhs: int, rhs: int) -> str:
    return "=" if lhs == rhs else "!="


def _equation(tool: str, total: int, part: dict) -> str:
    """``tool total = term + term ...``: the op table's per-op rules summed (``!=`` when they do not add up)."""
    terms = part["terms"]
    summed = sum(terms.values())
    line = f"{tool} {total:,} {_eq(total, summed)} " + " + ".join(f"{label} {n:,}" for label, n in terms.items())
    if summed != total:
        line += f" (the rules sum to {summed:,})"
    return line + (f"; counted 0: {', '.join(part['zero'])}" if part["zero"] else "")


def check_lines(report: CheckReport) -> list[str]:
    a = report.totals["archlab"]
    fv, th = report.totals["fvcore"], report.totals["thop"]
    lines = [_equation("fvcore", fv["flops"], report.breakdown["fvcore"])]
    if report.unsupported:
        uns = ", ".join(f"{op} x{n}" for op, n in sorted(report.unsupported.items()))
        lines.append(f"fvcore skips (unsupported ops it lists, counted 0): {uns}; aten::relu is ignored silently")
    lines.append(_equation("thop", th["ops"], report.breakdown["thop"]))
    nc = report.not_counted
    if nc["residual_adds"]:
        lines.append(
            f"neither tool counts residual adds: {nc['residual_adds']} adds, {nc['elements']:,} elements "
            f"(archlab other_ops: 1 per element)"
        )
    lines.append(
        f"activations: archlab {a['activations']:,}, fvcore {fv['activations']:,} | params: archlab "
        f"{a['params']:,}, fvcore {fv['params']:,}, thop {th['params']:,}"
    )
    if report.memory:
        m = report.memory
        lines.append(
            f"peak activation memory, input held by the caller: plan rule {m['plan_peak_bytes_input_held']:,} B"
            f" {_eq(m['plan_peak_bytes_input_held'], m['torch_peak_bytes'])} PyTorch live tensors "
            f"{m['torch_peak_bytes']:,} B" + (f" ({m['note']})" if m.get("note") else "")
        )
    if report.uncounted:
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(report.uncounted.items()))
        lines.append(f"not compared (archlab has no rule for these ops; listed as uncounted): {listed}")
    failures = report.failures
    if failures:
        lines.append(f"check FAILED: {len(failures)} problem(s):")
        lines += [f"  {f}" for f in failures[:20]]
        if len(failures) > 20:
            lines.append(f"  ... and {len(failures) - 20} more (see --format json, check.failures)")
    else:
        lines.append(
            "check ok: conv/linear MAdds, activations and params agree exactly for every layer; every other "
            "difference is the tool's stated rule (README 'Conventions compared')"
        )
    return lines
