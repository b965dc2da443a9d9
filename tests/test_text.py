"""render/text.py: one number policy for tables and pages."""

from __future__ import annotations

from types import SimpleNamespace

from archlab.render import text


def test_significant_digits():
    assert [text.sig(v) for v in (1234.6, 12.345, 1.0394, 0.47, 0.012345, 9.996, 0)] == [
        "1,235",
        "12.3",
        "1.04",
        "0.470",
        "0.0123",
        "10.0",
        "0",
    ]


def test_ratios_ms_and_percentages():
    assert text.ratio_value(1.4564) == "1.46" and text.ratio_value(37.8962) == "37.9"
    assert [text.ms_value(v) for v in (0.04567, 1.234, 12.345, 123.4, 1234.5)] == [
        "0.0457",
        "1.23",
        "12.3",
        "123.4",
        "1,234",
    ]
    assert text.pct(0.911) == "91.1%" and text.pct(0.0349, signed=True) == "+3.5%"
    assert text.pct(-0.000226, signed=True) == "-0.02%"  # a small deviation never reads as 0
    assert text.pct(0) == "0.0%"


def test_summaries():
    s = SimpleNamespace(median=12.345, ci_low=12.1, ci_high=12.61)
    assert text.ms(s) == "12.3 [12.1, 12.6]"
    r = SimpleNamespace(median=2.8512, ci_low=2.771, ci_high=2.93, n=8)
    assert text.ratio(r) == "2.85 [2.77, 2.93]"
    assert text.ms(None) == "—" and text.ratio(SimpleNamespace(median=1.0, ci_low=None, ci_high=None)) == "1.00"


def test_cells():
    assert text.cell_text(5_419_008) == "5,419,008" and text.cell_text(0.91234) == "0.912"
    assert text.cell_text(None) == "" and text.cell_text(True) == "yes"
