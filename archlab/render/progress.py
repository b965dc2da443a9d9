"""Progress of long commands on stderr, for the protocol ``progress(done, total, what)`` of
:mod:`archlab.timing.progress` (``what`` = ``"stage: detail"``, ``done``/``total`` within the stage).

* on a terminal: a rich display, one bar per stage (its name, the bar, done/total, elapsed, ETA, the detail);
  a finished stage stays on screen, ticked;
* piped (not a terminal): one line per stage when it starts (``report: latency rounds (60 steps)``) and one
  when the command's work ends (``report: done in 73.4 s``); nothing when the work fails before its first step.

:func:`progress_bar` returns the callback and a ``stop()`` to call when the work ends (also on errors).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from archlab.timing.progress import Progress, StepText


class RichStages:
    """One rich task per stage."""

    def __init__(self, name: str, console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress
        from rich.table import Column

        self.name = name
        self.bar = RichProgress(
            TextColumn(
                "[bold]{task.fields[stage]}[/]", table_column=Column(no_wrap=True, overflow="ellipsis", max_width=36)
            ),
            BarColumn(bar_width=16),
            MofNCompleteColumn(table_column=Column(no_wrap=True, min_width=7)),
            TimeElapsedColumn(table_column=Column(no_wrap=True, min_width=7)),
            TextColumn("ETA", table_column=Column(no_wrap=True)),
            TimeRemainingColumn(table_column=Column(no_wrap=True, min_width=7)),
            TextColumn(
                "{task.description}", markup=False, table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")
            ),
            console=console,
            transient=False,
            expand=True,
        )
        self.tasks: dict[str, object] = {}
        self.totals: dict[str, int] = {}
        self.current: str | None = None
        self.started = False

    def __call__(self, done: int, total: int, what: str) -> None:
        step = StepText.parse(what)
        stage, detail = step.stage or self.name, step.detail
        if not self.started:
            self.bar.start()
            self.started = True
        if stage != self.current:
            self._finish_current()
            self.tasks[stage] = self.bar.add_task(detail, total=max(total, 1), stage=f"{self.name}: {stage}")
            self.current = stage
        self.totals[stage] = max(total, 1)
        self.bar.update(self.tasks[stage], completed=done, total=max(total, 1), description=detail)  # type: ignore[arg-type]

    def _finish_current(self) -> None:
        if self.current is not None:
            self.bar.update(self.tasks[self.current], completed=self.totals[self.current])  # type: ignore[arg-type]

    def stop(self, ok: bool = True) -> None:
        """End the display; ``ok=False`` (the work raised) leaves the stage where it was."""
        if self.started:
            if ok:
                self._finish_current()
            self.bar.stop()


class LineStages:
    """Without a terminal: a line when a stage starts and one when the work ends."""

    def __init__(self, name: str, stream=None) -> None:
        self.name = name
        self.stream = stream
        self.current: str | None = None
        self.t0 = time.monotonic()
        self.said = False

    def _say(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)
        self.said = True

    def __call__(self, done: int, total: int, what: str) -> None:
        step = StepText.parse(what)
        stage, detail = step.stage or self.name, step.detail
        if stage != self.current:
            self.current = stage
            where = self.name if stage == self.name else f"{self.name}: {stage}"
            self._say(f"{where} ({total} step{'s' if total != 1 else ''}){': ' + detail if detail else ''}")

    def stop(self, ok: bool = True) -> None:
        """The closing line, only when the work finished (``ok``): a failure's own line says what happened."""
        if self.said and ok:
            self._say(f"{self.name}: done in {time.monotonic() - self.t0:.1f} s")


def progress_bar(name: str, *, quiet: bool = False, stream=None) -> tuple[Progress | None, Callable[..., None]]:
    """The display for stderr (or ``stream``): rich on a terminal, one line per stage otherwise, none with
    ``quiet``. Returns (the callback, ``stop(ok=True)``; ``ok=False`` when the work raised)."""
    if quiet:
        return None, lambda ok=True: None
    out = stream or sys.stderr
    if out.isatty():
        from rich.console import Console

        display: RichStages | LineStages = RichStages(name, Console(file=out))
    else:
        display = LineStages(name, stream)
    return display, display.stop
