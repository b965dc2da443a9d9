"""The sweep's timing semantics (archlab.studies.sweep): 1 thread by default and why, the budget a hard bound
(preparation and warm-up included: the default MobileFaceNet sweep ends within budget + one round), eager not
checked against itself. A fake clock and fake runtimes: nothing is timed for real."""

import pytest

from archlab.nn import runtimes
from archlab.studies import sweep as sw
from archlab.studies.sweep_grid import THREADS_WHY, make_grid
from archlab.timing import rounds as lat


class FakeTime:
    """A fake machine: every inference costs ``per_call`` seconds of fake time; samples are noisy, so no
    configuration converges and the sweep runs to its deadline."""

    def __init__(self, per_call=0.011):
        self.t, self.per_call, self.n = 0.0, per_call, 0
        self.round_ends: list[float] = []

    def clock(self):
        return self.t

    def fn(self):
        self.t += self.per_call

    def sample(self, c):
        self.t += (1 + max(1, c.number)) * self.per_call
        self.n += 1
        noise = 1 + 0.5 * ((self.n * 7919) % 101) / 100
        return lat.Timing(10.0 * noise, 9.0 * noise if c.clock == "cpu" else None)

    def prepare(self, runtime, plan_key, plan, *, batch, threads, channels_last):
        return runtimes.Prepared(runtime, self.fn, None, 0.0, 0.0, "fake")


@pytest.fixture
def fake(monkeypatch):
    f = FakeTime()
    monkeypatch.setattr(runtimes.Workshop, "prepare", f.prepare)
    real = lat.interleaved

    def interleaved(*args, **kw):
        kw["sample"] = f.sample
        on_round = kw.get("on_round")

        def rounds(info):
            f.round_ends.append(f.t)
            if on_round is not None:
                on_round(info)

        kw["on_round"] = rounds
        return real(*args, **kw)

    monkeypatch.setattr(sw.lat, "interleaved", interleaved)
    return f


def test_default_grid_is_one_thread_and_says_why():
    opts = sw.SweepOptions("mobilefacenet")
    grid = make_grid(opts)
    assert len(grid.configs) == 18 and {c.threads for c in grid.configs} == {1}
    assert "1 thread" in THREADS_WHY and "CPU clock" in THREADS_WHY


def test_default_mobilefacenet_sweep_ends_within_its_budget_plus_one_round(fake):
    opts = sw.SweepOptions("mobilefacenet", seed=0)
    res = sw.run_sweep(opts, clock=fake.clock)
    rounds = [b - a for a, b in zip([0.0, *fake.round_ends], fake.round_ends)]
    assert res.status == "complete" and len(res.measured) == 18
    assert fake.t > opts.budget  # it used the budget (nothing converged) ...
    assert fake.t <= opts.budget + max(rounds)  # ... and ended within budget + one round
    assert THREADS_WHY in res.notes
    assert any("did not reach" in n for n in res.notes)
    clocks = next(iter(res.clocks.values()))
    assert clocks["clock"] == "cpu" and clocks["wall"]["median_ms"] > clocks["cpu"]["median_ms"]


def test_the_warm_up_counts_against_the_budget(fake):
    # 18 warm-ups of 0.3 s of fake time cannot all fit a 2 s budget: preparation stops, the rest is left
    opts = sw.SweepOptions("mobilefacenet", budget=2.0, seed=0)
    res = sw.run_sweep(opts, clock=fake.clock)
    assert 0 < len(res.measured) < 18
    assert any("not measured" in n for n in res.notes)
    assert fake.t <= opts.budget + 0.3 + 1.0 + max(b - a for a, b in zip([0.0, *fake.round_ends], fake.round_ends))


def test_a_resumed_sweep_whose_budget_goes_to_preparing_times_nothing_and_says_so(fake, monkeypatch, tmp_path):
    out = tmp_path / "s.csv"
    grid = {"widths": (1.0,), "stems": ("2",), "inputs": ("112x112",), "seed": 0}
    first = sw.run_sweep(sw.SweepOptions("mobilefacenet", budget=3.0, **grid), out=out, clock=fake.clock)
    assert len(first.measured) == 1  # the baseline, kept for the next run

    def slow_prepare(self, *args, **kw):  # building a network takes 3.5 s of fake time
        fake.t += 3.5
        return fake.prepare(*args, **kw)

    monkeypatch.setattr(runtimes.Workshop, "prepare", slow_prepare)
    more = {**grid, "widths": (0.5, 1.0)}  # one new configuration; the baseline's preparation outlasts the budget
    res = sw.run_sweep(sw.SweepOptions("mobilefacenet", budget=3.0, **more), out=out, clock=fake.clock)
    assert res.status == "complete" and res.measured == [] and not res.baseline
    assert any("nothing was timed" in n and "of the 3 s" in n and "larger --budget" in n for n in res.notes)


def test_eager_is_the_reference_and_is_not_run_to_check_itself(write_table):
    import archlab

    plan = archlab.plan(
        write_table("""
        name: t
        input: [8, 8]
        defaults: {norm: bn, act: relu}
        rows:
          - {type: conv, c: 4, k: 3, s: 2}
        """)
    )
    ws = runtimes.Workshop(seed=0)
    m = ws.module("k", plan, False)
    calls = []
    m.register_forward_pre_hook(lambda *a: calls.append(1))
    prep = ws.prepare("eager", "k", plan, batch=1, threads=1, channels_last=False)
    assert calls == [] and prep.max_abs_diff == 0.0 and prep.check_ok and prep.note == "the reference"
