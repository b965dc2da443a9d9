"""A 20,000-row table validates and profiles within a subprocess timeout and 500 MB of address space (issue 15:
21 s to profile, 40 s to validate, 14.5 s of it PyYAML's pure-Python loader). The time bound is the timeout;
never a timed assertion (benchmarks/bench_big_table.py measures it against a 100-row table)."""

import pytest

from tests.helpers.bounded import archlab

ROWS = 20_000


def big_table(folder):
    lines = ["name: big", "input: [112, 112]", "defaults: {norm: bn, act: relu}", "rows:"]
    lines += ["  - {type: conv, c: 16, k: 3, s: 2}"] + ["  - {type: conv, c: 16, k: 3}"] * (ROWS - 1)
    lines.append("head: {pool: gap, embedding: {size: 8, layer: linear}}")
    path = folder / "big.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# params by hand: the stem conv 3x3x3x16 + BN 2x16 = 464; each other row 3x3x16x16 + BN 32 = 2,336;
# the head's linear 16x8 + BN1d 2x8 = 144
PARAMS = 464 + 2336 * (ROWS - 1) + 144


@pytest.mark.slow
def test_a_20000_row_table_validates_and_profiles_in_bounds(tmp_path):
    path = big_table(tmp_path)
    result = archlab("validate", path, timeout=30)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{ROWS + 1} rows, {3 * ROWS + 4} layers, params {PARAMS:,}" in result.stdout
    out = tmp_path / "profile.txt"
    result = archlab("profile", path, "-o", out, timeout=30)
    assert result.returncode == 0, result.stderr[-2000:]
    text = out.read_text()
    assert f"totals: params {PARAMS:,} " in text and f"\n{ROWS - 1} " in text  # the last row of the table


@pytest.mark.slow
def test_an_error_on_the_last_row_of_a_big_table_names_its_line(tmp_path):
    path = big_table(tmp_path)
    text = path.read_text().replace("  - {type: conv, c: 16, k: 3}\nhead", "  - {type: conv, c: 16, kernel: 3}\nhead")
    path.write_text(text)
    result = archlab("validate", path, timeout=30)
    assert result.returncode == 2
    assert (
        f"big.yaml:{ROWS + 4}: row {ROWS - 1} (conv): field 'kernel': unknown field (did you mean k?)" in result.stderr
    )
