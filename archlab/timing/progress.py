"""The progress protocol of long operations: ``progress(done, total, what)``.

* ``what`` is ``"stage: detail"`` (``"latency: build mobilefacenet:width=0.5"``) or just a detail, which then
  belongs to the operation's one stage;
* ``done`` and ``total`` count the steps of that stage (a stage that runs against a time budget counts seconds);
  an operation calls ``progress(0, total, what)`` when a stage starts and ``progress(done, total, what)`` after
  each step.

Displays: :func:`archlab.render.progress.progress_bar` (a rich bar per stage with its ETA on a terminal, one line
per stage when piped). Helpers here adapt other callbacks to the protocol; torch-free, no display.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Progress = Callable[[int, int, str], Any]


@dataclass(frozen=True)
class StepText:
    """A progress ``what`` read: ``"latency: round 3"`` -> stage ``latency``, detail ``round 3``; a text without
    ``": "`` is a detail only (stage None: the operation's one stage)."""

    stage: str | None
    detail: str

    @classmethod
    def parse(cls, what: str) -> StepText:
        stage, sep, detail = what.partition(": ")
        return cls(stage, detail) if sep else cls(None, what)


def stage_of(what: str) -> tuple[str | None, str]:
    step = StepText.parse(what)
    return step.stage, step.detail


def as_progress(callback: Callable | None) -> Progress | None:
    """The protocol's callback for ``callback``: itself when it takes (done, total, what); a one-argument
    callback (a message, the older form) gets one message per stage, when the stage starts."""
    if callback is None:
        return None
    try:
        params = [
            p
            for p in inspect.signature(callback).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):  # a builtin without a signature: assume the protocol
        return callback
    if len(params) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params):
        return callback
    seen: set[str] = set()

    def per_stage(done: int, total: int, what: str) -> None:
        stage = stage_of(what)[0] or what
        if stage not in seen:
            seen.add(stage)
            callback(what)

    return per_stage


def within(progress: Progress | None, stage: str) -> Progress | None:
    """A callback that reports another operation's steps as ``stage: <its what>``; its own stages become stages
    ``stage, <its stage>`` (each keeps its own count, so ``done`` never falls back within a stage)."""
    if progress is None:
        return None

    def inner(done: int, total: int, what: str) -> None:
        step = StepText.parse(what)
        name = stage if step.stage is None else f"{stage}, {step.stage}"
        progress(done, total, f"{name}: {step.detail}")

    return inner


class Stage:
    """One stage of an operation, reported by the protocol: :meth:`start` says ``(0, total)`` and what runs
    first, :meth:`step` one more step done and what runs (or ran) now. Steps may finish in worker threads: they
    are counted and reported under a lock, so ``done`` never decreases and never passes ``total``."""

    def __init__(self, progress: Progress | None, name: str, total: int) -> None:
        import threading

        self.progress, self.name, self.total = progress, name, max(1, total)
        self.done = 0
        self._lock = threading.Lock()

    def start(self, detail: str) -> Stage:
        if self.progress is not None:
            self.progress(0, self.total, f"{self.name}: {detail}")
        return self

    def step(self, detail: str) -> None:
        with self._lock:
            self.done = min(self.total, self.done + 1)
            if self.progress is not None:
                self.progress(self.done, self.total, f"{self.name}: {detail}")


def rounds_progress(progress: Progress | None, stage: str, budget_s: float) -> Callable | None:
    """An ``on_round`` callback of :func:`archlab.timing.rounds.interleaved` that reports seconds of the budget
    used, the round, how many candidates are final and the widest CI still open."""
    if progress is None:
        return None
    total = max(1, math.ceil(budget_s))

    def on_round(info) -> None:
        if not info.active:
            ci = "done"
        elif not math.isfinite(info.worst_halfwidth):
            ci = "no CI yet"
        else:
            ci = f"widest CI ±{info.worst_halfwidth:.1%}"
        done = total if not info.active else min(total, int(info.elapsed_s))
        progress(done, total, f"{stage}: round {info.round}, {info.final}/{info.total} final, {ci}")

    return on_round
