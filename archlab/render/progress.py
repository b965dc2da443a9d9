"""Progress of long commands on stderr: a rich bar (stage, count, elapsed, ETA) on a terminal, else nothing.

A study calls ``progress(done, total, what)`` after every step; :func:`progress_bar` returns such a callback
and a ``stop()`` to call when the work ends (also on errors).
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def progress_bar(name: str) -> tuple[Callable[[int, int, str], None] | None, Callable[[], None]]:
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn(f"[bold]{name}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("", total=None)
    bar.start()

    def update(done: int, total: int, what: str) -> None:
        bar.update(task, completed=done, total=total, description=what)

    return update, bar.stop
