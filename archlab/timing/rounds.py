"""Measuring latency on a noisy machine: interleaved rounds, a distribution-free CI of the median, two clocks.

The method (README, "Latency sweeps"):

* every candidate is warmed up first; the warm-up also sets how many calls one sample averages
  (``number``: enough calls for ``min_sample_s`` (10 ms) and at least ``MIN_NUMBER`` (3), like ``timeit``);
* then **rounds**: each round visits every still-active candidate once, in a fresh random order, and the
  baseline in every round. A visit makes one untimed call (the first call after another candidate is 7-10%
  slower: the others evicted this one's weights from the caches) and then times ``number`` calls: one sample.
  Drift of the machine (other jobs, clock changes) therefore hits every candidate alike, round by round;
* **clocks**: every sample reads the wall clock (``perf_counter_ns``) and, for a candidate whose ``clock`` is
  ``cpu`` (one thread: the inference runs on the calling thread), the per-thread CPU clock
  (``thread_time_ns``), which leaves out the time the thread was preempted by other jobs (under load its CIs
  are several times narrower; on a quiet machine the two agree). The candidate's latency is read on its own
  clock; both are kept and reported. At >= 2 threads the CPU clock is not a latency (threads spin, or run
  elsewhere): wall time only;
* a candidate stops when the 95% confidence interval of its median, on the steadier of its clocks, is within
  ``±target`` of the median (``target`` 0.02: ±2%), with at least ``min_samples`` samples;
* the **deadline is a hard bound**: once it has passed, the round under way is the last (cut at once, and
  dropped whole, when every candidate already has its minimum of samples); candidates still active stop with
  the CI they have reached (``converged`` False), fewer than ``min_samples`` samples if the budget ended first;
* the CI of the median is the distribution-free order-statistic interval: sorted samples
  ``x(1) <= ... <= x(n)``, the interval ``[x(l), x(n+1-l)]`` with the largest ``l`` such that
  ``P(Binomial(n, 1/2) <= l-1) <= (1-confidence)/2`` (6 is the fewest samples for which a 95% interval exists);
* the ratio to the baseline is computed **within rounds**: per round, candidate sample / baseline sample (each
  on its own clock); the reported ratio is the median of these per-round ratios, with the same CI.

Everything here is plain Python (no torch): a candidate is any zero-argument callable.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from archlab.errors import OptionError
from archlab.timing.stats import DEFAULT_CONFIDENCE, Summary, median_ci_ranks, summarize

DEFAULT_TARGET = 0.02
MIN_SAMPLES = 6
MIN_NUMBER = 3  # timed calls per sample: one timed call still carries +2-3% of the first-call penalty
DEFAULT_MIN_SAMPLE_S = 0.01
CLOCKS = ("cpu", "wall")


CLOCK_CHOICES = ("auto", "cpu", "wall")


def clock_for(threads: int, clock: str = "auto") -> str:
    """The clock a latency at ``threads`` threads is read on: ``auto`` = per-thread CPU time at 1 thread, wall
    time otherwise; ``cpu`` only at 1 thread (at more, threads spin or run elsewhere: not a latency)."""
    if clock not in CLOCK_CHOICES:
        raise OptionError(f"--clock: one of {', '.join(CLOCK_CHOICES)}, not {clock!r}")
    if clock == "cpu" and threads != 1:
        raise OptionError(f"--clock cpu needs 1 thread (at {threads} the per-thread CPU clock is not a latency)")
    if clock == "auto":
        return "cpu" if threads == 1 else "wall"
    return clock


@dataclass
class Candidate:
    """Something to time. ``fn`` runs one inference; ``enter`` (optional) runs before each visit, e.g. to
    set the thread count. ``number`` calls make one sample (set by :func:`warm_up` when left at 0);
    ``clock``: ``cpu`` (1 thread) or ``wall``."""

    key: Hashable
    fn: Callable[[], object]
    enter: Callable[[], object] | None = None
    number: int = 0
    warmup_ms: float | None = None  # per-call time seen at the end of the warm-up
    clock: str = "wall"


@dataclass(frozen=True)
class Timing:
    """One sample: ms per call on the wall clock and (1-thread candidates) on the per-thread CPU clock."""

    wall: float
    cpu: float | None = None


def warm_up(
    c: Candidate,
    seconds: float = 0.3,
    min_calls: int = 3,
    min_sample_s: float = DEFAULT_MIN_SAMPLE_S,
    max_number: int = 10_000,
    clock=None,
    min_number: int = MIN_NUMBER,
) -> float:
    """Run ``c`` until ``seconds`` have passed (at least ``min_calls`` calls); set ``c.number``.

    Returns the per-call time in ms of the last calls (used for ``number`` and the ETA), read on the
    candidate's clock (``clock``, when given, for both the duration and the calls: tests pass a fake one).
    """
    if c.enter is not None:
        c.enter()
    wall = clock or time.perf_counter
    per = clock or (time.thread_time if c.clock == "cpu" else time.perf_counter)
    start = wall()
    times: list[float] = []
    while len(times) < min_calls or wall() - start < seconds:
        t0 = per()
        c.fn()
        times.append(per() - t0)
    late = sorted(times[len(times) // 2 :])  # the second half: past first-call effects
    per_call = max(late[len(late) // 2], 1e-7)
    if not c.number:
        c.number = max(min_number, min(max_number, math.ceil(min_sample_s / per_call - 1e-9)))
    c.warmup_ms = per_call * 1e3
    return per_call * 1e3


def visit(c: Candidate, clock_ns=time.perf_counter_ns) -> float:
    """One sample on one clock: ``enter``, one untimed call, then ``number`` timed calls; ms per call."""
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


def visit_clocks(c: Candidate, wall_ns=time.perf_counter_ns, cpu_ns=time.thread_time_ns) -> Timing:
    """One sample on both clocks (the CPU clock only for a ``cpu`` candidate): like :func:`visit`."""
    if c.enter is not None:
        c.enter()
    fn = c.fn
    fn()
    number = max(1, c.number)
    use_cpu = c.clock == "cpu"
    c0 = cpu_ns() if use_cpu else 0
    w0 = wall_ns()
    for _ in range(number):
        fn()
    w1 = wall_ns()
    c1 = cpu_ns() if use_cpu else 0
    return Timing((w1 - w0) / number / 1e6, (c1 - c0) / number / 1e6 if use_cpu else None)


def as_timing(v: float | Timing) -> Timing:
    return v if isinstance(v, Timing) else Timing(float(v))


@dataclass
class Result:
    """What the rounds found for one candidate. ``samples`` in ms on the candidate's ``clock``; ``wall`` and
    ``cpu`` per clock; ``ratios``: per-round ratio to the baseline (empty for the baseline itself)."""

    key: Hashable
    samples: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    converged: bool = False
    final: bool = False
    stop: str = ""  # converged | max_samples | deadline | interrupted
    confidence: float = DEFAULT_CONFIDENCE
    clock: str = "wall"
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def latency(self) -> Summary:
        return summarize(self.samples, self.confidence)

    @property
    def ratio(self) -> Summary | None:
        return summarize(self.ratios, self.confidence) if self.ratios else None

    @property
    def wall_latency(self) -> Summary:
        return summarize(self.wall, self.confidence)

    @property
    def cpu_latency(self) -> Summary | None:
        return summarize(self.cpu, self.confidence) if self.cpu else None

    @property
    def steadier(self) -> str:
        """The clock whose median has the narrower CI (the stop rule's)."""
        cpu = self.cpu_latency
        if cpu is None:
            return "wall"
        return "cpu" if cpu.rel_halfwidth <= self.wall_latency.rel_halfwidth else "wall"

    @property
    def halfwidth(self) -> float:
        """The relative CI half-width on the steadier clock (inf without a CI)."""
        cpu = self.cpu_latency
        wall = self.wall_latency.rel_halfwidth if self.wall else math.inf
        return min(wall, cpu.rel_halfwidth) if cpu is not None else min(wall, self.latency.rel_halfwidth)

    def add(self, t: Timing, r: int) -> float:
        value = t.cpu if self.clock == "cpu" and t.cpu is not None else t.wall
        self.samples.append(value)
        self.wall.append(t.wall)
        if t.cpu is not None:
            self.cpu.append(t.cpu)
        self.rounds.append(r)
        return value


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


@dataclass
class _Run:
    """The state of one :func:`interleaved` call."""

    results: dict
    base: Result
    target: float
    min_samples: int
    max_samples: int | None
    deadline: float | None
    on_final: Callable[[Result], object] | None
    round_times: list[float] = field(default_factory=list)

    def finish(self, res: Result, stop: str) -> None:
        res.converged = res.halfwidth <= self.target and len(res.samples) >= self.min_samples
        res.stop = "converged" if res.converged else stop
        res.final = True
        if self.on_final is not None:
            self.on_final(res)

    def still_active(self, res: Result, past_deadline: bool) -> bool:
        n = len(res.samples)
        if n >= self.min_samples and res.halfwidth <= self.target:
            self.finish(res, "converged")
        elif self.max_samples is not None and n >= self.max_samples:
            self.finish(res, "max_samples")
        elif past_deadline:
            self.finish(res, "deadline")
        else:
            return True
        return False


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
    sample: Callable[[Candidate], float | Timing] = visit_clocks,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[dict[Hashable, Result], Result]:
    """Time ``candidates`` (and ``baseline`` in every round) in interleaved rounds until each is final.

    ``deadline`` is a ``clock()`` value; ``sample`` is the measurement of one visit (replaceable in tests; a
    float is a wall-clock sample). Returns the results by key and the baseline's result. ``on_final`` is
    called once per candidate as soon as it is final (its CI is within ``±target``, it has ``max_samples``,
    or the deadline passed). A KeyboardInterrupt propagates; candidates final before it had their ``on_final``.
    """
    rng = rng or random.Random()
    min_samples = max(min_samples, _min_n_for_ci(confidence))
    keys = [c.key for c in candidates]
    if len(set(keys)) != len(keys):
        raise ValueError("candidate keys must be unique")
    run = _Run(
        {c.key: Result(c.key, confidence=confidence, clock=c.clock) for c in candidates},
        Result(baseline.key, confidence=confidence, clock=baseline.clock),
        target,
        min_samples,
        max_samples,
        deadline,
        on_final,
    )
    active = list(candidates)
    start, r = clock(), 0
    try:
        while active:
            r += 1
            active = _one_round(run, active, baseline, r, rng, sample, clock)
            if on_round is not None:
                on_round(_round_info(r, clock() - start, active, run, clock()))
    except KeyboardInterrupt:
        for c in active:
            run.results[c.key].stop = "interrupted"
        run.base.stop = "interrupted"
        raise
    base = run.base
    base.final = True
    base.converged = bool(base.samples) and base.halfwidth <= target
    base.stop = "converged" if base.converged else "with_candidates"
    return run.results, base


def _one_round(run: _Run, active: list, baseline: Candidate, r: int, rng, sample, clock) -> list:
    """Visit every active candidate (and the baseline) once; returns the candidates still active."""
    t_round = clock()
    order = list(active)
    if all(c.key != baseline.key for c in order):
        order.append(baseline)
    rng.shuffle(order)
    got: dict[Hashable, Timing] = {}
    # once every candidate has its minimum, a deadline passing mid-round ends the rounds at once (the partial
    # round is dropped, so every candidate keeps the same rounds); before that, the round is finished
    may_cut = run.deadline is not None and all(len(run.results[c.key].samples) >= run.min_samples for c in active)
    gc_was_enabled = gc.isenabled()
    gc.collect(0) if r > 1 else gc.collect()  # young objects only: a full collection costs ~0.1 s
    gc.disable()
    try:
        for c in order:
            got[c.key] = as_timing(sample(c))
            if may_cut and run.deadline is not None and clock() >= run.deadline:
                for a in active:
                    run.finish(run.results[a.key], "deadline")
                return []
    finally:
        if gc_was_enabled:
            gc.enable()
    b = run.base.add(got[baseline.key], r)
    for c in active:
        res = run.results[c.key]
        v = res.add(got[c.key], r)
        res.ratios.append(1.0 if c.key == baseline.key else (v / b if b > 0 else math.inf))
    run.round_times.append(clock() - t_round)
    past = run.deadline is not None and clock() >= run.deadline
    return [c for c in active if run.still_active(run.results[c.key], past)]


def _min_n_for_ci(confidence: float) -> int:
    n = 1
    while median_ci_ranks(n, confidence) is None:
        n += 1
    return n


def _round_info(r: int, elapsed: float, active: list, run: _Run, now: float) -> RoundInfo:
    total = len(run.results)
    worst, need_rounds, known = 0.0, 0, True
    for c in active:
        res = run.results[c.key]
        n = len(res.samples)
        hw = res.halfwidth if n >= run.min_samples else math.inf
        worst = max(worst, hw)
        if n < run.min_samples:
            need_rounds = max(need_rounds, run.min_samples - n)
            known = known and n >= 3
        elif math.isfinite(hw):
            need_rounds = max(need_rounds, math.ceil(n * (hw / run.target) ** 2) - n)  # hw shrinks like 1/sqrt(n)
        else:
            known = False
    recent = run.round_times[-5:]
    per_round = sum(recent) / len(recent) if recent else 0.0
    eta = need_rounds * per_round if known else None
    if run.deadline is not None:
        left = max(0.0, run.deadline - now)
        eta = left if eta is None else min(eta, left)
    if not active:
        eta = 0.0
    return RoundInfo(r, elapsed, len(active), total - len(active), total, worst if active else 0.0, eta)
