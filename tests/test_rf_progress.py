"""studies/rf.py's progress: once the inputs are read and checked (bad input fails before any progress), the
setup before the first unit (the inputs, the measuring network) is a stage of its own, then the units (per
sample its network and forward pass, then each unit; with trained weights again with random weights) and the
heads; stages come in order, each once, and within a stage ``done`` starts at 0, never decreases and ends at
its total (timing/progress.py's protocol; a report nests them as ``receptive fields, <stage>``)."""

from __future__ import annotations

import io

import pytest

import archlab
from archlab.render.progress import LineStages
from archlab.studies.rf import SETUP_STEPS, rf_study
from archlab.timing.progress import StepText, within
from tests.helpers.progress import StageRecorder

pytestmark = pytest.mark.usefixtures("single_threaded_torch")
KEY_UNITS = 9  # the tiny table's FMap-end is 4x4: rows and columns {0, 2, 3}


def assert_whole_stages(rec: StageRecorder) -> None:
    """Each stage runs once, from 0 to its total."""
    order = [StepText.parse(w).stage for _, _, w in rec.calls]
    runs = [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s]
    assert runs == rec.stages  # no stage comes back after another began
    for stage in rec.stages:
        calls = rec.of(stage)
        assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1], (stage, calls[0], calls[-1])


def test_setup_units_heads_in_order(tiny_table):
    rec = StageRecorder()
    rf_study(tiny_table(), samples=2, units="key", heads=("gdconv", "gap"), progress=rec)
    assert rec.stages == ["setup", "units", "heads"]
    assert_whole_stages(rec)
    setup = rec.of("setup")
    assert [c[:2] for c in setup] == [(k, SETUP_STEPS) for k in range(SETUP_STEPS + 1)]
    assert [w for _, _, w in setup] == ["setup: 2 input(s): faces", "setup: the network up to FMap-end", "setup: done"]
    units = rec.of("units")
    assert units[0][:2] == (0, (KEY_UNITS + 1) * 2) and len(units) == (KEY_UNITS + 1) * 2 + 1
    assert units[1][2] == "units: sample 1: network and forward pass" and units[2][2] == "units: unit 0,0 sample 1"
    assert units[KEY_UNITS + 2][2] == "units: sample 2: network and forward pass"
    heads = rec.of("heads")
    assert heads[0] == (0, 4, "heads: gdconv, gap") and heads[-1][:2] == (4, 4)
    assert {w for _, _, w in heads[1:]} == {f"heads: {h} sample {n}" for h in ("gdconv", "gap") for n in (1, 2)}


def test_trained_weights_add_the_random_weight_grid_as_a_stage(tiny_table):
    path = tiny_table()
    rec = StageRecorder()
    state = archlab.build(path).state_dict()
    rf_study(path, samples=1, units=[(0, 0)], heads=("gdconv",), weights=state, method="canvas", progress=rec)
    assert rec.stages == ["setup", "units", "units, random weights", "heads"]
    assert_whole_stages(rec)
    assert rec.of("setup")[1][2] == "setup: the measuring canvas"


def test_a_report_nests_the_stages(tiny_table):
    rec = StageRecorder()
    rf_study(tiny_table(), samples=1, units=[(0, 0)], heads=("gap",), progress=within(rec, "receptive fields"))
    assert rec.stages == ["receptive fields, setup", "receptive fields, units", "receptive fields, heads"]
    assert_whole_stages(rec)


def test_the_display_says_setup_first(tiny_table):
    out = io.StringIO()
    show = LineStages("rf", out)
    rf_study(tiny_table(), samples=1, units=[(0, 0)], heads=(), progress=show)
    lines = out.getvalue().splitlines()
    assert lines == [
        "rf: setup (2 steps): 1 input(s): faces",
        "rf: units (2 steps): 1 unit(s) x 1 sample(s); now sample 1's network and forward pass",
    ]


@pytest.mark.parametrize("bad", [{"image": "missing.png"}, {"weights": "missing.pt"}, {"fmap_end": "nope"}])
def test_bad_input_fails_before_any_progress(tiny_table, bad):
    from archlab.errors import ArchlabError

    rec = StageRecorder()
    with pytest.raises(ArchlabError):
        rf_study(tiny_table(), samples=1, units=[(0, 0)], heads=(), progress=rec, **bad)
    assert rec.calls == []  # the display prints nothing: the error is the one line
