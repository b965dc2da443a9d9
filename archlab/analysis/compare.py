"""Side-by-side comparison of networks and option variants (``archlab compare``), one record per entry.

An entry is a network (a shipped name or a table path) with optional overrides, written
``NAME[:key=value[,key=value]]`` (``mobilefacenet:head=gap``, ``mobilenetv2:width=0.5,input=160x160``); the keys
are the override keywords of :func:`archlab.plan`. Each record holds what ``archlab profile`` reports for it,
under the same names as the profile JSON: ``input``, ``output``, ``options``, ``totals`` (params,
params_deployed, madds, other_ops, activations and, when measured, latency_ms), ``memory.peak_bytes``, plus
FMap-end (the head's input: layer, shape, theoretical receptive field), the head, and the MAdds and params
per stage (rows grouped by output stride: ``/2``, ``/4``, ..., ``head``).

Latency (optional, imports torch): :func:`time_plans` times every entry's eager network in interleaved rounds
(:func:`archlab.analysis.latency.interleaved`, the first entry is the baseline in every round), so the
ratios to the first entry are paired within rounds. Counting needs no torch.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from archlab.analysis import latency as lat
from archlab.analysis.receptive import RF
from archlab.errors import ArchlabError, OptionError
from archlab.plan import INPUT, Plan

OVERRIDE_TYPES = {"input": str, "width": float, "stem_stride": int, "stem_pool": bool, "head": str,
                  "embedding": int, "classes": int}
DEFAULT_BUDGET = 20.0
DEFAULT_THREADS = 1
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


# -- entries ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One column of a comparison: a table (name or path), API keyword overrides, and its label."""

    net: str
    options: tuple[tuple[str, object], ...] = ()
    label: str = ""

    @property
    def overrides(self) -> dict:
        return dict(self.options)


def _value(key: str, raw: str, text: str, what: str):
    kind = OVERRIDE_TYPES[key]
    raw = raw.strip()
    if kind is bool:
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise OptionError(f"{what} {text!r}: {key} takes true or false, got {raw!r}")
    if kind is str:
        if not raw:
            raise OptionError(f"{what} {text!r}: {key} needs a value")
        return raw
    try:
        return kind(raw)
    except ValueError:
        noun = "a number" if kind is float else "an integer"
        raise OptionError(f"{what} {text!r}: {key} must be {noun}, got {raw!r}") from None


def parse_entry(text: str, what: str = "--variant") -> Entry:
    """``NAME[:key=value[,key=value]]`` -> an :class:`Entry` (options checked like ``archlab.plan``'s).

    A plain ``NAME`` (or a path) has no options. Keys may use dashes (``stem-stride``)."""
    from archlab.expand import Overrides

    text = text.strip()
    if not text:
        raise OptionError(f"{what}: empty; expected NAME or NAME:key=value[,key=value], e.g. mobilefacenet:head=gap")
    name, sep, rest = text.partition(":")
    if not sep or (Path(text).is_file() and "=" not in rest):
        return Entry(text, (), text)
    name = name.strip()
    if not name:
        raise OptionError(f"{what} {text!r}: no network before ':'; expected NAME:key=value, e.g. "
                          "mobilefacenet:head=gap")
    options: dict = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, raw = part.partition("=")
        key = key.strip().lstrip("-").replace("-", "_")
        if not eq:
            raise OptionError(f"{what} {text!r}: expected key=value after ':', got {part!r} "
                              f"(e.g. mobilefacenet:head=gap,width=0.5)")
        if key not in OVERRIDE_TYPES:
            raise OptionError(f"{what} {text!r}: unknown key {key!r}; use "
                              f"{', '.join(k.replace('_', '-') for k in OVERRIDE_TYPES)}")
        if key in options:
            raise OptionError(f"{what} {text!r}: {key} given twice")
        options[key] = _value(key, raw, text, what)
    if not options:
        raise OptionError(f"{what} {text!r}: no key=value after ':' (e.g. mobilefacenet:head=gap)")
    try:
        Overrides.from_kwargs(**options)
    except ArchlabError as e:
        raise OptionError(f"{what} {text!r}: {e}") from None
    label = name + ":" + ",".join(f"{k}={_show(v)}" for k, v in options.items())
    return Entry(name, tuple(options.items()), label)


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def unique_labels(entries: list[Entry]) -> list[Entry]:
    """Entries given twice get ``#2``, ``#3`` appended to their label (the records stay apart)."""
    seen: dict[str, int] = {}
    out = []
    for e in entries:
        n = seen.get(e.label, 0) + 1
        seen[e.label] = n
        out.append(e if n == 1 else Entry(e.net, e.options, f"{e.label}#{n}"))
    return out


# -- records ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stage:
    """Consecutive table rows at one output stride (input height / output height), or the head."""

    label: str  # "/2", "/4", ..., "head"
    stride: int | None  # None for the head
    rows: tuple
    out_shape: tuple[int, ...]
    params: int
    madds: int

    def to_dict(self) -> dict:
        return {"stage": self.label, "rows": list(self.rows), "out": list(self.out_shape), "params": self.params,
                "madds": self.madds}


@dataclass
class CompareRecord:
    label: str
    net: str
    model: str
    options: dict
    input: tuple[int, ...]
    output: tuple[int, ...]
    totals: dict
    peak_bytes: int
    peak_layer: str
    fmap_layer: str
    fmap_end: tuple[int, ...]
    rf: RF
    head: str
    stages: tuple[Stage, ...]
    published: dict = field(default_factory=dict)
    deviation: dict = field(default_factory=dict)
    latency: lat.Summary | None = None  # ms per call
    ratio: lat.Summary | None = None  # per-round ratio to the first entry
    converged: bool | None = None
    plan: Plan | None = field(default=None, repr=False)

    @property
    def latency_ms(self) -> float | None:
        return self.latency.median if self.latency is not None else None

    def to_dict(self) -> dict:
        totals = dict(self.totals)
        if self.latency is not None:
            totals["latency_ms"] = self.latency.median
        out = {
            "label": self.label, "net": self.net, "model": self.model, "options": dict(self.options),
            "input": list(self.input), "output": list(self.output), "totals": totals,
            "memory": {"peak_bytes": self.peak_bytes, "peak_layer": self.peak_layer},
            "fmap_end": {"layer": self.fmap_layer, "shape": list(self.fmap_end), "rf": self.rf.to_dict()},
            "head": self.head, "stages": [s.to_dict() for s in self.stages],
        }
        if self.published:
            out["published"] = {"figures": {k: v for k, v in self.published.items() if k != "note"},
                                "note": self.published.get("note"), "deviation": self.deviation}
        if self.latency is not None:
            out["latency"] = {"median_ms": self.latency.median, "ci_low_ms": self.latency.ci_low,
                              "ci_high_ms": self.latency.ci_high, "p10_ms": self.latency.p10,
                              "p90_ms": self.latency.p90, "n": self.latency.n, "converged": self.converged,
                              "ratio_to_first": self.ratio.median if self.ratio else None,
                              "ratio_ci_low": self.ratio.ci_low if self.ratio else None,
                              "ratio_ci_high": self.ratio.ci_high if self.ratio else None}
        return out


def head_row(plan: Plan):
    return next((r for r in plan.rows if r.index == "head"), None)


def fmap_end_layer(plan: Plan) -> str:
    """The tensor the head reads (FMap-end); without a head, the main output."""
    head = head_row(plan)
    if head is not None and head.layers:
        return plan.layer(head.layers[0]).inputs[0]
    return plan.output


def stages(plan: Plan) -> tuple[Stage, ...]:
    """Rows grouped by output stride (input height / row output height), in order; the head last.

    Rows with the same stride are summed into one stage even when they are not adjacent (detection extras)."""
    by_name = {layer.name: layer for layer in plan.layers}
    groups: dict[str, dict] = {}
    in_h = plan.input[1]
    for info in plan.rows:
        members = [by_name[n] for n in info.layers]
        if info.index == "head":
            label, stride = "head", None
        elif len(info.out_shape) == 3 and info.out_shape[1] > 0:
            stride = max(1, round(in_h / info.out_shape[1]))
            label = f"/{stride}"
        else:
            label, stride = "vector", None
        g = groups.setdefault(label, {"stride": stride, "rows": [], "out": info.out_shape, "params": 0, "madds": 0})
        g["rows"].append(info.index)
        g["out"] = info.out_shape
        g["params"] += sum(m.params for m in members)
        g["madds"] += sum(m.madds for m in members)
    return tuple(Stage(k, g["stride"], tuple(g["rows"]), tuple(g["out"]), g["params"], g["madds"])
                 for k, g in groups.items())


def record(entry: Entry, spec=None) -> CompareRecord:
    """Counts, memory, FMap-end and its receptive field of one entry (no torch)."""
    from archlab.analysis.counts import Profile
    from archlab.analysis.memory import memory
    from archlab.analysis.receptive import receptive_fields
    from archlab.api import load_table
    from archlab.expand import Overrides, expand

    spec = spec if spec is not None else load_table(entry.net)
    try:
        plan = expand(spec, Overrides.from_kwargs(**entry.overrides))
    except ArchlabError as e:
        raise type(e)(f"{entry.label}: {e}") from None
    prof = Profile.from_plan(plan, spec)
    mem = memory(plan)
    fmap = fmap_end_layer(plan)
    shape = plan.input if fmap == INPUT else plan.layer(fmap).out_shape
    rf = receptive_fields(plan.layers)[fmap]
    head = head_row(plan)
    return CompareRecord(
        label=entry.label or entry.net, net=entry.net, model=plan.model, options=dict(plan.options),
        input=tuple(plan.input), output=tuple(plan.output_shape), totals=dict(prof.totals),
        peak_bytes=mem.peak_bytes, peak_layer=mem.peak_layer, fmap_layer=fmap, fmap_end=tuple(shape), rf=rf,
        head=head.label if head is not None else "none", stages=stages(plan), published=dict(prof.published),
        deviation=prof.deviation, plan=plan)


# -- latency ----------------------------------------------------------------------------------------------

@dataclass
class LatencyRun:
    """Interleaved timing of several plans: per plan a :class:`archlab.analysis.latency.Result` (ms per call,
    ratios to the baseline plan within rounds)."""

    results: list  # lat.Result per plan, in order
    baseline: int
    threads: int
    budget: float
    target: float
    rounds: int
    elapsed_s: float
    environment: dict
    notes: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def baseline_label(self) -> str:
        return self.labels[self.baseline] if self.labels else f"entry {self.baseline + 1}"

    def method(self) -> str:
        return (f"eager PyTorch, eval mode, torch.inference_mode, batch 1, {self.threads} thread"
                f"{'s' if self.threads != 1 else ''}; every network warmed up, then interleaved rounds (fresh "
                f"random order each round, {self.baseline_label} in every round) until each median's 95% CI is "
                f"within ±{self.target:.0%} or {self.budget:g} s of rounds; CI of the median: order statistics "
                f"(distribution-free); ratio: median of per-round ratios to {self.baseline_label}")

    def to_dict(self) -> dict:
        return {"method": self.method(), "threads": self.threads, "budget_s": self.budget, "target": self.target,
                "rounds": self.rounds, "elapsed_s": round(self.elapsed_s, 3), "environment": self.environment,
                "baseline": self.baseline_label, "notes": list(self.notes)}


def time_plans(plans: list[Plan], *, baseline: int = 0, threads: int = DEFAULT_THREADS,
               budget: float = DEFAULT_BUDGET, target: float = lat.DEFAULT_TARGET, seed: int = 0,
               warmup: float = 0.3, labels: list[str] | None = None,
               progress: Callable[[str], object] | None = None) -> LatencyRun:
    """Time every plan's eager network (one input, batch 1) in interleaved rounds; imports torch.

    Each network is built once with seeded weights and checked by one call before timing. ``budget``: seconds
    of rounds at most (warm-up and building come before it)."""
    if not plans:
        raise OptionError("nothing to time")
    if threads < 1:
        raise OptionError(f"--threads must be >= 1, got {threads}")
    if not budget > 0:
        raise OptionError(f"--budget must be > 0 seconds, got {budget}")
    import torch

    from archlab.analysis.runtimes import Workshop, environment

    started = time.monotonic()
    before = torch.get_num_threads()
    env = environment(("eager",))
    ws = Workshop(seed=seed)
    candidates = []
    try:
        for i, plan in enumerate(plans):
            if progress is not None:
                progress(f"building and warming up {i + 1}/{len(plans)}: {plan.model}")
            prep = ws.prepare("eager", i, plan, batch=1, threads=threads, channels_last=False)
            cand = lat.Candidate(i, prep.fn, prep.enter)
            with torch.inference_mode():
                lat.warm_up(cand, seconds=warmup)
            candidates.append(cand)
        if progress is not None:
            progress(f"timing {len(plans)} network(s) in interleaved rounds, {budget:g} s at most")
        with torch.inference_mode():
            results, base = lat.interleaved(candidates, candidates[baseline], deadline=time.monotonic() + budget,
                                            target=target, rng=random.Random(seed))
    finally:
        torch.set_num_threads(before)
    if hasattr(os, "getloadavg"):
        env["loadavg_end"] = list(os.getloadavg())
    ordered = [results[i] for i in range(len(plans))]
    labels = list(labels) if labels else [f"entry {i + 1}" for i in range(len(plans))]
    notes = []
    slow = [labels[i] for i, r in enumerate(ordered) if not r.converged]
    if slow:
        notes.append(f"{len(slow)} of {len(plans)} medians did not reach ±{target:.0%} within {budget:g} s "
                     f"({', '.join(slow)}); their wider CIs are reported")
    # rounds completed (a round cut by the deadline is dropped whole); the baseline is in every one
    return LatencyRun(ordered, baseline, threads, budget, target, len(base.samples), time.monotonic() - started, env,
                      notes, labels)


# -- the comparison ---------------------------------------------------------------------------------------

@dataclass
class Comparison:
    records: list[CompareRecord]
    latency: LatencyRun | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        from archlab.plan import CONVENTIONS
        from archlab.analysis.memory import PEAK_RULE

        return {"schema_version": 1, "records": [r.to_dict() for r in self.records],
                "latency": self.latency.to_dict() if self.latency else None,
                "conventions": {**CONVENTIONS, "peak_bytes": PEAK_RULE,
                                "rf": "theoretical receptive field of FMap-end unit 0 per axis (size, jump, start; "
                                      "Araujo et al. 2019)",
                                "stages": "table rows grouped by output stride (input height / output height); "
                                          "head = everything after FMap-end"},
                "notes": list(self.notes)}


def compare(entries: list[Entry | str], *, latency: bool = False, threads: int = DEFAULT_THREADS,
            budget: float = DEFAULT_BUDGET, target: float = lat.DEFAULT_TARGET, seed: int = 0,
            progress: Callable[[str], object] | None = None) -> Comparison:
    """One record per entry (a string is parsed as ``NAME[:key=value,...]``); with ``latency`` every entry is
    also timed (interleaved, the first entry the baseline). Table and option errors come before any timing."""
    parsed = [parse_entry(e, "entry") if isinstance(e, str) else e for e in entries]
    if not parsed:
        raise OptionError("give at least one network to compare")
    parsed = unique_labels(parsed)
    records = [record(e) for e in parsed]
    run = None
    if latency:
        run = time_plans([r.plan for r in records], threads=threads, budget=budget, target=target, seed=seed,
                         labels=[r.label for r in records], progress=progress)
        for rec, res in zip(records, run.results):
            rec.latency, rec.ratio, rec.converged = res.latency, res.ratio, res.converged
    notes = []
    if len(records) == 1:
        notes.append("one entry: add more names or --variant NAME:key=value to compare")
    return Comparison(records, run, notes + (run.notes if run else []))
