"""Building a :class:`~archlab.timing.anatomy.LatencyReport` from per-round samples, and its text and JSON.

Per layer: the median over rounds of its per-call time; per row: the median of the per-round sums of its
layers; a fused group (one kernel for conv + BN + activation, say) is one entry under its first layer with the
group's work (its external tensors only) and bound; its other layers are ``fused_into`` it.
"""

from __future__ import annotations

from archlab.ir.plan import Plan
from archlab.static.roofline import (
    Ceilings,
    PlanGraph,
    Work,
    category,
    group_work,
    op_class,
    plan_work,
)
from archlab.timing import stats
from archlab.timing.anatomy import LatencyReport, LayerLatency, RowLatency


def anatomy(
    plan: Plan,
    runtime,
    threads,
    batch,
    channels_last,
    base,
    results,
    names,
    layer_samples,
    walls,
    timer_ns,
    number,
    ceilings,
    *,
    groups: dict[str, tuple[str, ...]] | None = None,
    source: str = "instrumented",
) -> LatencyReport:
    """The report of one measurement: ``base`` the plain run's Result, ``results['instrumented']`` the
    instrumented (profiled) run's; ``layer_samples[r][i]`` ms of step ``names[i]`` in round ``r``; ``groups``:
    primary layer -> the other layers its fused node computes."""
    e2e = base.latency
    converged = all(r.converged for r in results.values())
    stop = "converged" if converged else ", ".join(sorted({r.stop for r in results.values() if not r.converged}))
    layers = _layers(plan, batch, names, layer_samples, ceilings, groups or {}, e2e.median)
    rows = _rows(plan, names, layer_samples, layers, e2e.median, ceilings is not None)
    totals = [sum(sample) for sample in layer_samples] or [0.0]
    return LatencyReport(
        plan.model,
        dict(plan.options),
        runtime,
        threads,
        batch,
        channels_last,
        e2e,
        stats.summarize(walls or [0.0]),
        results["instrumented"].ratio,
        stats.summarize(totals),
        timer_ns,
        number,
        converged,
        stop,
        tuple(layers),
        tuple(rows),
        ceilings,
        layer_samples,
        walls,
        clock=base.clock,
        e2e_wall=base.wall_latency if base.wall else None,
        source=source,
    )


def _layers(plan: Plan, batch, names, layer_samples, ceilings: Ceilings | None, groups, e2e_ms) -> list:
    index = {name: i for i, name in enumerate(names)}
    fused_into = {m: p for p, members in groups.items() for m in members}
    work = plan_work(plan, batch)
    graph = PlanGraph.of_plan(plan)
    per_layer: list = list(zip(*layer_samples)) if layer_samples else [() for _ in names]
    out = []
    for layer in plan.layers:
        i = index.get(layer.name)
        covers = tuple(groups.get(layer.name, ()))
        members = [layer, *(plan.layer(n) for n in covers)]
        base = (layer.name, layer.op, layer.kind, category(layer), layer.row)
        if i is None:  # does not run in this runtime (a folded BN), or computed by another layer's node
            out.append(
                LayerLatency(
                    *base,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0,
                    0,
                    ran=False,
                    ideal_ms=0.0 if ceilings else None,
                    fused_into=fused_into.get(layer.name),
                    op_class=op_class(members),
                )  # fmt: skip
            )
            continue
        w: Work = group_work(plan, (layer.name, *covers), batch, graph) if covers else work[layer.name]
        s = sorted(per_layer[i])
        med = stats.quantile(s, 0.5) if s else 0.0
        out.append(
            LayerLatency(
                *base,
                med,
                stats.quantile(s, 0.1) if s else 0.0,
                stats.quantile(s, 0.9) if s else 0.0,
                med / e2e_ms if e2e_ms > 0 else 0.0,
                w.flops,
                w.bytes,
                ideal_ms=1e3 * ceilings.bound_s(w.flops, w.bytes, w.footprint) if ceilings else None,
                covers=covers,
                op_class=op_class(members),
                level=ceilings.level_of(w.footprint or w.bytes) if ceilings and w.bytes else None,
                footprint=w.footprint,
            )
        )
    return out


def _rows(plan: Plan, names, layer_samples, layers, e2e_ms, with_bound: bool) -> list:
    index = {name: i for i, name in enumerate(names)}
    by_name = {layer.name: layer for layer in layers}
    rows = []
    for info in plan.rows:
        idx = [index[n] for n in info.layers if n in index]
        sums = sorted(sum(sample[i] for i in idx) for sample in layer_samples) if layer_samples else [0.0]
        med = stats.quantile(sums, 0.5)
        members = [by_name[n] for n in info.layers]
        rows.append(
            RowLatency(
                info.index,
                info.type,
                info.label,
                tuple(info.layers),
                med,
                med / e2e_ms if e2e_ms > 0 else 0.0,
                sum(m.flops for m in members),
                sum(m.bytes for m in members),
                sum(m.ideal_ms or 0.0 for m in members) if with_bound else None,
            )
        )
    return rows
