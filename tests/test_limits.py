"""archlab.spec.limits and the table checks that use them (archlab.spec.table): counts above archlab's limits,
duplicate ids, descriptions that are not strings, published figures that are not finite, values of the wrong
type anywhere: each one error naming file, line, row and field, at once and in little memory (issue 15)."""

import pytest

import archlab
from archlab.errors import ArchlabError, TableError
from archlab.spec import limits
from tests.helpers.bounded import archlab as run_archlab
from tests.helpers.bounded import one_error_line

HEAD = "head: {pool: gap, embedding: {size: 8}}\n"


def table(rows: str, top: str = "") -> str:
    return f"name: t\ninput: [32, 32]\n{top}rows:\n{rows}{HEAD}"


def error_of(write_table, text) -> ArchlabError:
    with pytest.raises(ArchlabError) as e:
        archlab.plan(write_table(text))
    return e.value


@pytest.mark.parametrize(
    "row, field, message",
    [
        ("{type: bottleneck, t: 2, c: 8, n: 1000000000}", "n", "must be <= 1,000"),
        ("{type: conv, c: 1000000000000}", "c", "must be <= 1,048,576"),
        ("{type: bottleneck, e: 2000000, c: 8}", "e", "must be <= 1,048,576"),
        ("{type: conv, c: 8, k: 100000}", "k", "must be <= 65,536"),
        ("{type: bottleneck, t: 5000, c: 8}", "t", "must be <= 1,024"),
        ("{type: bottleneck, t: .nan, c: 8}", "t", "finite"),
        ("{type: bottleneck, t: .inf, c: 8}", "t", "finite"),
        ("{type: bottleneck, t: 0.0001, c: 8}", "t", "rounds to 0 expanded channels"),
        ("{type: conv, c: [8]}", "c", "expected an integer, got [8]"),
        ("{type: conv, c: 8, act: [relu]}", "act", "expected one of"),
        ("{type: [conv], c: 8}", "type", "unknown row type ['conv']"),
        ("{type: {a: 1}, c: 8}", "type", "unknown row type"),
    ],
)
def test_bad_row_values_name_row_and_field(write_table, row, field, message):
    e = error_of(write_table, table(f"  - {{type: conv, c: 8, s: 2}}\n  - {row}\n"))
    assert isinstance(e, TableError) and e.field == field and e.row == 1 and e.line == 5, str(e)
    assert message in str(e)


def test_head_values_are_type_checked(write_table):
    text = table("  - {type: conv, c: 8}\n").replace(
        HEAD, "head: {pool: gap, classifier: {classes: 10, dropout: .nan}}\n"
    )
    e = error_of(write_table, text)
    assert e.field == "head.classifier.dropout" and "finite" in str(e)
    text = table("  - {type: conv, c: 8}\n").replace(HEAD, "head: {pool: gap, embedding: [8]}\n")
    assert error_of(write_table, text).field == "head.embedding"


def test_duplicate_ids_are_refused(write_table):
    rows = "  - {type: conv, c: 8, id: stem}\n  - {type: conv, c: 8}\n  - {type: conv, c: 16, id: stem}\n"
    e = error_of(write_table, table(rows))
    assert e.field == "id" and e.row == 2 and e.line == 6
    assert "duplicate id 'stem': row 0 (line 4) has it too" in str(e)


@pytest.mark.parametrize(
    "top, field, message",
    [
        ("description: [a, b]\n", "description", "expected a string, got ['a', 'b']"),
        ("description: {a: 1}\n", "description", "expected a string"),
        ("published: {madds: .nan}\n", "published.madds", "positive finite number"),
        ("published: {params: .inf}\n", "published.params", "positive finite number"),
        ("published: {note: [x]}\n", "published.note", "expected a string"),
        ("in_channels: 10000000\n", "in_channels", "must be <= 1,048,576"),
        ("classes: 100000000\n", "classes", "must be <= 16,777,216"),
        ("defaults: [relu]\n", "defaults", "expected a mapping"),
        ("defaults: {round: divisible99999999999999999999}\n", "defaults.round", "divisibleN"),
        ("source: [x]\n", "source", "expected a mapping"),
    ],
)
def test_top_level_values_are_type_checked(write_table, top, field, message):
    e = error_of(write_table, table("  - {type: conv, c: 8}\n", top))
    assert e.field == field and message in str(e), str(e)


def test_the_input_has_a_limit(write_table):
    e = error_of(write_table, table("  - {type: conv, c: 8}\n").replace("[32, 32]", "[100000, 32]"))
    assert e.field == "input" and "65,536" in str(e)


def test_the_table_has_a_block_limit(write_table, monkeypatch):
    monkeypatch.setattr("archlab.spec.table.MAX_BLOCKS", 10)
    e = error_of(write_table, table("  - {type: conv, c: 8}\n  - {type: dwsep, c: 8, n: 10}\n"))
    assert e.field == "rows" and "11 blocks in 2 rows" in str(e) and "limit is 10" in str(e)


def test_a_description_may_be_absent_or_null(write_table):
    assert archlab.load_table(write_table(table("  - {type: conv, c: 8}\n"))).description == ""
    assert archlab.load_table(write_table(table("  - {type: conv, c: 8}\n", "description: null\n"))).description == ""


def test_validate_lists_a_duplicate_id_with_the_other_errors(write_table):
    rows = "  - {type: conv, c: 8, id: a}\n  - {type: conv, c: 8, id: a}\n"
    _, errors, _ = archlab.api.table_errors(write_table(table(rows)))
    assert [e.field for e in errors] == ["id"]


def test_limits_are_documented():
    for name in ("MAX_BLOCKS_PER_ROW", "MAX_BLOCKS", "MAX_CHANNELS", "MAX_CLASSES", "MAX_SPATIAL", "MAX_WIDTH"):
        assert f"{int(getattr(limits, name)):,}" in limits.__doc__


def test_a_billion_blocks_is_refused_at_once_in_little_memory(tmp_path):
    """Issue 15: `n: 1000000000` never returned (validate grew past 460 MB)."""
    path = tmp_path / "t.yaml"
    path.write_text(table("  - {type: conv, c: 8}\n  - {type: bottleneck, t: 6, c: 8, n: 1000000000}\n"))
    for command in ("validate", "profile"):
        line = one_error_line(run_archlab(command, path, timeout=20))
        assert "t.yaml:5: row 1 (bottleneck): field 'n': must be <= 1,000" in line


@pytest.mark.parametrize("width", ["inf", "1e308", "nan", "2000"])
def test_a_width_that_cannot_be_a_width_is_refused(tmp_path, width):
    path = tmp_path / "t.yaml"
    path.write_text(table("  - {type: conv, c: 8}\n"))
    line = one_error_line(run_archlab("profile", path, "--width", width, timeout=20))
    finite = width not in ("inf", "nan")
    assert ("--width must be > 0 and <= 1024" if finite else f"'--width': '{width}' is not a finite number") in line
