"""Progress of long operations: the protocol progress(done, total, what) with "stage: detail" texts, its two
displays (render/progress.py: a rich bar per stage on a terminal, one line per stage when piped), the adapter for
one-argument callbacks, and the stages the long operations report (cross-check, latency, export, compare and
report latency: one step per configuration, named by its label)."""

from __future__ import annotations

import io
import re

import pytest

import archlab
from archlab.render.progress import LineStages, RichStages, progress_bar
from archlab.timing.progress import StepText, as_progress, within

TINY = """
name: tiny
input: [16, 16]
defaults: {norm: bn, act: relu, round: int}
rows:
  - {type: conv, c: 8, k: 3, s: 2}
  - {type: conv, c: 8, k: 1}
head: {pool: gap, classifier: {classes: 4}}
"""


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int, str]] = []

    def __call__(self, done: int, total: int, what: str) -> None:
        assert 0 <= done <= total, (done, total, what)
        self.calls.append((done, total, what))

    @property
    def stages(self) -> list[str]:
        return list(dict.fromkeys(StepText.parse(w).stage or "" for _, _, w in self.calls))


def test_step_text():
    assert StepText.parse("latency: round 3: ok") == StepText("latency", "round 3: ok")
    assert StepText.parse("unit 0,0 sample 1") == StepText(None, "unit 0,0 sample 1")


def test_lines_when_piped_one_per_stage():
    out = io.StringIO()
    show = LineStages("report", out)
    for i in range(3):
        show(i, 3, f"build and warm up: config {i}")
    for s in range(0, 61, 10):
        show(s, 60, f"interleaved rounds: round {s}")
    show.stop()
    lines = out.getvalue().splitlines()
    assert lines[0] == "report: build and warm up (3 steps): config 0"
    assert lines[1] == "report: interleaved rounds (60 steps): round 0"
    assert re.fullmatch(r"report: done in \d+\.\d s", lines[2]) and len(lines) == 3


def test_nothing_printed_when_the_work_fails_before_its_first_step():
    out = io.StringIO()
    _, stop = progress_bar("rf", stream=out)
    stop()
    assert out.getvalue() == ""


def test_a_failed_run_says_no_done():
    out = io.StringIO()
    show = LineStages("export", out)
    show(0, 3, "export: build tiny")
    show.stop(ok=False)
    assert out.getvalue().splitlines() == ["export (3 steps): build tiny"]


def test_the_cli_display_stops_without_done_when_the_command_raises(capsys):
    from archlab.cli.common import progress_display

    try:
        with progress_display("export") as say:
            say(0, 2, "export: build tiny")
            raise ValueError("boom")
    except ValueError:
        pass
    err = capsys.readouterr().err
    assert "build tiny" in err and "done" not in err


def test_rich_bar_per_stage_with_eta():
    from rich.console import Console

    buf = io.StringIO()
    show = RichStages("report", Console(file=buf, force_terminal=True, width=120, color_system=None))
    show(0, 4, "build and warm up: mobilefacenet:width=0.5,stem_stride=2")
    show(2, 4, "build and warm up: mobilefacenet:width=1,stem_stride=2")
    show(5, 60, "interleaved rounds: round 3, 0/8 final, widest CI ±9.0%")
    show.stop()
    text = buf.getvalue()
    assert "report: build and warm up" in text and "report: interleaved rounds" in text
    assert "4/4" in text and "ETA" in text and "widest CI" in text


def test_a_one_argument_callback_gets_one_message_per_stage():
    said: list[str] = []
    cb = as_progress(lambda msg: said.append(msg))
    for i in range(3):
        cb(i, 3, f"build and warm up: {i}")
    cb(0, 10, "interleaved rounds: round 1")
    cb(5, 10, "interleaved rounds: round 2")
    assert said == ["build and warm up: 0", "interleaved rounds: round 1"]
    rec = Recorder()
    assert as_progress(rec) is rec
    within(rec, "receptive fields")(1, 2, "unit 0,0 sample 1")
    assert rec.calls == [(1, 2, "receptive fields: unit 0,0 sample 1")]


@pytest.mark.slow
def test_compare_latency_names_every_configuration(write_table, single_threaded_torch):
    from archlab.studies.compare import time_plans

    path = write_table(TINY)
    plans = [archlab.plan(path, width=w) for w in (0.5, 1.0, 2.0)]
    labels = ["tiny:width=0.5", "tiny:width=1", "tiny:width=2"]
    rec = Recorder()
    time_plans(plans, budget=0.3, warmup=0.01, labels=labels, progress=rec)
    built = [w for _, _, w in rec.calls if w.startswith("build and warm up: tiny")]
    assert built == [f"build and warm up: {label}" for label in labels]  # each named, not 'tiny' three times
    assert rec.stages == ["build and warm up", "interleaved rounds"]
    assert rec.calls[-1][0] == rec.calls[-1][1]  # the rounds end at their total


@pytest.mark.slow
def test_crosscheck_latency_and_export_report_their_stages(write_table, single_threaded_torch, tmp_path):
    from archlab.nn.export import export
    from archlab.nn.layer_latency import measure
    from archlab.nn.tools import crosscheck

    plan = archlab.plan(write_table(TINY))
    rec = Recorder()
    crosscheck(plan, progress=rec)
    assert rec.stages == ["cross-check"] and rec.calls[-1][:2] == (5, 5)
    assert any("thop" in w for _, _, w in rec.calls)
    rec = Recorder()
    measure(plan, budget_s=0.3, warmup_s=0.01, min_samples=6, progress=rec)
    assert rec.stages == ["build", "warm-up", "rounds"]
    rec = Recorder()
    export(plan, torchscript=tmp_path / "m.pt", fold_bn=True, progress=rec)
    assert rec.stages == ["export"] and rec.calls[-1] == (3, 3, "export: done")
    assert [w for _, _, w in rec.calls][2] == "export: TorchScript trace"
