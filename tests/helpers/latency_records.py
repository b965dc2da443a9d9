"""Latency and runtime records built by hand (no measurement), for renderer tests: a report in which an
ONNX-Runtime-like runtime fused every foldable BN into its conv and spent time in layout reorders, and a
runtime table of three runtimes."""

from __future__ import annotations

from dataclasses import replace

from archlab.static.roofline import Ceilings, PlanGraph, category, group_work, op_class, plan_work
from archlab.timing.anatomy import LatencyReport, LayerLatency, RowLatency
from archlab.timing.runtime_table import RuntimeRow, RuntimeTable
from archlab.timing.stats import Summary
from tests.helpers.ceilings import fake_levels

LAYER_MS = 0.01  # every layer that runs
REORDER_MS = 0.004


def summary(median: float, n: int = 10) -> Summary:
    return Summary(n, median, median * 0.98, median * 1.03, median * 0.95, median * 1.1)


def ceilings() -> Ceilings:
    return Ceilings(123.0, 4.5, 1, "cpu", "t", 256, 128, 5, "2026-01-01T00:00:00+00:00", 1.0, levels=fake_levels(4.5))


def fused_report(plan, runtime: str = "onnxruntime", source: str = "ort-profiler") -> LatencyReport:
    """Every foldable BN of ``plan`` fused into its conv/linear (``fused_into``, ``covers``), the other layers
    at LAYER_MS each, REORDER_MS in layout reorders, and 0.002 ms between layers."""
    ceil = ceilings()
    folds = {p.bn: p.into for p in plan.fold_pairs()}
    covers: dict[str, tuple[str, ...]] = {}
    for bn, into in folds.items():
        covers[into] = (*covers.get(into, ()), bn)
    work, graph = plan_work(plan), PlanGraph.of_plan(plan)
    ran = [layer for layer in plan.layers if layer.name not in folds]
    e2e = LAYER_MS * len(ran) + REORDER_MS + 0.002
    layers = []
    for layer in plan.layers:
        base = (layer.name, layer.op, layer.kind, category(layer), layer.row)
        if layer.name in folds:
            layers.append(
                LayerLatency(*base, 0.0, 0.0, 0.0, 0.0, 0, 0, ran=False, ideal_ms=0.0, fused_into=folds[layer.name])
            )
            continue
        group = (layer.name, *covers.get(layer.name, ()))
        w = group_work(plan, group, 1, graph) if len(group) > 1 else work[layer.name]
        layers.append(
            LayerLatency(
                *base,
                LAYER_MS,
                LAYER_MS,
                LAYER_MS,
                LAYER_MS / e2e,
                w.flops,
                w.bytes,
                ideal_ms=1e3 * ceil.bound_s(w.flops, w.bytes, w.footprint),
                covers=covers.get(layer.name, ()),
                op_class=op_class([plan.layer(n) for n in group]),
                level=ceil.level_of(w.footprint or w.bytes) if w.bytes else None,
                footprint=w.footprint,
            )
        )
    by_name = {x.name: x for x in layers}
    rows = []
    for info in plan.rows:
        members = [by_name[n] for n in info.layers]
        ms = sum(m.latency_ms for m in members)
        rows.append(
            RowLatency(
                info.index,
                info.type,
                info.label,
                tuple(info.layers),
                ms,
                ms / e2e,
                sum(m.flops for m in members),
                sum(m.bytes for m in members),
                sum(m.ideal_ms or 0.0 for m in members),
            )
        )
    s = summary(e2e)
    return LatencyReport(
        plan.model, dict(plan.options), runtime, 1, 1, False, s, summary(e2e * 1.2), summary(1.2),
        summary(LAYER_MS * len(ran)), 0.0, 20, True, "converged", tuple(layers), tuple(rows), ceil,
        clock="cpu", e2e_wall=summary(e2e * 1.05), source=source, unattributed={"(reorder)": REORDER_MS},
        notes=["1 thread by default: a test note"],
    )  # fmt: skip


def end_to_end_only(plan) -> LatencyReport:
    """The report of a runtime without per-layer times (compile): no layer ran on its own."""
    r = fused_report(plan, "compile", "none")
    layers = tuple(replace(x, ran=False, latency_ms=0.0, share=0.0, flops=0, bytes=0, covers=()) for x in r.layers)
    return replace(r, layers=layers, unattributed={})


def runtime_table() -> RuntimeTable:
    """eager (the baseline), folded and onnxruntime; onnxruntime fastest, folded's check failed."""

    def row(rt: str, ms: float, ok: bool = True) -> RuntimeRow:
        base = rt == "eager"
        ratio, diff, note = (None, 0.0, "") if base else (summary(ms / 1.5), 2e-7, f"{rt} note")
        return RuntimeRow(rt, summary(ms), summary(ms * 1.1), summary(ms), ratio, diff, 1.5, ok, True, "converged",
                          25, 0.4, note, "cpu")  # fmt: skip

    rows = [row("eager", 1.5), row("folded", 1.2, ok=False), row("onnxruntime", 0.9876)]
    return RuntimeTable("tiny", {}, 1, 1, "cpu", rows, 2.0, 2.3, 12, [0.5, 0.5, 0.5], [0.6, 0.5, 0.5], 2,
                        skipped={"compile": "needs a C++ compiler"})  # fmt: skip
