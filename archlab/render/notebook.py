"""The notebook view of the result records: ``_repr_html_`` gives the table archlab prints, as HTML.

Registered with :class:`archlab.static.display.Display` when this module is imported (``import archlab`` does):
each record type gets a function from the record to an HTML fragment, built from the same
:class:`~archlab.render.tables.Table` as the terminal and the pages (:func:`archlab.render.document.html_table`).
The renderers are imported when a record is shown, not before.
"""

from __future__ import annotations

import html

from archlab.render.document import html_table
from archlab.static.display import Display


def _lines(lines: list[str]) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _fragment(head: list[str], tables) -> str:
    return '<div class="archlab-record">' + _lines(head) + "".join(html_table(t) for t in tables) + "</div>"


def profile_html(prof) -> str:
    from archlab.render.profile import profile_header, profile_table

    table = profile_table(prof, "row")
    notes, table.notes = table.notes, []
    return _fragment(profile_header(prof) + notes[:-2], [table])


def diff_html(d) -> str:
    from archlab.render.diff import diff_table

    return _fragment([], [diff_table(d)])


def comparison_html(comp) -> str:
    from archlab.render.compare_page import compare_table

    return _fragment([], [compare_table(comp)])


def sweep_html(result) -> str:
    from archlab.render.sweep import sweep_table

    return _fragment([], [sweep_table(result)])


def rf_html(study) -> str:
    from archlab.render.rf import heads_table, rf_header

    return _fragment(rf_header(study), [heads_table(study)] if study.heads else [])


def check_html(report) -> str:
    from archlab.render.check import check_table

    return _fragment([], [check_table(report, "row")])


RENDERERS = {
    "archlab.static.counts.Profile": profile_html,
    "archlab.static.diff.Diff": diff_html,
    "archlab.studies.compare.Comparison": comparison_html,
    "archlab.studies.sweep.SweepResult": sweep_html,
    "archlab.static.erf_records.RFStudy": rf_html,
    "archlab.static.crosscheck.CheckReport": check_html,
}
for _name, _render in RENDERERS.items():
    Display.register(_name, _render)
