"""Progress displays of ``archlab sweep`` (stderr): a rich one on a terminal (preparation, then rounds with the
widest CI and an ETA), one line per finished configuration otherwise. Both follow the callbacks of
:class:`archlab.studies.sweep.Progress`."""

from __future__ import annotations

import math
import sys
from typing import Any

from archlab.render.text import ms_value


class RichProgress:
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RP

        self.console = Console(stderr=True)
        self.bar = RP(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            console=self.console,
            transient=False,
        )
        self.prep: Any = None  # rich TaskIDs once the tasks exist
        self.meas: Any = None

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
        worst = (
            "done"
            if not info.active
            else "no CI yet"
            if not math.isfinite(info.worst_halfwidth)
            else f"widest CI ±{info.worst_halfwidth:.1%}"
        )
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


class LineProgress:
    """Without a terminal: one line per finished configuration on stderr."""

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def start(self, todo, kept, budget):
        self.total = todo
        _say(f"sweep: {todo} configurations to measure, {kept} kept, budget {budget:g} s")

    def preparing(self, done, total, label):
        pass

    def measuring(self, total):
        pass

    def round(self, info):
        pass

    def row(self, row, label):
        self.count += 1
        lo, hi = (float(row[c]) if row[c] else float("nan") for c in ("ci_low_ms", "ci_high_ms"))
        _say(
            f"sweep: [{self.count}/{self.total}] {label}: {ms_value(float(row['median_ms']))} ms "
            f"(95% CI {ms_value(lo)}–{ms_value(hi)}, n {row['n']})"
        )

    def done(self):
        pass


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def sweep_progress(quiet: bool):
    """The display for this stderr: None (quiet), rich on a terminal, one line per row otherwise."""
    if quiet:
        return None
    return RichProgress() if sys.stderr.isatty() else LineProgress()
