"""Side-by-side comparison of networks and option variants (``archlab compare``), one record per entry.

An entry is a network (a shipped name or a table path) with optional overrides, written
``NAME[:key=value[,key=value]]`` (``mobilefacenet:head=gap``, ``mobilenetv2:width=0.5,input=160x160``); the keys
are the override keywords of :func:`archlab.plan`. Each record holds what ``archlab profile`` reports for it,
under the same names as the profile JSON: ``input``, ``output``, ``options``, ``totals`` (params,
params_deployed, madds, other_ops, activations and, when measured, latency_ms), ``memory.peak_bytes``, plus
FMap-end (the head's input: layer, shape, theoretical receptive field), the head, and the MAdds and params
per stage (rows grouped by output stride: ``/2``, ``/4``, ..., ``head``).

Latency (optional, imports torch): :func:`time_plans` times every entry's eager network in interleaved rounds
(:func:`archlab.timing.rounds.interleaved`, the first entry is the baseline in every round), so the
ratios to the first entry are paired within rounds. Counting needs no torch.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from archlab.errors import ArchlabError, OptionError
from archlab.ir.expand import expand
from archlab.ir.overrides import Entry, Overrides, distinct_labels, parse_entry
from archlab.ir.plan import Plan
from archlab.ir.structure import fmap_end, head_row
from archlab.spec.table import load_table
from archlab.static.counts import Profile, Stage, stages
from archlab.static.display import Display, totals_text
from archlab.static.memory import memory
from archlab.static.receptive import RF, receptive_fields
from archlab.timing import rounds as lat
from archlab.timing.machine import now
from archlab.timing.progress import Progress, as_progress, rounds_progress

DEFAULT_BUDGET = 20.0
DEFAULT_THREADS = 1


# -- records ----------------------------------------------------------------------------------------------


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
    plan: Plan = field(repr=False)
    published: dict = field(default_factory=dict)
    deviation: dict = field(default_factory=dict)
    latency: lat.Summary | None = None  # ms per call
    ratio: lat.Summary | None = None  # per-round ratio to the first entry
    converged: bool | None = None

    @property
    def latency_ms(self) -> float | None:
        return self.latency.median if self.latency is not None else None

    def to_dict(self) -> dict:
        totals = dict(self.totals)
        if self.latency is not None:
            totals["latency_ms"] = self.latency.median
        out = {
            "label": self.label,
            "net": self.net,
            "model": self.model,
            "options": dict(self.options),
            "input": list(self.input),
            "output": list(self.output),
            "totals": totals,
            "memory": {"peak_bytes": self.peak_bytes, "peak_layer": self.peak_layer},
            "fmap_end": {"layer": self.fmap_layer, "shape": list(self.fmap_end), "rf": self.rf.to_dict()},
            "head": self.head,
            "stages": [s.to_dict() for s in self.stages],
        }
        if self.published:
            out["published"] = {
                "figures": {k: v for k, v in self.published.items() if k != "note"},
                "note": self.published.get("note"),
                "deviation": self.deviation,
            }
        if self.latency is not None:
            out["latency"] = {
                "median_ms": self.latency.median,
                "ci_low_ms": self.latency.ci_low,
                "ci_high_ms": self.latency.ci_high,
                "p10_ms": self.latency.p10,
                "p90_ms": self.latency.p90,
                "n": self.latency.n,
                "converged": self.converged,
                "ratio_to_first": self.ratio.median if self.ratio else None,
                "ratio_ci_low": self.ratio.ci_low if self.ratio else None,
                "ratio_ci_high": self.ratio.ci_high if self.ratio else None,
            }
        return out


def record(entry: Entry, spec=None) -> CompareRecord:
    """Counts, memory, FMap-end and its receptive field of one entry (no torch)."""
    spec = spec if spec is not None else load_table(entry.net)
    try:
        plan = expand(spec, Overrides.from_kwargs(**entry.overrides))
    except ArchlabError as e:
        raise type(e)(f"{entry.label}: {e}") from None
    return plan_record(plan, entry.label or entry.net, entry.net, spec)


def plan_record(plan: Plan, label: str, net: str, spec=None, fmap: str | None = None) -> CompareRecord:
    """:func:`record` of a plan (a traced module's, or a table's); ``fmap`` names FMap-end (default: found)."""
    prof = Profile.from_plan(plan, spec)
    mem = memory(plan)
    fmap = fmap_end(plan, fmap)
    shape = plan.shape_of(fmap)
    rf = receptive_fields(plan.layers)[fmap]
    head = head_row(plan)
    return CompareRecord(
        label=label,
        net=net,
        model=plan.model,
        options=dict(plan.options),
        input=tuple(plan.input),
        output=tuple(plan.output_shape),
        totals=dict(prof.totals),
        peak_bytes=mem.peak_bytes,
        peak_layer=mem.peak_layer,
        fmap_layer=fmap,
        fmap_end=tuple(shape),
        rf=rf,
        head=head.label if head is not None else "none",
        stages=stages(plan),
        published=dict(prof.published),
        deviation=prof.deviation,
        plan=plan,
    )


# -- latency ----------------------------------------------------------------------------------------------


@dataclass
class LatencyRun:
    """Interleaved timing of several plans: per plan a :class:`archlab.timing.rounds.Result` (ms per call,
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
        return (
            f"eager PyTorch, eval mode, torch.inference_mode, batch 1, {self.threads} thread"
            f"{'s' if self.threads != 1 else ''}; every network warmed up, then interleaved rounds (fresh "
            f"random order each round, {self.baseline_label} in every round) until each median's 95% CI is "
            f"within ±{self.target:.0%} or {self.budget:g} s of rounds; CI of the median: order statistics "
            f"(distribution-free); ratio: median of per-round ratios to {self.baseline_label}"
        )

    def to_dict(self) -> dict:
        return {
            "method": self.method(),
            "threads": self.threads,
            "budget_s": self.budget,
            "target": self.target,
            "rounds": self.rounds,
            "elapsed_s": round(self.elapsed_s, 3),
            "environment": self.environment,
            "baseline": self.baseline_label,
            "notes": list(self.notes),
        }


def time_plans(
    plans: list[Plan],
    *,
    baseline: int = 0,
    threads: int = DEFAULT_THREADS,
    budget: float = DEFAULT_BUDGET,
    target: float = lat.DEFAULT_TARGET,
    seed: int = 0,
    warmup: float = 0.3,
    labels: list[str] | None = None,
    progress: Progress | Callable[[str], object] | None = None,
) -> LatencyRun:
    """Time every plan's eager network (one input, batch 1) in interleaved rounds; imports torch.

    Each network is built once with seeded weights and checked by one call before timing. ``budget``: seconds
    of rounds at most (warm-up and building come before it). ``progress(done, total, what)``: the stages
    ``build and warm up`` (one step per plan, named by its label) and ``interleaved rounds`` (seconds of the
    budget); a one-argument callback gets one message per stage."""
    if not plans:
        raise OptionError("nothing to time")
    if threads < 1:
        raise OptionError(f"--threads must be >= 1, got {threads}")
    if not budget > 0:
        raise OptionError(f"--budget must be > 0 seconds, got {budget}")
    import torch

    from archlab.nn.runtimes import Workshop, environment

    started = time.monotonic()
    before = torch.get_num_threads()
    env = environment(("eager",))
    ws = Workshop(seed=seed)
    candidates = []
    labels = list(labels) if labels else [f"entry {i + 1}" for i in range(len(plans))]
    say = as_progress(progress) or (lambda done, total, what: None)
    try:
        for i, plan in enumerate(plans):
            say(i, len(plans), f"build and warm up: {labels[i]}")
            prep = ws.prepare("eager", i, plan, batch=1, threads=threads, channels_last=False)
            cand = lat.Candidate(i, prep.fn, prep.enter)
            with torch.inference_mode():
                lat.warm_up(cand, seconds=warmup)
            candidates.append(cand)
        say(len(plans), len(plans), f"build and warm up: {len(plans)} network(s) ready")
        say(0, max(1, math.ceil(budget)), f"interleaved rounds: {len(plans)} network(s), {budget:g} s at most")
        with torch.inference_mode():
            results, base = lat.interleaved(
                candidates,
                candidates[baseline],
                deadline=time.monotonic() + budget,
                target=target,
                rng=random.Random(seed),
                on_round=rounds_progress(say, "interleaved rounds", budget),
            )
    finally:
        torch.set_num_threads(before)
    if hasattr(os, "getloadavg"):
        env["loadavg_end"] = list(os.getloadavg())
    ordered = [results[i] for i in range(len(plans))]
    # the baseline was visited in every round: its row holds every round, not only those before it was final
    ordered[baseline] = dataclasses.replace(base, ratios=[1.0] * len(base.samples))
    notes = []
    slow = [labels[i] for i, r in enumerate(ordered) if not r.converged]
    if slow:
        notes.append(
            f"{len(slow)} of {len(plans)} medians did not reach ±{target:.0%} within {budget:g} s "
            f"({', '.join(slow)}); their wider CIs are reported"
        )
    # rounds completed (a round cut by the deadline is dropped whole); the baseline is in every one
    return LatencyRun(
        ordered, baseline, threads, budget, target, len(base.samples), time.monotonic() - started, env, notes, labels
    )


# -- the comparison ---------------------------------------------------------------------------------------


@dataclass
class Comparison:
    records: list[CompareRecord]
    latency: LatencyRun | None = None
    notes: list[str] = field(default_factory=list)
    generated: str = ""  # when (UTC, ISO 8601)

    def __repr__(self) -> str:
        timed = "timed" if self.latency is not None else "latency not measured"
        entries = "; ".join(f"{r.label}: {totals_text(r.totals)}" for r in self.records)
        return f"<Comparison of {len(self.records)} entries ({timed})\n  {entries}>"

    def _repr_html_(self) -> str | None:
        return Display.html_of(self)

    def to_frame(self):
        """A pandas DataFrame, one record per entry: the profile JSON's names (totals, peak memory, FMap-end and
        its theoretical RF as ``rf``/``jump``, the head) and, when timed, latency and the ratio to the first."""
        from archlab.static.frames import frame, rf_columns, shape_text

        records = []
        for r in self.records:
            rec = {
                "label": r.label,
                "model": r.model,
                "input": shape_text(r.input),
                **{k: r.totals[k] for k in ("params", "params_deployed", "madds", "other_ops", "activations")},
                "peak_bytes": r.peak_bytes,
                "fmap_end": shape_text(r.fmap_end),
                "fmap_layer": r.fmap_layer,
                **rf_columns(r.rf),
                "head": r.head,
            }
            if self.latency is not None:
                rec.update(
                    {
                        "latency_ms": r.latency.median if r.latency else None,
                        "ci_low_ms": r.latency.ci_low if r.latency else None,
                        "ci_high_ms": r.latency.ci_high if r.latency else None,
                        "ratio": r.ratio.median if r.ratio else None,
                        "ratio_ci_low": r.ratio.ci_low if r.ratio else None,
                        "ratio_ci_high": r.ratio.ci_high if r.ratio else None,
                    }
                )
            records.append(rec)
        return frame(records)

    def to_dict(self) -> dict:
        from archlab.ir.ops import CONVENTIONS
        from archlab.static.memory import PEAK_RULE

        return {
            "schema_version": 1,
            "records": [r.to_dict() for r in self.records],
            "latency": self.latency.to_dict() if self.latency else None,
            "conventions": {
                **CONVENTIONS,
                "peak_bytes": PEAK_RULE,
                "rf": "theoretical receptive field of FMap-end unit 0 per axis (size, jump, start; Araujo et al. 2019)",
                "stages": "table rows grouped by output stride (input height / output height); "
                "head = everything after FMap-end",
            },
            "notes": list(self.notes),
        }


def compare(
    entries: list,
    *,
    latency: bool = False,
    threads: int = DEFAULT_THREADS,
    budget: float = DEFAULT_BUDGET,
    target: float = lat.DEFAULT_TARGET,
    seed: int = 0,
    progress: Progress | Callable[[str], object] | None = None,
) -> Comparison:
    """One record per entry (a string is parsed as ``NAME[:key=value,...]``; a :class:`Plan` is taken as it is,
    e.g. a traced module's); with ``latency`` every entry is also timed (interleaved, the first entry the
    baseline). Table and option errors come before any timing."""
    parsed = [parse_entry(e, "entry") if isinstance(e, str) else e for e in entries]
    if not parsed:
        raise OptionError("give at least one network to compare")
    tables = [e for e in parsed if isinstance(e, Entry)]
    records = []
    for e in parsed:
        if isinstance(e, Plan):
            records.append(plan_record(e, e.model, e.model))
        else:
            records.append(record(tables.pop(0)))
    for rec, label in zip(records, distinct_labels([r.label for r in records])):
        rec.label = label  # a module and a table of one name, or one table twice
    run = None
    if latency:
        run = time_plans(
            [r.plan for r in records],
            threads=threads,
            budget=budget,
            target=target,
            seed=seed,
            labels=[r.label for r in records],
            progress=progress,
        )
        for rec, res in zip(records, run.results):
            rec.latency, rec.ratio, rec.converged = res.latency, res.ratio, res.converged
    notes = []
    if len(records) == 1:
        notes.append("one entry: add more names or --variant NAME:key=value to compare")
    return Comparison(records, run, notes + (run.notes if run else []), now())
