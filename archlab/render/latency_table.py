"""Latency reports -> tables: time per row or per layer, share, achieved GFLOP/s and GB/s, roof fraction."""

from __future__ import annotations

from archlab.render.tables import Table, shape_str
from archlab.render.text import ms_value, pct, pct_number, sig
from archlab.timing.anatomy import LatencyReport

WORK_COLS = ["MFLOP", "MB", "FLOP/B", "GFLOP/s", "GB/s", "roof %"]
# text: ms and the measured rates to 3 significant digits, shares to 1 decimal (render.text); csv: full precision
FORMATS = {"ms": ms_value, "share %": pct_number, "roof %": pct_number, **{c: sig for c in WORK_COLS[:5]}}
DROP = ["MB", "MFLOP", "FLOP/B", "GB/s", "out", "type", "fields", "roof %", "GFLOP/s"]


def _work(flops, nbytes, gflops, gbs, roof) -> list:
    return [
        flops / 1e6,
        nbytes / 1e6,
        flops / nbytes if nbytes else None,
        gflops,
        gbs,
        roof * 100 if roof is not None else None,
    ]


def _layer_cells(layer, shapes: dict, ceil) -> list:
    out = shape_str(shapes.get(layer.name, ()))
    if not layer.ran:
        return [layer.name, layer.category, out, *([None] * (2 + len(WORK_COLS))), "folded"]
    return [
        layer.name,
        layer.category,
        out,
        layer.latency_ms,
        layer.share * 100,
        *_work(layer.flops, layer.bytes, layer.gflops, layer.gbs, layer.roof_fraction),
        layer.bound(ceil) or "",
    ]


def latency_table(report: LatencyReport, depth: str = "row", plan=None) -> Table:
    """One record per table row (``depth='row'``) or per layer, then framework overhead and the total."""
    ceil = report.ceilings
    e2e = report.e2e.median
    if depth == "layer":
        shapes = {layer.name: layer.out_shape for layer in plan.layers} if plan is not None else {}
        t = Table(
            f"{report.model}: latency per layer ({report.runtime})",
            ["name", "type", "out", "ms", "share %", *WORK_COLS, "bound"],
            numeric={"ms", "share %", *WORK_COLS},
            formats=dict(FORMATS),
            drop=list(DROP),
        )
        t.rows += [_layer_cells(layer, shapes, ceil) for layer in report.layers]
        lead = 3
    else:
        t = Table(
            f"{report.model}: latency per row ({report.runtime})",
            ["row", "type", "fields", "ms", "share %", *WORK_COLS],
            numeric={"ms", "share %", *WORK_COLS},
            formats=dict(FORMATS),
            drop=list(DROP),
        )
        for r in report.rows:
            roof = (r.ideal_ms / r.latency_ms) if r.ideal_ms is not None and r.latency_ms > 0 else None
            t.rows.append(
                [
                    r.index,
                    r.type,
                    r.label,
                    r.latency_ms,
                    r.share * 100,
                    *_work(r.flops, r.bytes, r.gflops, r.gbs, roof),
                ]
            )
        lead = 3
    blank = [None] * (len(t.columns) - lead - 2)
    t.rows.append(["framework", "", ""] + [report.framework_ms, report.framework_ms / e2e * 100] + blank)
    flops = sum(layer.flops for layer in report.layers)
    nbytes = sum(layer.bytes for layer in report.layers)
    ideal = report.ideal_ms
    roof = ideal / e2e if ideal is not None and e2e > 0 else None
    total = (
        ["total (end-to-end)", "", ""]
        + [e2e, 100.0]
        + _work(flops, nbytes, flops / (e2e * 1e6), nbytes / (e2e * 1e6), roof)
    )
    if depth == "layer":
        total.append("")
    t.rows.append(total)
    t.notes = report.overhead_lines()
    return t


def profile_latency_data(data: dict, report: LatencyReport) -> dict:
    """Add the latency to a profile's JSON: ``totals.latency_ms``, ``rows[].latency_ms``,
    ``layers[].latency_ms`` (and share, achieved GFLOP/s, GB/s, intensity), and the ``latency`` section."""
    data["totals"]["latency_ms"] = report.latency_ms
    by_layer = {layer.name: layer for layer in report.layers}
    for d in data.get("layers", []):
        layer = by_layer.get(d["name"])
        if layer is not None:
            d.update(
                {
                    "latency_ms": layer.latency_ms,
                    "latency_share": layer.share,
                    "flops": layer.flops,
                    "bytes": layer.bytes,
                    "intensity": layer.intensity,
                    "gflops": layer.gflops,
                    "gbs": layer.gbs,
                    "ran": layer.ran,
                    "bound": layer.bound(report.ceilings),
                    "roof_fraction": layer.roof_fraction,
                }
            )
    by_row = {str(r.index): r for r in report.rows}
    for d in data.get("rows", []):
        r = by_row.get(str(d["index"]))
        if r is not None:
            d.update({"latency_ms": r.latency_ms, "latency_share": r.share})
    section = report.to_dict()
    section.pop("layers")  # already merged into layers[]
    section.pop("rows")
    data["latency"] = section
    return data


def latency_notes(report: LatencyReport) -> list[str]:
    """A warning when the end-to-end CI is wide, with the machine's load and a hint."""
    noisy = report.e2e.rel_halfwidth
    if noisy <= 0.10:
        return []
    load = report.loadavg
    where = f"load average {load[0]:.1f} on {report.cpus} CPUs; " if load else ""
    hint = "try --threads 1 or a longer --budget" if report.threads > 1 else "try a longer --budget"
    return [f"noisy machine: the end-to-end 95% CI is ±{pct(noisy)} ({where}{hint})"]
