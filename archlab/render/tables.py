"""A neutral table record and its renderings: rich (terminal), plain text, Markdown, CSV.

Commands build a :class:`Table` (and optional note lines) from analysis records; the renderers here
decide how it looks. Nothing in this module imports rich unless a terminal table is asked for.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

FORMATS = ("table", "json", "csv", "md")


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    numeric: set[str] = field(default_factory=set)  # right-aligned, thousands separators in text forms
    notes: list[str] = field(default_factory=list)  # lines printed after the table

    def cell(self, col: str, value) -> str:
        if value is None:
            return ""
        if col in self.numeric and isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


def shape_str(shape) -> str:
    return "x".join(str(v) for v in shape)


def to_plain(table: Table) -> str:
    cells = [[table.cell(c, v) for c, v in zip(table.columns, row)] for row in table.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(table.columns)]

    def line(values):
        out = []
        for i, (c, v) in enumerate(zip(table.columns, values)):
            out.append(v.rjust(widths[i]) if c in table.numeric else v.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = [table.title, line(table.columns), line(["-" * w for w in widths])]
    lines += [line(r) for r in cells]
    lines += table.notes
    return "\n".join(lines) + "\n"


def to_markdown(table: Table, level: int = 2) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    head = "| " + " | ".join(esc(c) for c in table.columns) + " |"
    align = "| " + " | ".join("---:" if c in table.numeric else "---" for c in table.columns) + " |"
    body = ["| " + " | ".join(esc(table.cell(c, v)) for c, v in zip(table.columns, row)) + " |" for row in table.rows]
    notes = [f"- {n}" for n in table.notes]
    parts = [f"{'#' * level} {table.title}", "", head, align, *body]
    if notes:
        parts += ["", *notes]
    return "\n".join(parts) + "\n"


def to_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def print_rich(table: Table, console) -> None:
    from rich.table import Table as RichTable

    t = RichTable(title=table.title, title_justify="left", header_style="bold")
    for c in table.columns:
        t.add_column(c, justify="right" if c in table.numeric else "left")
    for row in table.rows:
        t.add_row(*(table.cell(c, v) for c, v in zip(table.columns, row)))
    console.print(t)
    for note in table.notes:
        console.print(note, highlight=False, markup=False)
