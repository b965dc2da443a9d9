"""A neutral table record and its renderings: rich (terminal), plain text, Markdown, CSV.

Commands build a :class:`Table` (and optional note lines) from analysis records; the renderers here decide how
it looks. Nothing in this module imports rich unless a terminal table is asked for.

**Numbers are never cut.** On a terminal (or with ``width=``) :func:`fit` lays the table out for the width:
cells wrap only between words and no column is narrower than its longest word (a number is one word: it never
wraps), headers break after ``_ . - / : ,`` or at spaces. When the columns do not fit at their narrowest, the
table hides the columns of ``Table.drop`` (in that order) and, if that is not enough, folds into parts that
each repeat the key columns. The table then says what it hid or folded. ``columns=`` (``select``) picks and
orders the columns to show.
"""

from __future__ import annotations

import csv
import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from archlab.errors import OptionError
from archlab.render.text import cell_text, shape_str

FORMATS = ("table", "json", "csv", "md")
GAP = 2  # characters between two columns (rich: collapsed padding; plain: two spaces)
__all__ = ["FORMATS", "Layout", "Table", "fit", "print_rich", "select", "shape_str", "to_csv", "to_markdown"]


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    numeric: set[str] = field(default_factory=set)  # right-aligned, thousands separators in text forms
    notes: list[str] = field(default_factory=list)  # lines printed after the table
    formats: dict[str, Callable[[Any], str]] = field(default_factory=dict)  # column -> text (render.text policy)
    drop: list[str] = field(default_factory=list)  # columns a narrow terminal hides, the first first
    key: int = 1  # leading columns that name a row: repeated in every part when the table folds

    def cell(self, col: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        fmt = self.formats.get(col)
        if fmt is not None:
            return fmt(value)
        if isinstance(value, int) and not isinstance(value, bool) and col not in self.numeric:
            return str(value)
        return cell_text(value)

    def texts(self) -> list[list[str]]:
        return [[self.cell(c, v) for c, v in zip(self.columns, row)] for row in self.rows]


def select(table: Table, columns: list[str] | None) -> Table:
    """The table with only ``columns``, in that order (``--columns``); an unknown name is an OptionError."""
    if not columns:
        return table
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise OptionError(
            f"--columns: no column {', '.join(repr(c) for c in unknown)} in {table.title!r}; "
            f"its columns: {', '.join(table.columns)}"
        )
    idx = [table.columns.index(c) for c in columns]
    return replace(
        table,
        columns=list(columns),
        rows=[[row[i] for i in idx] for row in table.rows],
        numeric={c for c in table.numeric if c in columns},
        drop=[c for c in table.drop if c in columns],
        key=sum(1 for c in table.columns[: table.key] if c in columns),
    )


# -- layout for a width ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a table fits a width: parts (column indices; more than one when folded), each part's column
    widths, and the columns hidden."""

    parts: list[list[int]]
    widths: list[dict[int, int]]  # per part: column index -> width
    hidden: list[str]

    def notes(self, table: Table) -> list[str]:
        out = []
        if self.hidden:
            out.append(
                f"hidden to fit the width: {', '.join(self.hidden)} (choose with --columns; a wider terminal, "
                "-f csv or -f json shows every column)"
            )
        if len(self.parts) > 1:
            key = ", ".join(table.columns[i] for i in range(min(table.key, len(table.columns))))
            out.append(
                f"folded into {len(self.parts)} parts to fit the width" + (f" (each repeats {key})" if key else "")
            )
        return out


def _header_pieces(header: str) -> list[str]:
    """Where a header may break: at spaces and after ``_ . - / : ,``."""
    return [p for p in re.split(r"(?<=[_./:,-])|\s+", header) if p]


def _tokens(text: str) -> list[str]:
    return text.split() or [""]


def wrap_header(header: str, width: int) -> str:
    lines: list[str] = []
    for piece in _header_pieces(header):
        sep = "" if lines and lines[-1][-1:] in "_./:,-" else " "
        if lines and len(lines[-1]) + len(sep) + len(piece) <= width:
            lines[-1] += sep + piece if lines[-1] else piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def _measure(table: Table, texts: list[list[str]]) -> tuple[list[int], list[int]]:
    natural, minimum = [], []
    for i, col in enumerate(table.columns):
        cells = [r[i] for r in texts]
        longest = max([len(c) for c in cells] + [0])
        head = max(len(p) for p in _header_pieces(col) or [""])
        words = max([len(t) for c in cells for t in _tokens(c)] + [0])  # a number is one word: never broken
        natural.append(max(longest, len(col)))
        minimum.append(max(words, head, 1))
    return natural, minimum


def _widths(cols: list[int], avail: int, natural, minimum, numeric: set[int]) -> dict[int, int] | None:
    """Widths for ``cols`` within ``avail`` characters: natural when they fit, else folded text and headers
    (never below the longest word or number); None when even the narrowest does not fit."""
    avail -= GAP * (len(cols) - 1)
    if sum(natural[i] for i in cols) <= avail:
        return {i: natural[i] for i in cols}
    if sum(minimum[i] for i in cols) > avail:
        return None
    w = {i: minimum[i] for i in cols}
    spare = avail - sum(w.values())
    for group in ([i for i in cols if i in numeric], [i for i in cols if i not in numeric]):
        for i in sorted(group, key=lambda i: natural[i] - w[i]):
            give = min(natural[i] - w[i], spare)
            w[i] += give
            spare -= give
    return w


def fit(table: Table, width: int) -> Layout:
    """Lay ``table`` out for ``width`` characters (see the module docstring)."""
    texts = table.texts()
    natural, minimum = _measure(table, texts)
    numeric = {i for i, c in enumerate(table.columns) if c in table.numeric}
    visible = list(range(len(table.columns)))
    hidden: list[str] = []
    droppable = [c for c in table.drop if c in table.columns]
    while True:
        w = _widths(visible, width, natural, minimum, numeric)
        if w is not None:
            return Layout([visible], [w], hidden)
        if not droppable:
            break
        name = droppable.pop(0)
        visible.remove(table.columns.index(name))
        hidden.append(name)
    return _fold(table, visible, width, natural, minimum, numeric, hidden)


def _fold(table, visible, width, natural, minimum, numeric, hidden) -> Layout:
    """Parts that each repeat the key columns and take as many of the others as fit."""
    key = [i for i in visible if i < table.key]
    rest = [i for i in visible if i >= table.key]
    parts: list[list[int]] = []
    for i in rest:
        if parts and _widths(parts[-1] + [i], width, natural, minimum, numeric) is not None:
            parts[-1].append(i)
        else:
            parts.append(key + [i])
    parts = parts or [key]
    # a part that cannot fit even alone gets its narrowest widths (rich then folds it)
    widths = [_widths(part, width, natural, minimum, numeric) or {i: minimum[i] for i in part} for part in parts]
    return Layout(parts, widths, hidden)


def _full(table: Table) -> Layout:
    texts = table.texts()
    natural, _ = _measure(table, texts)
    cols = list(range(len(table.columns)))
    return Layout([cols], [dict(enumerate(natural))], [])


# -- renderings -----------------------------------------------------------------------------------------------


def to_plain(table: Table, width: int | None = None) -> str:
    """Plain text; every column at its natural width unless ``width`` is given (then laid out as on a terminal)."""
    if not table.rows:  # nothing to show under a header (a clean lint): the title and the notes
        return "\n".join([table.title, *table.notes]) + "\n"
    layout = fit(table, width) if width else _full(table)
    texts = table.texts()
    lines = [table.title]
    for n, (part, widths) in enumerate(zip(layout.parts, layout.widths)):
        if len(layout.parts) > 1:
            lines.append(f"(part {n + 1} of {len(layout.parts)})")
        lines += _plain_part(table, texts, part, widths)
    notes = table.notes + layout.notes(table)
    if width:  # a laid-out table wraps its notes too (between words)
        notes = [w for n in notes for w in textwrap.wrap(n, width, break_long_words=False) or [""]]
    lines += notes
    return "\n".join(lines) + "\n"


def _plain_part(table: Table, texts, part: list[int], widths: dict[int, int]) -> list[str]:
    def block(cells: list[str], header: bool) -> list[str]:
        wrapped = []
        for i, text in zip(part, cells):
            if header:
                wrapped.append(wrap_header(text, widths[i]).split("\n"))
            elif len(text) <= widths[i]:
                wrapped.append([text])
            else:
                wrapped.append(textwrap.wrap(text, widths[i], break_long_words=False, break_on_hyphens=False))
        height = max(len(w) for w in wrapped)
        out = []
        for k in range(height):
            values = [w[k] if k < len(w) else "" for w in wrapped]
            out.append(_line(table, part, widths, values))
        return out

    lines = block([table.columns[i] for i in part], True)
    lines.append(_line(table, part, widths, ["-" * widths[i] for i in part]))
    for row in texts:
        lines += block([row[i] for i in part], False)
    return lines


def _line(table: Table, part: list[int], widths: dict[int, int], values: list[str]) -> str:
    out = []
    for i, v in zip(part, values):
        out.append(v.rjust(widths[i]) if table.columns[i] in table.numeric else v.ljust(widths[i]))
    return (" " * GAP).join(out).rstrip()


def to_markdown(table: Table, level: int = 2) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    head = "| " + " | ".join(esc(c) for c in table.columns) + " |"
    align = "| " + " | ".join("---:" if c in table.numeric else "---" for c in table.columns) + " |"
    body = ["| " + " | ".join(esc(t) for t in row) + " |" for row in table.texts()]
    notes = [f"- {n}" for n in table.notes]
    parts = [f"{'#' * level} {table.title}", "", head, align, *body]
    if notes:
        parts += ["", *notes]
    return "\n".join(parts) + "\n"


def to_csv(table: Table) -> str:
    """Every value at full precision (the text formats are for reading)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def print_rich(table: Table, console, width: int | None = None) -> None:
    """The table on a rich console, laid out for ``width`` (default: the console's width)."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    layout = fit(table, width or console.width)
    texts = table.texts()
    if table.title:
        console.print(table.title, style="bold", highlight=False, markup=False)
    parts = list(zip(layout.parts, layout.widths)) if table.rows else []  # no rows: no empty header (clean lint)
    for n, (part, widths) in enumerate(parts):
        caption = f"(part {n + 1} of {len(layout.parts)})" if len(layout.parts) > 1 else None
        t = RichTable(
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
            header_style="bold",
            title=caption,
            title_justify="left",
        )
        for i in part:
            col = table.columns[i]
            num = col in table.numeric
            t.add_column(
                Text(wrap_header(col, widths[i])),
                justify="right" if num else "left",
                width=widths[i],
                overflow="fold",  # only a word longer than the column would fold; widths hold the longest
            )
        for row in texts:
            t.add_row(*(Text(row[i]) for i in part))
        console.print(t)
    for note in table.notes + layout.notes(table):
        console.print(note, highlight=False, markup=False)
