"""timing/progress.py Stage: steps finished in worker threads are counted and reported in order (``done`` never
decreases, never passes the total); within() keeps an inner operation's stages apart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from archlab.timing.progress import Stage, within
from tests.helpers.progress import StageRecorder


def test_steps_from_threads_never_go_back():
    rec = StageRecorder()
    stage = Stage(rec, "heads", 400).start("gdconv, gap, fc")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: stage.step(f"step {i}"), range(400)))
    assert [c[0] for c in rec.calls] == list(range(401))
    stage.step("one too many")
    assert rec.calls[-1][:2] == (400, 400)


def test_within_names_inner_stages_apart():
    rec = StageRecorder()
    inner = within(rec, "receptive fields")
    inner(0, 4, "setup: the plan")
    inner(4, 4, "setup: done")
    inner(0, 9, "units: 9 unit(s)")
    inner(1, 2, "no stage of its own")
    assert rec.stages == ["receptive fields, setup", "receptive fields, units", "receptive fields"]
    assert rec.calls[-1] == (1, 2, "receptive fields: no stage of its own")
