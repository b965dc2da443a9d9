"""Measuring latency on a noisy machine: interleaved rounds, a distribution-free CI of the median.

The method (README, "Latency sweeps"):

* every candidate is warmed up first; the warm-up also sets how many calls one sample averages
  (``number``: enough calls for ``min_sample_s``, like ``timeit``), so tiny networks are not timer-bound;
* then **rounds**: each round visits every still-active candidate once, in a fresh random order, and the
  baseline in every round. A visit makes one untimed call (the other candidates' visits evicted this one's
  weights from the caches) and then times ``number`` calls: one sample. Drift of the machine (other jobs,
  clock changes) therefore hits every candidate alike, round by round;
* a candidate stops when the 95% confidence interval of its median is within ``±target`` of the median
  (``target`` 0.02: ±2%), with at least ``min_samples`` samples; when the deadline passes, every candidate
  still active stops with the CI it has reached (``converged`` is then False). The deadline is checked after
  every visit (a round cut short is dropped whole), but at least ``min_samples`` rounds are always made (6 is
  the fewest samples for which a 95% order-statistic interval exists);
* the CI of the median is the distribution-free order-statistic interval: sorted samples
  ``x(1) <= ... <= x(n)``, the interval ``[x(l), x(n+1-l)]`` with the largest ``l`` such that
  ``P(Binomial(n, 1/2) <= l-1) <= (1-confidence)/2``; its coverage is at least ``confidence`` for any
  continuous distribution (exact binomial sums up to n = 5000, the normal approximation beyond);
* the ratio to the baseline is computed **within rounds**: per round, candidate sample / baseline sample;
  the reported ratio is the median of these per-round ratios, with the same order-statistic CI.

Everything here is plain Python (no torch): a candidate is any zero-argument callable.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from archlab.timing.stats import DEFAULT_CONFIDENCE, Summary, median_ci_ranks, summarize

DEFAULT_TARGET = 0.02
MIN_SAMPLES = 6


@dataclass
class Candidate:
    """Something to time. ``fn`` runs one inference; ``enter`` (optional) runs before each visit, e.g. to
    set the thread count. ``number`` calls make one sample (set by :func:`warm_up` when left at 0)."""

    key: Hashable
    fn: Callable[[], object]
    enter: Callable[[], object] | None = None
    number: int = 0
    warmup_ms: float | None = None  # per-call time seen at the end of the warm-up


def warm_up(
    c: Candidate,
    seconds: float = 0.3,
    min_calls: int = 3,
    min_sample_s: float = 0.01,
    max_number: int = 10_000,
    clock=time.perf_counter,
) -> float:
    """Run ``c`` until ``seconds`` have passed (at least ``min_calls`` calls); set ``c.number``.

    Returns the per-call time in ms of the last calls (used for ``number`` and the ETA).
    """
    if c.enter is not None:
        c.enter()
    start = clock()
    times: list[float] = []
    while len(times) < min_calls or clock() - start < seconds:
        t0 = clock()
        c.fn()
        times.append(clock() - t0)
    late = sorted(times[len(times) // 2 :])  # the second half: past first-call effects
    per_call = max(late[len(late) // 2], 1e-7)
    if not c.number:
        c.number = max(1, min(max_number, math.ceil(min_sample_s / per_call - 1e-9)))
    c.warmup_ms = per_call * 1e3
    return per_call * 1e3


def visit(c: Candidate, clock_ns=time.perf_counter_ns) -> float:
    """One sample: ``enter``, one untimed call, then ``number`` timed calls; ms per call."""
    if c.enter is not None:
        c.enter()
    fn = c.fn
    fn()
    number = max(1, c.number)
    t0 = clock_ns()
    for _ in range(number):
        fn()
    t1 = clock_ns()
    return (t1 - t0) / number / 1e6


@dataclass
class Result:
    """What the rounds found for one candidate. ``samples`` in ms; ``ratios``: per-round ratio to the
    baseline (empty for the baseline itself)."""

    key: Hashable
    samples: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    converged: bool = False
    final: bool = False
    stop: str = ""  # converged | deadline | interrupted
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def latency(self) -> Summary:
        return summarize(self.samples, self.confidence)

    @property
    def ratio(self) -> Summary | None:
        return summarize(self.ratios, self.confidence) if self.ratios else None


@dataclass
class RoundInfo:
    """Passed to ``on_round`` after every round."""

    round: int
    elapsed_s: float
    active: int
    final: int
    total: int
    worst_halfwidth: float  # largest relative CI half-width among active candidates (inf: no CI yet)
    eta_s: float | None  # estimated seconds until every candidate is final (None: unknown)


def interleaved(
    candidates: Sequence[Candidate],
    baseline: Candidate,
    *,
    deadline: float | None = None,
    target: float = DEFAULT_TARGET,
    confidence: float = DEFAULT_CONFIDENCE,
    min_samples: int = MIN_SAMPLES,
    max_samples: int | None = None,
    rng: random.Random | None = None,
    on_final: Callable[[Result], object] | None = None,
    on_round: Callable[[RoundInfo], object] | None = None,
    sample: Callable[[Candidate], float] = visit,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[dict[Hashable, Result], Result]:
    """Time ``candidates`` (and ``baseline`` in every round) in interleaved rounds until each is final.

    ``deadline`` is a ``clock()`` value; ``sample`` is the measurement of one visit (replaceable in tests).
    Returns the results by key and the baseline's result. ``on_final`` is called once per candidate as soon
    as it is final (its CI is within ``±target``, it has ``max_samples``, or the deadline passed). A
    KeyboardInterrupt propagates; candidates that were final before it have had their ``on_final``.
    """
    rng = rng or random.Random()
    min_samples = max(min_samples, _min_n_for_ci(confidence))
    keys = [c.key for c in candidates]
    if len(set(keys)) != len(keys):
        raise ValueError("candidate keys must be unique")
    results = {c.key: Result(c.key, confidence=confidence) for c in candidates}
    base = Result(baseline.key, confidence=confidence)  # the baseline's samples of every round
    active = list(candidates)
    start = clock()
    round_times: list[float] = []
    r = 0
    gc_was_enabled = gc.isenabled()
    try:
        while active:
            r += 1
            t_round = clock()
            order = list(active)
            if all(c.key != baseline.key for c in order):
                order.append(baseline)
            rng.shuffle(order)
            got: dict[Hashable, float] = {}
            # once every candidate has its minimum, a deadline passing mid-round ends the sweep at once (the
            # partial round is dropped, so every candidate keeps the same rounds)
            may_cut = deadline is not None and all(len(results[c.key].samples) >= min_samples for c in active)
            cut = False
            gc.collect(0) if r > 1 else gc.collect()  # young objects only: a full collection costs ~0.1 s
            gc.disable()
            try:
                for c in order:
                    got[c.key] = sample(c)
                    if may_cut and deadline is not None and clock() >= deadline:
                        cut = True
                        break
            finally:
                if gc_was_enabled:
                    gc.enable()
            if cut:
                for c in active:
                    res = results[c.key]
                    res.converged = res.latency.rel_halfwidth <= target
                    res.stop, res.final = ("converged" if res.converged else "deadline"), True
                    if on_final is not None:
                        on_final(res)
                active = []
                if on_round is not None:
                    on_round(
                        _round_info(
                            r, clock() - start, active, results, round_times, target, min_samples, deadline, clock()
                        )
                    )
                break
            b = got[baseline.key]
            base.samples.append(b)
            base.rounds.append(r)
            for c in active:
                res = results[c.key]
                res.samples.append(got[c.key])
                res.rounds.append(r)
                res.ratios.append(1.0 if c.key == baseline.key else (got[c.key] / b if b > 0 else math.inf))
            round_times.append(clock() - t_round)
            now = clock()
            past_deadline = deadline is not None and now >= deadline
            still = []
            for c in active:
                res = results[c.key]
                n = len(res.samples)
                if n < min_samples:
                    still.append(c)
                    continue
                if res.latency.rel_halfwidth <= target:
                    res.converged, res.stop = True, "converged"
                elif max_samples is not None and n >= max_samples:
                    res.stop = "max_samples"
                elif past_deadline:
                    res.stop = "deadline"
                else:
                    still.append(c)
                    continue
                res.final = True
                if on_final is not None:
                    on_final(res)
            active = still
            if on_round is not None:
                on_round(_round_info(r, now - start, active, results, round_times, target, min_samples, deadline, now))
    except KeyboardInterrupt:
        for c in active:
            results[c.key].stop = "interrupted"
        base.stop = "interrupted"
        raise
    finally:
        if gc_was_enabled and not gc.isenabled():
            gc.enable()
    base.final = True
    base.converged = bool(base.samples) and base.latency.rel_halfwidth <= target
    base.stop = "converged" if base.converged else "with_candidates"
    return results, base


def _min_n_for_ci(confidence: float) -> int:
    n = 1
    while median_ci_ranks(n, confidence) is None:
        n += 1
    return n


def _round_info(r, elapsed, active, results, round_times, target, min_samples, deadline, now) -> RoundInfo:
    total = len(results)
    worst = 0.0
    need_rounds = 0
    known = True
    for c in active:
        res = results[c.key]
        n = len(res.samples)
        hw = res.latency.rel_halfwidth if n >= min_samples else math.inf
        worst = max(worst, hw)
        if n < min_samples:
            need_rounds = max(need_rounds, min_samples - n)
            if n < 3:
                known = False
        elif math.isfinite(hw):
            # the CI half-width shrinks like 1/sqrt(n)
            need_rounds = max(need_rounds, math.ceil(n * (hw / target) ** 2) - n)
        else:
            known = False
    recent = round_times[-5:]
    per_round = sum(recent) / len(recent) if recent else 0.0
    eta = need_rounds * per_round if known else None
    if deadline is not None:
        left = max(0.0, deadline - now)
        eta = left if eta is None else min(eta, left)
    if not active:
        eta = 0.0
    return RoundInfo(r, elapsed, len(active), total - len(active), total, worst if active else 0.0, eta)
