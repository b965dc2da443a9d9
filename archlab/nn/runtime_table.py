"""Every runtime of one network timed end to end in interleaved rounds, eager as the baseline: the table
``deploy`` chooses by (:class:`archlab.timing.runtime_table.RuntimeTable`).

Each runtime is prepared (built, exported, compiled: :class:`archlab.nn.runtimes.Workshop`) and checked
against eager, warmed up, then all are timed in the same rounds (:func:`archlab.timing.rounds.interleaved`):
one untimed call and ``number`` (>= 3) timed calls per visit, a fresh random order every round, on the
per-thread CPU clock at 1 thread (wall beside it). ``budget_s`` bounds the rounds (preparation comes before).
"""

from __future__ import annotations

import random
import time

from archlab.errors import ArchlabError
from archlab.ir.plan import Plan
from archlab.timing import rounds as lat
from archlab.timing.machine import loadavg, usable_cpus
from archlab.timing.progress import Progress, rounds_progress
from archlab.timing.runtime_table import RuntimeRow, RuntimeTable

DEFAULT_BUDGET_S = 60.0


def measure_runtimes(
    plan: Plan,
    *,
    runtimes: tuple[str, ...] | None = None,
    threads: int = 1,
    batch: int = 1,
    channels_last: bool = False,
    budget_s: float = DEFAULT_BUDGET_S,
    target: float = lat.DEFAULT_TARGET,
    seed: int = 0,
    warmup_s: float = 0.3,
    min_sample_s: float = lat.DEFAULT_MIN_SAMPLE_S,
    max_samples: int | None = None,
    progress: Progress | None = None,
    workshop=None,
    clock: str = "auto",
) -> tuple[RuntimeTable, dict]:
    """Time ``runtimes`` (default: all that run here) of ``plan``; returns the table and the prepared runtimes.
    ``progress(done, total, what)``: the stages ``prepare`` (one step per runtime) and ``rounds`` (seconds)."""
    import torch

    from archlab.nn.runtimes import Workshop, available, require

    if threads < 1 or batch < 1 or not budget_s > 0:
        raise ArchlabError("runtimes: threads and batch must be >= 1 and the budget > 0")
    clock = lat.clock_for(threads, clock)
    wanted = tuple(dict.fromkeys(("eager", *(runtimes or available()))))
    ws = workshop or Workshop(seed)
    start, load0 = time.monotonic(), loadavg()
    prepared, cands, prep_s, skipped = {}, [], {}, {}
    for i, rt in enumerate(wanted):
        if progress is not None:
            progress(i, len(wanted), f"prepare: {rt} (build, convert, check and warm up)")
        t0 = time.monotonic()
        try:
            require(rt)
            prepared[rt] = ws.prepare(rt, "plan", plan, batch=batch, threads=threads, channels_last=channels_last)
        except ArchlabError as e:
            if rt == "eager":
                raise
            skipped[rt] = str(e)
            continue
        prep_s[rt] = time.monotonic() - t0
        c = lat.Candidate(rt, prepared[rt].fn, prepared[rt].enter, clock=clock)
        with torch.inference_mode():
            lat.warm_up(c, seconds=warmup_s, min_sample_s=min_sample_s)
        cands.append(c)
    if progress is not None:
        progress(len(wanted), len(wanted), "prepare: done")
    before = torch.get_num_threads()
    try:
        with torch.inference_mode():
            results, base = lat.interleaved(
                cands, cands[0], deadline=time.monotonic() + budget_s, target=target, max_samples=max_samples,
                rng=random.Random(seed), on_round=rounds_progress(progress, "rounds", budget_s),
            )  # fmt: skip
    finally:
        torch.set_num_threads(before)
    rows = [_row(c, results[c.key], prepared[str(c.key)], prep_s[str(c.key)]) for c in cands]
    table = RuntimeTable(
        plan.model, dict(plan.options), threads, batch, clock, rows, budget_s, time.monotonic() - start,
        len(base.samples), load0, loadavg(), usable_cpus(), skipped=skipped,
    )  # fmt: skip
    if not all(r.converged for r in rows):
        table.notes.append(f"not every median reached ±{target:.0%} within {budget_s:g} s: their CIs are reported")
    return table, prepared


def _row(c: lat.Candidate, res: lat.Result, prep, prepare_s: float) -> RuntimeRow:
    return RuntimeRow(
        c.key,  # type: ignore[arg-type]
        res.latency,
        res.wall_latency,
        res.cpu_latency,
        res.ratio,
        prep.max_abs_diff,
        prep.ref_max_abs,
        prep.check_ok,
        res.converged,
        res.stop,
        c.number,
        prepare_s,
        "" if prep.runtime == "eager" else prep.note,
        res.clock,
    )
