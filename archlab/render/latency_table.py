"""Latency reports -> tables: time per row or per layer, share, achieved GFLOP/s and GB/s, roof fraction."""

from __future__ import annotations

from archlab.analysis.layer_latency import LatencyReport
from archlab.render.tables import Table, shape_str

WORK_COLS = ["MFLOP", "MB", "FLOP/B", "GFLOP/s", "GB/s", "roof %"]


def _r(v, digits: int):
    return None if v is None else round(v, digits)


def _work(flops, nbytes, gflops, gbs, roof) -> list:
    return [_r(flops / 1e6, 3), _r(nbytes / 1e6, 3), _r(flops / nbytes, 2) if nbytes else None, _r(gflops, 2),
            _r(gbs, 2), _r(roof * 100, 1) if roof is not None else None]


def latency_table(report: LatencyReport, depth: str = "row", plan=None) -> Table:
    """One record per table row (``depth='row'``) or per layer, then framework overhead and the total."""
    ceil = report.ceilings
    e2e = report.e2e.median
    if depth == "layer":
        shapes = {layer.name: layer.out_shape for layer in plan.layers} if plan is not None else {}
        t = Table(f"{report.model}: latency per layer ({report.runtime})",
                  ["name", "type", "out", "ms", "share %", *WORK_COLS, "bound"],
                  numeric={"ms", "share %", *WORK_COLS})
        for layer in report.layers:
            if not layer.ran:
                t.rows.append([layer.name, layer.category, shape_str(shapes.get(layer.name, ())), None, None,
                               None, None, None, None, None, None, "folded"])
                continue
            t.rows.append([layer.name, layer.category, shape_str(shapes.get(layer.name, ())),
                           _r(layer.latency_ms, 4), _r(layer.share * 100, 2),
                           *_work(layer.flops, layer.bytes, layer.gflops, layer.gbs, layer.roof_fraction),
                           layer.bound(ceil) or ""])
        lead = 3
    else:
        t = Table(f"{report.model}: latency per row ({report.runtime})",
                  ["row", "type", "fields", "ms", "share %", *WORK_COLS], numeric={"ms", "share %", *WORK_COLS})
        for r in report.rows:
            roof = (r.ideal_ms / r.latency_ms) if r.ideal_ms is not None and r.latency_ms > 0 else None
            t.rows.append([r.index, r.type, r.label, _r(r.latency_ms, 4), _r(r.share * 100, 2),
                           *_work(r.flops, r.bytes, r.gflops, r.gbs, roof)])
        lead = 3
    blank = [None] * (len(t.columns) - lead - 2)
    t.rows.append(["framework", "", ""] + [_r(report.framework_ms, 4), _r(report.framework_ms / e2e * 100, 2)]
                  + blank)
    flops = sum(layer.flops for layer in report.layers)
    nbytes = sum(layer.bytes for layer in report.layers)
    ideal = report.ideal_ms
    roof = ideal / e2e if ideal is not None and e2e > 0 else None
    total = ["total (end-to-end)", "", ""] + [_r(e2e, 4), 100.0] + _work(flops, nbytes, flops / (e2e * 1e6),
                                                                         nbytes / (e2e * 1e6), roof)
    if depth == "layer":
        total.append("")
    t.rows.append(total)
    t.notes = report.overhead_lines()
    return t
