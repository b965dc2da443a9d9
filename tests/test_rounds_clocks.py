"""The timing method's clocks and its hard deadline (archlab.timing.rounds), with fake samples and a fake clock."""

import random

import pytest

from archlab.timing import rounds as lat


class Machine:
    """Each visit takes ``visit_s`` of fake time; samples are (wall, cpu): wall noisy (other jobs), cpu steady."""

    def __init__(self, visit_s=0.1, wall_noise=0.5, seed=0):
        self.t, self.visit_s, self.rng, self.noise = 0.0, visit_s, random.Random(seed), wall_noise
        self.visits = 0

    def sample(self, c):
        self.t += self.visit_s
        self.visits += 1
        cpu = 10.0 * (1 + 0.001 * self.rng.uniform(-1, 1))
        wall = cpu * (1 + self.noise * self.rng.random())
        return lat.Timing(wall, cpu if c.clock == "cpu" else None)

    def clock(self):
        return self.t


def test_clock_for_threads():
    assert lat.clock_for(1) == "cpu" and lat.clock_for(2) == "wall" and lat.clock_for(8) == "wall"


def test_cpu_candidates_read_the_cpu_clock_and_keep_the_wall_clock_beside_it():
    m = Machine()
    cs = [lat.Candidate("a", lambda: None, clock="cpu")]
    base = lat.Candidate("base", lambda: None, clock="cpu")
    res, b = lat.interleaved(cs, base, target=0.01, sample=m.sample, clock=m.clock, rng=random.Random(0))
    r = res["a"]
    assert r.clock == "cpu" and r.samples == r.cpu and len(r.wall) == len(r.cpu)
    assert r.converged and r.steadier == "cpu" and len(r.samples) == 6  # the steady clock converges at once
    assert r.wall_latency.rel_halfwidth > 0.01  # while the wall clock alone would not have
    assert r.cpu_latency.median == pytest.approx(10.0, rel=1e-3)


def test_wall_candidates_have_no_cpu_samples():
    m = Machine(wall_noise=0.0)
    res, _ = lat.interleaved(
        [lat.Candidate("a", lambda: None)], lat.Candidate("base", lambda: None), sample=m.sample, clock=m.clock
    )
    r = res["a"]
    assert r.cpu == [] and r.cpu_latency is None and r.steadier == "wall" and r.samples == r.wall


def test_the_deadline_is_hard_even_before_the_minimum_of_samples():
    m = Machine(visit_s=1.0, wall_noise=0.9)
    keys = [f"c{i}" for i in range(5)]
    cs = [lat.Candidate(k, lambda: None) for k in keys]
    base = lat.Candidate("base", lambda: None)
    per_round = 6 * 1.0  # 5 candidates + the baseline
    res, b = lat.interleaved(cs, base, deadline=10.0, target=1e-6, sample=m.sample, clock=m.clock)
    assert m.t <= 10.0 + per_round  # within the budget + one round
    assert all(r.final and r.stop == "deadline" and not r.converged for r in res.values())
    assert all(len(r.samples) == 2 < lat.MIN_SAMPLES for r in res.values())  # stopped below the old minimum
    assert len(b.samples) == 2


def test_deadline_already_past_still_measures_one_round():
    m = Machine(visit_s=1.0)
    res, b = lat.interleaved(
        [lat.Candidate("a", lambda: None)], lat.Candidate("base", lambda: None), deadline=-1.0,
        sample=m.sample, clock=m.clock,
    )  # fmt: skip
    assert len(res["a"].samples) == 1 and res["a"].stop == "deadline" and res["a"].latency.ci_low is None


def test_warm_up_sets_at_least_three_calls_and_ten_ms():
    t = {"now": 0.0}

    def fn():
        t["now"] += 0.011  # 11 ms per call, like MobileFaceNet: one call would be 10 ms

    c = lat.Candidate("x", fn)
    lat.warm_up(c, seconds=0.05, clock=lambda: t["now"])
    assert c.number == 3  # not 1: one timed call keeps 2-3% of the first-call penalty
    c1 = lat.Candidate("z", lambda: t.__setitem__("now", t["now"] + 0.0004))
    lat.warm_up(c1, seconds=0.05, clock=lambda: t["now"])
    assert c1.number == 25  # 10 ms of 0.4 ms calls
    c2 = lat.Candidate("y", lambda: t.__setitem__("now", t["now"] + 0.1))
    lat.warm_up(c2, seconds=0.05, clock=lambda: t["now"])
    assert c2.number == lat.MIN_NUMBER


def test_visit_clocks_reads_both_clocks_around_the_timed_calls_only():
    calls = {"n": 0}

    def fn():
        calls["n"] += 1

    c = lat.Candidate("x", fn, number=4, clock="cpu")
    wall = iter([0, 8_000_000]).__next__
    cpu = iter([1_000_000, 5_000_000]).__next__
    t = lat.visit_clocks(c, wall_ns=wall, cpu_ns=cpu)
    assert calls["n"] == 5  # 1 untimed + 4 timed
    assert t.wall == pytest.approx(2.0) and t.cpu == pytest.approx(1.0)
    assert lat.visit_clocks(lat.Candidate("w", fn, number=2), wall_ns=iter([0, 2_000_000]).__next__).cpu is None


def test_the_clock_can_be_chosen_but_cpu_only_at_one_thread():
    from archlab.errors import OptionError

    assert (
        lat.clock_for(1, "wall") == "wall" and lat.clock_for(1, "cpu") == "cpu" and lat.clock_for(4, "auto") == "wall"
    )
    with pytest.raises(OptionError, match="1 thread"):
        lat.clock_for(2, "cpu")
    with pytest.raises(OptionError, match="--clock"):
        lat.clock_for(1, "tsc")


def test_sweep_refuses_the_cpu_clock_at_two_threads():
    from archlab.errors import OptionError
    from archlab.studies.sweep_grid import SweepOptions, make_grid

    with pytest.raises(OptionError, match="--clock cpu needs 1 thread"):
        make_grid(SweepOptions("mobilefacenet", threads=(1, 2), clock="cpu"))
    assert {c.threads for c in make_grid(SweepOptions("mobilefacenet", threads=(1, 2))).configs} == {1, 2}
