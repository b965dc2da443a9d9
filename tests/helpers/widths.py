"""A table on a terminal of a given width: every number of every shown column whole (render/tables.py's rule)."""

from __future__ import annotations

import io
import re

from archlab.render.tables import Table, fit, print_rich


def rich_text(table: Table, width: int) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_rich(table, Console(file=buf, width=width, force_terminal=True, color_system=None))
    return buf.getvalue()


def assert_numbers_whole(table: Table, width: int) -> None:
    """Every cell of every shown column appears whole at ``width`` (numbers never wrap or lose digits), no line
    is wider than ``width`` and nothing ends in an ellipsis."""
    text = rich_text(table, width)
    assert max(len(line) for line in text.splitlines()) <= width and "…" not in text
    body = " ".join(text.split())
    layout = fit(table, width)
    shown = {i for part in layout.parts for i in part}
    for row in table.texts():
        for i, cell in enumerate(row):
            for piece in cell.split() if i in shown else ():
                found = re.search(rf"(?<![\w,.]){re.escape(piece)}(?![\w,.])", body)
                assert found or not piece[-1:].isalnum(), f"{table.title}: {table.columns[i]} {piece!r} cut at {width}"
