"""Latency reports -> tables: time per row or per layer, share, achieved GFLOP/s and GB/s, % of bound, the
memory level each bound comes from, what each runtime merged (a BN folded into its conv, a node fused over
several layers), the time in no layer, and % of bound per op class (depthwise, pointwise, other)."""

from __future__ import annotations

import math

from archlab.render.tables import Table, shape_str
from archlab.render.text import ms_value, pct, pct_number, sig
from archlab.timing.anatomy import LatencyReport

WORK_COLS = ["MFLOP", "MB", "FLOP/B", "GFLOP/s", "GB/s", "roof %"]
# text: ms and the measured rates to 3 significant digits, shares to 1 decimal (render.text); csv: full precision
FORMATS = {"ms": ms_value, "share %": pct_number, "roof %": pct_number, **{c: sig for c in WORK_COLS[:5]}}
DROP = ["MB", "MFLOP", "FLOP/B", "GB/s", "out", "type", "fields", "level", "roof %", "GFLOP/s"]
FOLDING_RUNTIMES = ("folded", "channels-last")  # the instrumented pass over the BN-folded module


def merges(report: LatencyReport, plan=None) -> dict[str, tuple[str, str]]:
    """Layer -> (``folded`` | ``fused``, the layer it was merged into), for the layers that did not run on their
    own: a BN folded into the conv/linear before it (the plan's fold pairs: the folded runtimes, and the BN that
    TorchScript's freeze or ONNX Runtime fold), or a layer another layer's fused node computes."""
    folds = {p.bn: p.into for p in plan.fold_pairs()} if plan is not None else {}
    out: dict[str, tuple[str, str]] = {}
    for layer in report.layers:
        if layer.ran:
            continue
        into = layer.fused_into
        if into is None and report.runtime in FOLDING_RUNTIMES:
            into = folds.get(layer.name)
        if into is not None:
            out[layer.name] = ("folded" if folds.get(layer.name) == into else "fused", into)
    return out


def _work(flops, nbytes, gflops, gbs, roof) -> list:
    return [
        flops / 1e6,
        nbytes / 1e6,
        flops / nbytes if nbytes else None,
        gflops,
        gbs,
        roof * 100 if roof is not None else None,
    ]


def _layer_cells(layer, shapes: dict, ceil, merged: dict) -> list:
    out = shape_str(shapes.get(layer.name, ()))
    if not layer.ran:
        how, into = merged.get(layer.name, ("not run", None))
        return [
            layer.name,
            layer.category,
            out,
            *([None] * (2 + len(WORK_COLS))),
            None,
            f"into {into}" if into else "",
            how,
        ]
    return [
        layer.name,
        layer.category,
        out,
        layer.latency_ms,
        layer.share * 100,
        *_work(layer.flops, layer.bytes, layer.gflops, layer.gbs, layer.roof_fraction),
        layer.level,
        "+ " + " + ".join(layer.covers) if layer.covers else "",
        layer.bound(ceil) or "",
    ]


def _layer_table(report: LatencyReport, plan) -> Table:
    shapes = {layer.name: layer.out_shape for layer in plan.layers} if plan is not None else {}
    t = Table(
        f"{report.model}: latency per layer ({report.runtime})",
        ["name", "type", "out", "ms", "share %", *WORK_COLS, "level", "merged", "bound"],
        numeric={"ms", "share %", *WORK_COLS},
        formats=dict(FORMATS),
        drop=list(DROP),
    )
    merged = merges(report, plan)
    if report.source != "none":
        t.rows += [_layer_cells(layer, shapes, report.ceilings, merged) for layer in report.layers]
    return t


def _row_table(report: LatencyReport) -> Table:
    t = Table(
        f"{report.model}: latency per row ({report.runtime})",
        ["row", "type", "fields", "ms", "share %", *WORK_COLS],
        numeric={"ms", "share %", *WORK_COLS},
        formats=dict(FORMATS),
        drop=list(DROP),
    )
    if report.source == "none":
        return t
    for r in report.rows:
        roof = (r.ideal_ms / r.latency_ms) if r.ideal_ms is not None and r.latency_ms > 0 else None
        t.rows.append(
            [r.index, r.type, r.label, r.latency_ms, r.share * 100, *_work(r.flops, r.bytes, r.gflops, r.gbs, roof)]
        )
    return t


def latency_table(report: LatencyReport, depth: str = "row", plan=None) -> Table:
    """One record per table row (``depth='row'``) or per layer, then the time in no layer (the runtime's own
    nodes, e.g. layout reorders), the framework's time between layers and the total. A runtime without per-layer
    times (compile) gets the total only."""
    e2e = report.e2e.median
    t = _layer_table(report, plan) if depth == "layer" else _row_table(report)
    tail = len(t.columns) - 5  # the cells after name/type/out/ms/share

    def line(name: str, ms: float) -> list:
        return [name, "", "", ms, ms / e2e * 100 if e2e > 0 else None] + [None] * tail

    if report.source != "none":
        elsewhere = sum(report.unattributed.values())
        t.rows += [line(f"not in a layer: {k}", v) for k, v in report.unattributed.items()]
        t.rows.append(line("framework (between layers)", report.framework_ms - elsewhere))
    flops = sum(layer.flops for layer in report.layers)
    nbytes = sum(layer.bytes for layer in report.layers)
    ideal = report.ideal_ms
    roof = ideal / e2e if ideal is not None and e2e > 0 and report.source != "none" else None
    gflops, gbs = (flops / (e2e * 1e6), nbytes / (e2e * 1e6)) if e2e > 0 and flops else (None, None)
    work = _work(flops, nbytes, gflops, gbs, roof) if report.source != "none" else [None] * len(WORK_COLS)
    total = ["total (end-to-end)", "", "", e2e, 100.0, *work]
    t.rows.append(total + [""] * (len(t.columns) - len(total)))
    t.notes = report.overhead_lines() + _merge_notes(report, plan, depth)
    return t


def _merge_notes(report: LatencyReport, plan, depth: str) -> list[str]:
    merged = merges(report, plan)
    if not merged or report.source == "none":
        return []
    folded = sum(1 for how, _ in merged.values() if how == "folded")
    fused = len(merged) - folded
    parts = [f"{folded} BN layer{'s' if folded != 1 else ''} folded into the conv/linear before them"] if folded else []
    if fused:
        parts.append(f"{fused} layer{'s' if fused != 1 else ''} fused into another layer's node")
    where = (
        " (column merged: 'into X' for a merged layer, '+ ...' for the layers a node also computes; their work is "
        "counted once, under X)"
        if depth == "layer"
        else " (--depth layer names them)"
    )
    return [f"{report.runtime}: " + "; ".join(parts) + where]


def class_table(report: LatencyReport) -> Table | None:
    """% of bound per op class (depthwise, pointwise, other), when the report has ceilings and per-layer times."""
    if report.ceilings is None or report.source == "none":
        return None
    t = Table(
        f"{report.model}: % of bound by op class ({report.runtime})",
        ["class", "layers", "ms", "share %", "bound ms", "% of bound"],
        numeric={"layers", "ms", "share %", "bound ms", "% of bound"},
        formats={"ms": ms_value, "bound ms": ms_value, "share %": pct_number, "% of bound": pct_number},
    )
    e2e = report.e2e.median
    for b in report.by_class():
        frac = b.fraction
        t.rows.append(
            [
                b.op_class,
                b.layers,
                b.latency_ms,
                b.latency_ms / e2e * 100 if e2e > 0 else None,
                b.bound_ms,
                frac * 100 if frac is not None else None,
            ]
        )
    t.notes = ["% of bound = the class's summed bound / its summed measured time (100%: at the bound)"]
    return t


def profile_latency_data(data: dict, report: LatencyReport, plan=None) -> dict:
    """Add the latency to a profile's JSON: ``totals.latency_ms``, ``rows[].latency_ms``,
    ``layers[].latency_ms`` (and share, achieved GFLOP/s, GB/s, intensity, bound, its memory level, what the
    runtime merged the layer into), and the ``latency`` section."""
    data["totals"]["latency_ms"] = report.latency_ms
    by_layer = {layer.name: layer for layer in report.layers}
    merged = merges(report, plan)
    for d in data.get("layers", []):
        layer = by_layer.get(d["name"])
        if layer is not None:
            how, into = merged.get(layer.name, (None, None))
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
                    "ideal_ms": layer.ideal_ms,
                    "roof_fraction": layer.roof_fraction,
                    "level": layer.level,
                    "op_class": layer.op_class,
                    "merged": how,
                    "merged_into": into,
                    "covers": list(layer.covers),
                }
            )
    by_row = {str(r.index): r for r in report.rows}
    for d in data.get("rows", []):
        r = by_row.get(str(d["index"]))
        if r is not None:
            d.update({"latency_ms": r.latency_ms, "latency_share": r.share, "ideal_ms": r.ideal_ms})
    section = report.to_dict()
    section.pop("layers")  # already merged into layers[]
    section.pop("rows")
    section["lines"] = report.overhead_lines()
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
    if not math.isfinite(noisy):
        n = report.e2e.n
        return [f"no 95% CI of the end-to-end median: {n} round{'s' if n != 1 else ''} (at least 6 give one; {hint})"]
    return [f"noisy machine: the end-to-end 95% CI is ±{pct(noisy)} ({where}{hint})"]
