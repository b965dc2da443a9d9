"""render/tables.py: on a terminal of any width >= 60 no number is ever cut.

Every table archlab prints (profile per row and per layer, sweep, diff, compare, rf, check) is rendered by rich
at 60, 80 and 120 columns into a string, and every cell of every shown column must appear whole: numbers never
wrap or lose digits, text wraps only between words, no line is wider than the terminal, nothing ends in an
ellipsis, and the columns hidden to fit are named under the table.
"""

from __future__ import annotations

import io
import re

import pytest

import archlab
from archlab.errors import OptionError
from archlab.render.tables import Table, fit, print_rich, select, to_plain
from tests.helpers import records

WIDTHS = (60, 80, 120)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rich_text(table: Table, width: int) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_rich(table, Console(file=buf, width=width, force_terminal=True, color_system="standard"))
    return ANSI.sub("", buf.getvalue())


def assert_nothing_cut(table: Table, width: int, text: str) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, f"a line wider than {width}"
    assert "…" not in text
    layout = fit(table, width)
    shown = {i for part in layout.parts for i in part}
    body = " ".join(text.split())  # tokens separated by single spaces
    for row in table.texts():
        for i, cell in enumerate(row):
            if i not in shown or not cell:
                continue
            for piece in cell.split():  # a number is one word: it must appear whole
                pattern = rf"(?<![\w,.]){re.escape(piece)}(?![\w,.])" if piece[-1:].isalnum() else re.escape(piece)
                assert re.search(pattern, body), f"{table.title!r}: {table.columns[i]} {piece!r} cut at {width}"
    for name in layout.hidden:
        assert name in body.split("hidden to fit the width:")[-1], f"{name} hidden without saying so"
    if layout.hidden:
        assert "hidden to fit the width" in body


def table_cases():
    from archlab.render.compare_page import compare_table
    from archlab.render.diff import diff_table
    from archlab.render.rf import outputs_table
    from archlab.render.sweep import sweep_table

    return {
        "profile row": records.profile_tables("mobilefacenet", "row"),
        "profile layer": records.profile_tables("mobilefacenet", "layer"),
        "profile xception": records.profile_tables("xception", "row"),
        "sweep": [sweep_table(records.sweep_result())],
        "sweep wide": [sweep_table(records.sweep_result(wide=True))],
        "diff by role": [diff_table(archlab.diff("mobilenetv2", "mobilefacenet"))],
        "diff by table": [diff_table(archlab.diff("mobilefacenet", "mobilefacenet", b_options={"stem_stride": 1}))],
        "compare": [compare_table(records.comparison())],
        "rf outputs": [
            outputs_table(archlab.plan("ssdlite-mobilenetv2"), archlab.output_fields("ssdlite-mobilenetv2"))
        ],
    }


CASES = table_cases()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", list(CASES))
def test_no_number_is_cut(case, width):
    for table in CASES[case]:
        assert_nothing_cut(table, width, rich_text(table, width))


@pytest.fixture(scope="module")
def torch_tables():
    from archlab.render.check import check_table
    from archlab.render.rf import rf_tables

    study = records.small_rf_study()
    report = archlab.crosscheck("mobilefacenet")
    return {
        "rf": rf_tables(study, ["figs/rf_units.png"]),
        "check row": [check_table(report, "row")],
        "check layer": [check_table(report, "layer")],
    }


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_no_number_is_cut_rf_and_check(torch_tables, width):
    for tables in torch_tables.values():
        for table in tables:
            assert_nothing_cut(table, width, rich_text(table, width))


def test_a_narrow_terminal_hides_by_priority_and_says_so():
    table = records.profile_tables("mobilefacenet", "row")[0]
    layout = fit(table, 60)
    assert layout.hidden and layout.hidden == table.drop[: len(layout.hidden)]  # in the table's order
    shown = [table.columns[i] for i in layout.parts[0]]
    assert {"row", "out", "params", "madds"} <= set(shown)
    assert "hidden to fit the width: " + ", ".join(layout.hidden) in " ".join(rich_text(table, 60).split())
    assert fit(table, 400).hidden == []


def test_a_table_with_no_drop_list_folds_into_parts():
    comp = records.comparison()
    from archlab.render.compare_page import compare_table

    table = compare_table(comp)
    layout = fit(table, 60)
    assert len(layout.parts) > 1 and all(part[0] == 0 for part in layout.parts)  # each repeats "quantity"
    text = rich_text(table, 60)
    assert "(part 2 of" in text and "folded into" in text


def test_columns_selects_and_orders():
    table = records.profile_tables("mobilefacenet", "row")[0]
    picked = select(table, ["madds", "row", "rf"])
    assert picked.columns == ["madds", "row", "rf"] and picked.rows[0][1] == 0
    assert to_plain(picked).splitlines()[1].split() == ["madds", "row", "rf"]
    with pytest.raises(OptionError, match="--columns: no column 'nope'.*its columns: row, type"):
        select(table, ["nope"])


def test_plain_text_with_a_width_is_laid_out_too():
    table = records.profile_tables("mobilefacenet", "row")[0]
    text = to_plain(table, 70)
    assert max(len(line) for line in text.splitlines()[1:]) <= 70
    assert "220,965,376" in text and "hidden to fit the width" in text
    assert "hidden" not in to_plain(table)  # piped: every column, at its natural width


def test_emit_passes_columns_and_width(capsys):
    from archlab.render.output import emit

    table = records.profile_tables("mobilefacenet", "row")[0]
    emit([table], {}, "table", None, columns=["row", "madds"], width=60)
    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == ["row", "madds"] and "220,965,376" in out
    emit([table], {}, "csv", None, columns=["row", "params"])
    assert capsys.readouterr().out.splitlines()[0] == "row,params"
    with pytest.raises(OptionError, match="--columns"):
        emit([table], {}, "md", None, columns=["nope"])


def test_an_empty_table_prints_no_header():
    t = Table("net: lint", ["row", "layer", "rule", "message", "defined at"], notes=["clean: no findings"])
    assert to_plain(t) == "net: lint\nclean: no findings\n"
    text = rich_text(t, 80)
    assert "rule" not in text and "clean: no findings" in text
