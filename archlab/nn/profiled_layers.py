"""Per-layer times of runtimes that are not built module by module: TorchScript and ONNX Runtime, through
their profilers, mapped back to the plan's layer names; ``compile`` end to end only.

* **TorchScript** (traced and frozen): the graph keeps each node's trace scope (``__module.2.0.dw``); the
  autograd profiler records one ``forward`` event per call whose direct children are the graph's aten ops in
  order, so the k-th child is the k-th op node of the graph (:func:`graph_ops`), named by its scope. ``freeze``
  folds each BN into its conv: the BN is covered by the conv.
* **ONNX Runtime**: every exported node carries ``pkg.torch.onnx.name_scopes`` (its module path); ORT keeps the
  node names, or names an NCHWc node after its original output tensor (``<tensor>_nchwc``). Layout reorders
  belong to no layer (``(reorder)``). Layers without a node of their own were fused (:func:`fused_groups`): a
  BN folded into its conv, an Add into the NCHWc conv that produced its input (Sum fusion).

Profiler times are wall-clock spans (preemption included), so each visit's per-layer time is the fastest of its
timed calls and the report gives the medians over visits; the end-to-end time is the plain (unprofiled) run,
interleaved with the profiled one, on the run's clock.
"""

from __future__ import annotations

import ast
import json
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable

from archlab.ir.plan import Plan
from archlab.nn.layer_latency import DEFAULT_BUDGET_S, DEFAULT_TARGET, THREADS_NOTE, check_options
from archlab.nn.quiet import quiet_stderr
from archlab.static.roofline import Ceilings, PlanGraph, roofline_ideal_ms
from archlab.timing import rounds as lat
from archlab.timing.anatomy import LatencyReport
from archlab.timing.anatomy_build import anatomy
from archlab.timing.machine import keep_heap, loadavg, usable_cpus
from archlab.timing.progress import Progress, rounds_progress

PROFILED = ("torchscript", "onnxruntime", "compile")
REORDER_OPS = ("ReorderInput", "ReorderOutput")
TS_SKIP = ("prim::", "aten::size", "aten::Int")


# -- TorchScript -------------------------------------------------------------------------------------------


def graph_ops(scripted) -> list[tuple[str, str]]:
    """(aten kind, module path) of every op node of a traced (frozen) module, in execution order."""
    out = []
    for n in scripted.graph.nodes():
        kind = n.kind()
        if not kind.startswith("aten::") or kind.startswith(TS_SKIP):
            continue
        path = n.scopeName().split("/")[-1]  # nested scopes look like "__module.a/__module.a.b"
        out.append((kind, path[len("__module.") :] if path.startswith("__module.") else path))
    return out


def ts_call_layers(events, ops: list[tuple[str, str]], names: set[str]) -> list[dict[str, float]]:
    """Per call (one ``forward`` event each): ms per layer, from kineto events (name, start_ns, duration_ns)."""
    evs = sorted(events, key=lambda e: e.start_ns())
    calls = []
    i = 0
    while i < len(evs):
        e = evs[i]
        i += 1
        if e.name() != "forward":
            continue
        end = e.start_ns() + e.duration_ns()
        acc: dict[str, float] = defaultdict(float)
        k, top_end = 0, -1
        while i < len(evs) and evs[i].start_ns() < end:
            c = evs[i]
            i += 1
            if c.start_ns() < top_end or not c.name().startswith("aten::"):
                continue  # nested inside an op, or not an op
            top_end = c.start_ns() + c.duration_ns()
            while k < len(ops) and ops[k][0] != c.name():
                k += 1  # graph ops that recorded no event
            layer = ops[k][1] if k < len(ops) else ""
            k += 1
            acc[layer if layer in names else "(unmatched)"] += c.duration_ns() / 1e6
        calls.append(dict(acc))
    return calls


# -- ONNX Runtime ------------------------------------------------------------------------------------------


def scope_maps(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """ONNX node name -> module path, output tensor name -> module path (the dynamo exporter's metadata)."""
    import onnx

    by_node, by_tensor = {}, {}
    for n in onnx.load_from_string(data).graph.node:
        scopes = {p.key: p.value for p in n.metadata_props}.get("pkg.torch.onnx.name_scopes")
        if not scopes:
            continue
        s = ast.literal_eval(scopes)
        if len(s) < 2 or not s[-2]:
            continue
        by_node[n.name] = s[-2]  # innermost module, fully qualified
        for o in n.output:
            by_tensor[o] = s[-2]
    return by_node, by_tensor


def ort_node_layer(name: str, by_node: dict, by_tensor: dict) -> str | None:
    """The module path an ORT node comes from, or None (layout reorders, unknown)."""
    base = name
    while base:
        if base in by_node:
            return by_node[base]
        if base in by_tensor:
            return by_tensor[base]
        head, sep, _ = base.rpartition("_")  # <tensor>_nchwc, <name>_token_N, <name>_fused
        base = head if sep else ""
    return None


def ort_run_layers(events: list, by_node: dict, by_tensor: dict, names: set[str]) -> list[dict[str, float]]:
    """Per session run (``model_run`` event): ms per layer from the node events inside it."""
    runs = sorted(
        (e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"), key=lambda e: e["ts"]
    )
    nodes = sorted(
        (e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")), key=lambda e: e["ts"]
    )
    out, j = [], 0
    for r in runs:
        lo, hi = r["ts"], r["ts"] + r["dur"]
        acc: dict[str, float] = defaultdict(float)
        while j < len(nodes) and nodes[j]["ts"] <= hi:
            e = nodes[j]
            j += 1
            if e["ts"] < lo:
                continue
            if e.get("args", {}).get("op_name") in REORDER_OPS:  # per node: medians are taken node by node
                acc[f"(reorder) {e['name']}"] += e["dur"] / 1e3
                continue
            layer = ort_node_layer(e["name"][: -len("_kernel_time")], by_node, by_tensor)
            acc[layer if layer in names else "(unmatched)"] += e["dur"] / 1e3
        out.append(dict(acc))
    return out


def fused_groups(plan: Plan, primaries: set[str]) -> dict[str, tuple[str, ...]]:
    """Plan layers without a node of their own -> groups ``{first layer: (the others, ...)}``.

    A BN folds into its conv/linear; otherwise a conv/linear/BN feeding a primary through a single reader
    fused into it (conv -> BN -> activation); an Add (or anything left) joins the group of its single-reader
    input (NCHWc Sum fusion), else of its first input. Each group is named by its first plan layer."""
    graph = PlanGraph.of_plan(plan)
    owner: dict[str, str] = {
        bn: into for bn, into in graph.folds_into.items() if into in primaries and bn not in primaries
    }
    for layer in plan.layers:  # conv -> bn -> act chains fused into the primary at their end
        if layer.name not in primaries:
            continue
        stack = [layer.name]
        while stack:
            cur = stack.pop()
            for src in plan.layer(cur).inputs:
                if plan.has(src) and src not in primaries and src not in owner and graph.readers_of(src) == (cur,):
                    if plan.layer(src).op in ("conv", "linear", "bn"):
                        owner[src] = layer.name
                        stack.append(src)
    for layer in plan.layers:  # plan order is topological: inputs are resolved first
        if layer.name in primaries or layer.name in owner:
            continue
        cands = [s for s in layer.inputs if s in primaries or s in owner]
        single = [s for s in cands if len(graph.readers_of(s)) == 1]
        pick = (single or cands)[0] if cands else None
        if pick is not None:
            owner[layer.name] = pick if pick in primaries else owner[pick]
    members: dict[str, list[str]] = defaultdict(list)
    for m, p in owner.items():
        members[p].append(m)
    order = {layer.name: i for i, layer in enumerate(plan.layers)}
    groups = {}
    for p in primaries:
        group = sorted({p, *members.get(p, [])}, key=order.__getitem__)
        groups[group[0]] = tuple(group[1:])
    return groups


# -- the measurement ---------------------------------------------------------------------------------------


class _Profiled:
    """A profiled twin of a runtime: ``fn`` runs it; after the rounds, :meth:`samples` gives per visit each
    layer's ms (``names`` order) and what fell in no layer.

    Profiler spans are wall-clock: a span the scheduler preempted is longer by the time the thread waited. So a
    visit's figure for a layer is its fastest span over the visit's timed calls (preemption only adds time; on a
    busy machine most calls have some layer preempted, which a median over a few calls does not remove), and the
    report gives the median over visits."""

    fn: Callable[[], object]

    def __init__(self, names: list[str]) -> None:
        self.names, self.calls = names, 0
        self.visits: list[tuple[int, int]] = []

    def visit(self, c: lat.Candidate) -> lat.Timing:
        start = self.calls + 2  # calls count from 1; the visit's first (untimed) call is not sampled
        t = lat.visit_clocks(c)
        self.visits.append((start, max(1, c.number)))
        return t

    def per_call(self) -> list[dict[str, float]]:
        raise NotImplementedError

    def samples(self) -> tuple[list[list[float]], dict[str, float]]:
        calls = self.per_call()
        seen = {k for c in calls for k in c}
        self.names = [n for n in self.names if n in seen]  # layers whose nodes ran (others were fused away)
        chunks = [calls[start : start + n] for start, n in self.visits if start + n <= len(calls)]
        return visit_fastest(chunks, self.names)


def visit_fastest(chunks: list[list[dict[str, float]]], names: list[str]):
    """Per visit (its timed calls): each layer's fastest span; and the work in no layer (keys ``(what) detail``),
    each key's fastest span summed per ``(what)``, as the median over visits."""
    rows, extra = [], defaultdict(list)
    for chunk in chunks:
        rows.append([min(c.get(name, 0.0) for c in chunk) for name in names])
        per: dict[str, float] = defaultdict(float)
        for key in {k for c in chunk for k in c if k.startswith("(")}:
            per[key.split(")")[0] + ")"] += min(c.get(key, 0.0) for c in chunk)
        for key, v in per.items():
            extra[key].append(v)
    medians = {k: statistics.median(v + [0.0] * (len(chunks) - len(v))) for k, v in extra.items()}
    return rows, {k: v for k, v in medians.items() if v > 0}


class _TorchScriptProfiled(_Profiled):
    def __init__(self, frozen, x, plan: Plan) -> None:
        self.ops = graph_ops(frozen)
        order = list(dict.fromkeys(p for _, p in self.ops if plan.has(p)))
        super().__init__(order)
        self.frozen, self.x, self.known = frozen, x, set(order)
        self.events: list[list[dict[str, float]]] = []

        def fn():
            self.calls += 1
            return frozen(x)

        self.fn = fn

    def visit(self, c: lat.Candidate) -> lat.Timing:
        from torch.profiler import ProfilerActivity, profile

        with quiet_stderr():
            prof = profile(activities=[ProfilerActivity.CPU])
            prof.__enter__()
        try:
            t = super().visit(c)
        finally:
            with quiet_stderr():
                prof.__exit__(None, None, None)
        results = prof.profiler.kineto_results if prof.profiler is not None else None
        calls = ts_call_layers(results.events() if results is not None else [], self.ops, self.known)
        self.events.append(calls)
        return t

    def samples(self):  # one profile per visit: its first call is the untimed one
        return visit_fastest([calls[1:] or calls for calls in self.events], self.names)


class _OrtProfiled(_Profiled):
    def __init__(self, export, x, plan: Plan, threads: int) -> None:
        from archlab.nn.onnx_export import ort_session

        self.dir = tempfile.TemporaryDirectory()
        self.sess = ort_session(export.data, threads, profile_prefix=os.path.join(self.dir.name, "ort"))
        self.by_node, self.by_tensor = scope_maps(export.data)
        known = set(self.by_node.values()) & {layer.name for layer in plan.layers}
        super().__init__([layer.name for layer in plan.layers if layer.name in known])
        feed = {self.sess.get_inputs()[0].name: x.contiguous().numpy()}
        run = self.sess.run

        def fn():
            self.calls += 1
            return run(None, feed)

        self.fn = fn

    def per_call(self):
        path = self.sess.end_profiling()
        with open(path, encoding="utf-8") as f:
            events = json.load(f)
        self.dir.cleanup()
        return [{}] + ort_run_layers(events, self.by_node, self.by_tensor, set(self.names))  # calls count from 1


def measure_profiled(
    plan: Plan,
    *,
    runtime: str,
    threads: int | None = None,
    batch: int = 1,
    channels_last: bool = False,
    budget_s: float = DEFAULT_BUDGET_S,
    target: float = DEFAULT_TARGET,
    min_samples: int = 10,
    max_samples: int | None = None,
    ceilings: Ceilings | None = None,
    seed: int = 0,
    warmup_s: float = 0.3,
    min_sample_s: float = lat.DEFAULT_MIN_SAMPLE_S,
    clock: str = "auto",
    progress: Progress | None = None,
) -> LatencyReport:
    """Per-layer latency of ``plan`` in TorchScript or ONNX Runtime (profiled), or ``compile`` end to end.
    ``progress(done, total, what)``: the stages ``build`` (1 step), ``warm-up`` (one per pass), ``rounds``."""
    import torch

    from archlab.nn.runtimes import Workshop

    check_options(runtime, batch, threads, budget_s, known=PROFILED)
    say = progress or (lambda done, total, what: None)
    say(0, 1, f"build: {plan.model} ({runtime})")
    defaulted, threads = threads is None, threads or 1
    clock = lat.clock_for(threads, clock)
    keep_heap()
    ws = Workshop(seed)
    prep = ws.prepare(runtime, "plan", plan, batch=batch, threads=threads, channels_last=channels_last)
    plain = lat.Candidate("forward", prep.fn, prep.enter, clock=clock)
    x = ws.input(plan.input, batch, channels_last)
    prof: _Profiled | None = None
    if runtime == "torchscript":
        prof = _TorchScriptProfiled(prep.artefact, x, plan)
    elif runtime == "onnxruntime":
        prof = _OrtProfiled(prep.artefact, x, plan, threads)
    cands = [plain]
    if prof is not None:
        cands.append(lat.Candidate("instrumented", prof.fn, prep.enter, clock=clock))

    def sample(c: lat.Candidate):
        return prof.visit(c) if prof is not None and c.key == "instrumented" else lat.visit_clocks(c)

    before = torch.get_num_threads()
    try:
        with torch.inference_mode():
            for i, c in enumerate(cands):
                say(i, len(cands), f"warm-up: {c.key} pass")
                lat.warm_up(c, seconds=warmup_s, min_sample_s=min_sample_s)
            for c in cands[1:]:
                c.number = plain.number
            results, base = lat.interleaved(
                cands, plain, deadline=time.monotonic() + budget_s, target=target, min_samples=min_samples,
                max_samples=max_samples, rng=random.Random(seed), sample=sample,
                on_round=rounds_progress(progress, "rounds", budget_s),
            )  # fmt: skip
    finally:
        torch.set_num_threads(before)
    report = _report(plan, runtime, threads, batch, channels_last, base, results, prof, plain.number, ceilings, prep)
    if defaulted:
        report.notes.append(THREADS_NOTE)
    return report


def _report(plan, runtime, threads, batch, channels_last, base, results, prof, number, ceilings, prep):
    if prof is None:  # compile: end to end only
        r = results["forward"]
        results = {"instrumented": lat.Result("instrumented", converged=r.converged, stop=r.stop)}
        names, rows, extra, groups = [], [], {}, {}
        source = "none"
    else:
        rows, extra = prof.samples()
        names = prof.names
        groups = fused_groups(plan, set(names))
        rename = {p: first for first, members in groups.items() for p in (first, *members) if p in names}
        names = [rename.get(n, n) for n in names]
        source = "torchscript-profiler" if runtime == "torchscript" else "ort-profiler"
    walls = [sum(r) for r in rows]
    args = (plan, runtime, threads, batch, channels_last, base, results, names, rows, walls, 0.0, number, ceilings)
    report = anatomy(*args, groups=groups, source=source)
    report.unattributed = extra
    report.loadavg, report.cpus = loadavg(), usable_cpus()
    report.notes.append(f"{runtime}: {prep.note}; max |output - eager| {prep.max_abs_diff:.3g}")
    if prof is None and ceilings is not None:
        folded = frozenset(p.bn for p in plan.fold_pairs())
        bound = roofline_ideal_ms(plan, ceilings, batch, skip=folded)
        report.notes.append(
            f"torch.compile exposes no per-layer times (Inductor fuses across layers); the BN-folded network's "
            f"per-layer bound {bound:.3f} ms is {bound / report.e2e.median:.0%} of its end-to-end median"
        )
    return report
