"""The learned part of ``archlab report``: the head study of :mod:`archlab.studies.heads` (trained here, or
read back from an ``archlab heads --out`` folder) and the ERF of its trained GDConv network against random
weights (:func:`archlab.studies.rf.rf_study` with ``weights=``).

It applies to face tables (input 3x112x112, one output, a head): the faces are drawn at 112x112.
"""

from __future__ import annotations

from collections.abc import Callable

from archlab.errors import ArchlabError
from archlab.ir.plan import Plan
from archlab.ir.structure import head_row
from archlab.static.erf_records import RFStudy

QUICK_ERF: dict = {"samples": 3, "units": "key"}  # the trained-vs-random unit grid of the report
FULL_ERF: dict = {"samples": 8, "units": "all"}


def applies(plan: Plan) -> str | None:
    """None when the learned study fits the table, else why not."""
    if head_row(plan) is None:
        return "the table has no head"
    if len(plan.outputs) > 1:
        return f"the table has {len(plan.outputs)} outputs"
    if tuple(plan.input) != (3, 112, 112):
        return f"the faces are drawn at 3x112x112, the table's input is {'x'.join(map(str, plan.input))}"
    return None


def _staged(say: Callable) -> Callable[[int, int, str], None]:
    """The heads study's steps as the report's ``learned heads`` stage."""

    def progress(done: int, total: int, what: str) -> None:
        say(done, total, f"learned heads: {what}")

    return progress


def learned_study(net: str, plan: Plan, *, quick: bool, heads_from, seed: int, notes: dict, say: Callable):
    """(HeadsStudy or None, RFStudy of the trained GDConv network or None, where the study came from)."""
    from archlab.studies.heads import read_heads_study, run_heads_study
    from archlab.studies.heads.config import QUICK

    why = applies(plan)
    if why is not None and heads_from is None:
        notes["learned"] = [f"learned head study not run: {why}"]
        return None, None, ""
    if heads_from is not None:
        say(0, 1, f"learned heads: reading {heads_from}")
        study = read_heads_study(heads_from)
        source = f"read from `{heads_from}` (archlab heads --out)"
    else:
        settings: dict = dict(QUICK) if quick else {"steps": 600, "seeds": 3}
        say(0, 1, f"learned heads: training {settings['seeds']} seed(s) x 3 heads x {settings['steps']} steps")
        study = run_heads_study(net, width=0.125, progress=_staged(say), **settings)
        study.quick = quick
        source = "trained for this report" + (" with --quick" if quick else "")
    return study, _trained_erf(study, quick, seed, notes, say), source


def _trained_erf(study, quick: bool, seed: int, notes: dict, say: Callable) -> RFStudy | None:
    """The unit grid and heads of the first seed's trained GDConv network, trained and random weights."""
    from archlab.studies.heads import load_run_state_dict
    from archlab.studies.rf import rf_study

    if "gdconv" not in study.heads:
        return None
    first = min(study.seeds)
    settings = QUICK_ERF if quick else FULL_ERF
    say(0, 1, f"learned heads: ERF of the trained GDConv network (seed {first}), trained vs random weights")
    try:
        state = load_run_state_dict(study, first, "gdconv")
        return rf_study(
            study.config["net"],
            width=study.config["width"],
            head="gdconv",
            weights=state,
            heads=("gdconv",),
            seed=seed,
            **settings,
        )
    except ArchlabError as e:
        notes.setdefault("learned", []).append(f"ERF of the trained network skipped: {e}")
        return None
