"""archlab.timing.stats and archlab.timing.rounds, without torch: the order-statistic CI of the median,
interleaved rounds, drift, stopping."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archlab.timing import rounds as lat
from archlab.timing import stats

# -- the CI of the median ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n, ranks", [(6, (1, 6)), (10, (2, 9)), (20, (6, 15)), (100, (40, 61)), (1000, (469, 532))])
def test_median_ci_ranks_match_binomial_tables(n, ranks):
    # the classic ranks (e.g. Conover, Practical Nonparametric Statistics, table A3; n=20: 6th and 15th)
    assert stats.median_ci_ranks(n) == ranks


def test_no_ci_below_six_samples():
    assert [stats.median_ci_ranks(n) for n in range(1, 6)] == [None] * 5
    assert stats.median_ci([1.0, 2.0, 3.0, 4.0, 5.0]) is None


def test_ranks_are_the_narrowest_with_at_least_95_percent_coverage():
    for n in range(6, 400):
        l, h = stats.median_ci_ranks(n)
        assert h == n + 1 - l
        cov = stats.ci_coverage(n)
        assert cov >= 0.95
        # one rank narrower on both sides would fall below 95%
        tail = sum(math.comb(n, k) for k in range(l + 1)) / 2**n
        assert 1 - 2 * tail < 0.95


def test_normal_approximation_continues_the_exact_ranks():
    exact = stats.median_ci_ranks(stats.EXACT_LIMIT)
    approx = stats.median_ci_ranks(stats.EXACT_LIMIT + 1)
    assert abs(approx[0] - exact[0]) <= 2


def test_coverage_by_simulation_on_a_skewed_distribution():
    # latency-like: exponential tail; the true median of Exp(1) is ln 2. Seeded, so deterministic.
    rng = random.Random(7)
    hits = 0
    trials = 2000
    for _ in range(trials):
        xs = [rng.expovariate(1.0) for _ in range(30)]
        lo, hi = stats.median_ci(xs)
        hits += lo <= math.log(2) <= hi
    assert hits / trials >= 0.93  # exact coverage at n=30 is 0.957


@given(st.lists(st.floats(min_value=0.01, max_value=1e4, allow_nan=False), min_size=6, max_size=300))
@settings(max_examples=200, deadline=None)
def test_median_inside_its_ci_and_quantiles_ordered(xs):
    s = stats.summarize(xs)
    assert s.ci_low <= s.median <= s.ci_high
    assert min(xs) <= s.p10 <= s.median <= s.p90 <= max(xs)
    assert s.n == len(xs)
    assert s.rel_halfwidth >= 0


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=50),
    st.floats(min_value=0, max_value=1),
)
@settings(max_examples=200, deadline=None)
def test_quantile_matches_numpy_linear(xs, q):
    np = pytest.importorskip("numpy")
    assert stats.quantile(sorted(xs), q) == pytest.approx(float(np.quantile(xs, q)), rel=1e-9, abs=1e-9)


# -- interleaved rounds with a synthetic machine ---------------------------------------------------------


class FakeMachine:
    """Samples = true latency x drift of the round x optional noise; records the visiting order."""

    def __init__(self, true, drift=lambda r: 1.0, noise=0.0, seed=0):
        self.true = true
        self.drift = drift
        self.noise = noise
        self.rng = random.Random(seed)
        self.order: list[list] = []
        self.t = 0.0

    def sample(self, c):
        if not self.order or self._new_round:
            self.order.append([])
            self._new_round = False
        self.order[-1].append(c.key)
        self.t += 0.001
        r = len(self.order)
        return self.true[c.key] * self.drift(r) * (1 + self.noise * self.rng.uniform(-1, 1))

    def clock(self):
        return self.t

    def round_done(self, info):
        self._new_round = True

    _new_round = True


def cands(keys):
    return [lat.Candidate(k, lambda: None) for k in keys]


def test_drift_cancels_in_the_within_round_ratio():
    true = {"base": 10.0, "half": 5.0, "double": 20.0}
    m = FakeMachine(true, drift=lambda r: 1 + 0.05 * r)  # the machine slows down steadily: 1.05x .. 2x
    cs = cands(["half", "double"])
    base = lat.Candidate("base", lambda: None)
    res, b = lat.interleaved(
        cs,
        base,
        target=0.001,
        min_samples=6,
        max_samples=20,
        sample=m.sample,
        on_round=m.round_done,
        rng=random.Random(1),
        clock=m.clock,
    )
    assert res["half"].ratio.median == pytest.approx(0.5, rel=1e-12)
    assert res["double"].ratio.median == pytest.approx(2.0, rel=1e-12)
    assert res["half"].ratio.ci_low == pytest.approx(0.5) and res["half"].ratio.ci_high == pytest.approx(0.5)
    # while the medians themselves drifted well away from the truth
    assert res["half"].latency.median > 5.0 * 1.4
    assert res["half"].stop == "max_samples" and not res["half"].converged
    assert len(b.samples) == 20


def test_every_round_visits_each_active_candidate_once_in_a_fresh_random_order():
    keys = [f"c{i}" for i in range(6)]
    true = {k: 1.0 + i for i, k in enumerate(keys)} | {"base": 3.0}
    m = FakeMachine(true, noise=0.3)
    lat.interleaved(
        cands(keys),
        lat.Candidate("base", lambda: None),
        target=1e-6,
        min_samples=6,
        max_samples=12,
        sample=m.sample,
        on_round=m.round_done,
        rng=random.Random(3),
        clock=m.clock,
    )
    assert len(m.order) == 12
    for visit_order in m.order:
        assert sorted(visit_order) == sorted(keys + ["base"])
    assert len({tuple(o) for o in m.order}) > 6  # orders differ between rounds


def test_noise_free_candidates_converge_at_the_minimum_and_are_reported_once():
    m = FakeMachine({"a": 2.0, "b": 4.0, "base": 1.0})
    finals = []
    res, b = lat.interleaved(
        cands(["a", "b"]),
        lat.Candidate("base", lambda: None),
        min_samples=6,
        sample=m.sample,
        on_round=m.round_done,
        on_final=lambda r: finals.append(r.key),
        clock=m.clock,
    )
    assert sorted(finals) == ["a", "b"]
    assert all(r.converged and r.stop == "converged" and len(r.samples) == 6 for r in res.values())
    assert res["b"].latency.median == 4.0 and res["b"].ratio.median == 4.0


def test_deadline_stops_noisy_candidates_with_the_ci_reached():
    m = FakeMachine({"a": 2.0, "base": 1.0}, noise=0.9, seed=5)
    res, _ = lat.interleaved(
        cands(["a"]),
        lat.Candidate("base", lambda: None),
        deadline=0.05,
        target=0.001,
        sample=m.sample,
        on_round=m.round_done,
        clock=m.clock,
    )
    r = res["a"]
    assert r.final and not r.converged and r.stop == "deadline"
    assert len(r.samples) >= lat.MIN_SAMPLES  # the minimum is always measured
    assert r.latency.ci_low <= r.latency.median <= r.latency.ci_high
    assert m.t < 0.05 + 0.01  # cut mid-round: at most a visit past the deadline


def test_baseline_in_the_grid_keeps_being_measured_after_it_is_final():
    # base is noise-free (final after 6 rounds); "slow" is noisy and needs the budget
    class M(FakeMachine):
        def sample(self, c):
            v = super().sample(c)
            return self.true[c.key] if c.key == "base" else v

    m = M({"base": 1.0, "slow": 3.0}, noise=0.9, seed=2)
    base = lat.Candidate("base", lambda: None)
    res, b = lat.interleaved(
        [base, lat.Candidate("slow", lambda: None)],
        base,
        target=0.001,
        max_samples=15,
        sample=m.sample,
        on_round=m.round_done,
        clock=m.clock,
    )
    assert res["base"].converged and len(res["base"].samples) == 6
    assert res["base"].ratio.median == 1.0
    assert len(b.samples) == 15 == len(res["slow"].samples)
    assert all("base" in o for o in m.order)


def test_interrupt_keeps_the_finals_already_reported():
    finals = []

    def sample(c):
        sample.calls += 1
        if sample.calls > 40:
            raise KeyboardInterrupt
        return {"fast": 1.0, "base": 2.0}.get(c.key, 5.0 * random.Random(sample.calls).uniform(0.5, 1.5))

    sample.calls = 0
    with pytest.raises(KeyboardInterrupt):
        lat.interleaved(
            cands(["fast", "noisy"]),
            lat.Candidate("base", lambda: None),
            target=0.001,
            sample=sample,
            on_final=lambda r: finals.append(r.key),
        )
    assert finals == ["fast"]


def test_warm_up_sets_number_so_a_sample_spans_the_minimum_time():
    t = {"now": 0.0}

    def clock():
        return t["now"]

    def fn():
        t["now"] += 0.0004  # 0.4 ms per call

    c = lat.Candidate("x", fn)
    per_call = lat.warm_up(c, seconds=0.01, min_sample_s=0.01, clock=clock)
    assert per_call == pytest.approx(0.4)
    assert c.number == 25  # 25 x 0.4 ms = 10 ms
    calls = {"n": 0}

    def counting():
        calls["n"] += 1

    c2 = lat.Candidate("y", counting, number=7)
    ms = lat.visit(c2, clock_ns=iter([0, 7_000_000]).__next__)
    assert calls["n"] == 8 and ms == pytest.approx(1.0)  # 1 untimed + 7 timed, 7 ms / 7 calls
