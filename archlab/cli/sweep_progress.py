"""A rich progress display for `archlab sweep` (stderr): preparation, then rounds with CI and ETA."""

from __future__ import annotations

import math

from archlab.analysis.sweep import Progress


class RichProgress(Progress):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RP, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn)

        self.console = Console(stderr=True)
        self.bar = RP(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                      TextColumn("ETA {task.fields[eta]}"), console=self.console, transient=False)
        self.prep = None
        self.meas = None

    def start(self, todo, kept, budget):
        self.bar.start()
        if kept:
            self.console.print(f"{kept} configurations kept from earlier runs; measuring {todo}", highlight=False)

    def preparing(self, done, total, label):
        if self.prep is None:
            self.prep = self.bar.add_task("prepare", total=total, status="", eta="?")
        self.bar.update(self.prep, completed=done, status=label[:60])

    def measuring(self, total):
        self.meas = self.bar.add_task("measure", total=total, status="round 0", eta="?")

    def round(self, info):
        worst = ("done" if not info.active else "no CI yet" if not math.isfinite(info.worst_halfwidth)
                 else f"widest CI ±{info.worst_halfwidth:.1%}")
        eta = "?" if info.eta_s is None else _dur(info.eta_s)
        self.bar.update(self.meas, completed=info.final, status=f"round {info.round}, {worst}", eta=eta)

    def row(self, row, label):
        if self.meas is not None:
            self.bar.advance(self.meas, 0)

    def done(self):
        self.bar.stop()


def _dur(s: float) -> str:
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}"
