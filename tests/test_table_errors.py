"""Bad tables and options (archlab.spec, archlab.errors through `archlab profile`): exit code 2 and one clear
line naming file, row and field; never a traceback.

The table edits apply to the ``classifier`` tiny table (tests/helpers/tables.py), whose bottleneck row is line 6.
"""

import pytest

from tests.helpers.cli import one_line_error


def test_good_table_works(cli, tiny_table):
    r = cli("profile", tiny_table("classifier"))
    assert r.exit_code == 0, r.stderr


def test_unknown_network_suggests_closest(cli):
    one_line_error(cli("profile", "mobilefacnet"), "unknown network 'mobilefacnet'", "did you mean mobilefacenet")


def test_missing_file(cli, tmp_path):
    one_line_error(cli("profile", tmp_path / "nope.yaml"), "no such table file", "nope.yaml")


def test_unreadable_file(cli, tmp_path):
    d = tmp_path / "dir.yaml"
    d.mkdir()
    one_line_error(cli("profile", d), "not a file")
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    one_line_error(cli("profile", bad), "bin.yaml", "not a UTF-8 text file")


def test_yaml_syntax_error_has_line(cli, write_table):
    p = write_table("name: x\ninput: [32, 32]\nrows:\n  - {type: conv, c: 8\n  - {type: pool}\n")
    err = one_line_error(cli("profile", p), "YAML syntax error")
    assert f"{p}:" in err  # file:line


def test_unknown_row_type(cli, tiny_table):
    p = tiny_table("classifier", replace={"type: bottleneck": "type: botleneck"})
    one_line_error(cli("profile", p), f"{p}:6", "row 1", "field 'type'", "did you mean bottleneck")


def test_unknown_field(cli, tiny_table):
    p = tiny_table("classifier", replace={"n: 2": "m: 2"})
    one_line_error(cli("profile", p), "row 1 (bottleneck)", "field 'm'", "unknown field")


def test_missing_value(cli, tiny_table):
    p = tiny_table("classifier", replace={"t: 2, ": ""})
    one_line_error(cli("profile", p), "row 1 (bottleneck)", "field 't'", "missing value")


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("c: 8, k: 3", "c: 0, k: 3", "c"),
        ("k: 3, s: 2", "k: 0, s: 2", "k"),
        ("s: 2}", "s: -1}", "s"),
        ("t: 2", "t: 0", "t"),
        ("t: 2", "t: two", "t"),
        ("n: 2", "n: 1.5", "n"),
        ("act: relu", "act: mish", "defaults.act"),
    ],
)
def test_out_of_range_values(cli, tiny_table, old, new, field):
    p = tiny_table("classifier", replace={old: new})
    one_line_error(cli("profile", p), f"field '{field}'")


def test_groups_must_divide_channels(cli, tiny_table):
    p = tiny_table("classifier", replace={"c: 8, k: 3, s: 2": "c: 8, k: 3, s: 2, groups: 3"})
    one_line_error(cli("profile", p), "row 0 (conv)", "field 'groups'", "must divide")


def test_kernel_larger_than_padded_input(cli, tiny_table):
    p = tiny_table("classifier", replace={"c: 8, k: 3, s: 2": "c: 8, k: 40, s: 2, padding: valid"})
    one_line_error(cli("profile", p), "row 0 (conv)", "field 'k'", "larger than its padded input")


def test_input_too_small_for_strides(cli):
    one_line_error(cli("profile", "xception", "--input", "5x5"), "xception.yaml", "field 'k'", "too small")


def test_head_errors(cli, tiny_table):
    p = tiny_table("classifier", replace={"classes: 10": "classes: 0"})
    one_line_error(cli("profile", p), "field 'head.classifier.classes'")
    p = tiny_table("classifier", replace={"pool: gap": "pool: gdc"})
    one_line_error(cli("profile", p), "field 'head.pool'", "gdconv")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--width", "0"], "--width must be > 0"),
        (["--width", "-1"], "--width must be > 0"),
        (["--embedding", "0"], "--embedding must be > 0"),
        (["--input", "112by96"], "--input must look like"),
        (["--stem-stride", "3"], "--stem-stride must be 1 or 2"),
        (["--stem-pool", "--stem-stride", "2"], "cannot be combined"),
    ],
)
def test_bad_options(cli, args, needle):
    one_line_error(cli("profile", "mobilefacenet", *args), needle)


def test_classes_on_embedding_network(cli):
    one_line_error(cli("profile", "mobilefacenet", "--classes", "10"), "no classifier")
    one_line_error(cli("profile", "mobilenetv2", "--classes", "0"), "--classes must be > 0")
    one_line_error(cli("profile", "mobilenetv2", "--classes", "5", "--embedding", "5"), "not both")


def test_malformed_option_syntax_is_a_usage_error(cli):
    r = cli("profile", "mobilefacenet", "--width", "wide")
    assert r.exit_code == 2 and "Traceback" not in r.stderr


def test_extends_errors(cli, write_table):
    p = write_table("extends: nosuchnet\nname: x\n")
    one_line_error(cli("profile", p), "field 'extends'", "unknown network 'nosuchnet'")
    write_table("extends: b.yaml\nname: a\n", "a.yaml")
    b = write_table("extends: a.yaml\nname: b\n", "b.yaml")
    one_line_error(cli("profile", b), "cycle")
    p = write_table("extends: mobilefacenet\nname: x\nedit:\n  - {row: 99, remove: true}\n")
    one_line_error(cli("profile", p), "field 'edit[0]'", "no row 99")


def test_duplicate_key_and_top_level_typo(cli, tiny_table):
    p = tiny_table("classifier", replace={"c: 8, k: 3, s: 2": "c: 8, k: 3, s: 2, c: 4"})
    one_line_error(cli("profile", p), "duplicate key 'c'")
    p = tiny_table("classifier", replace={"rows:": "rowz:"})
    one_line_error(cli("profile", p), "field 'rowz'", "did you mean rows")


def test_output_into_missing_folder(cli, tmp_path):
    one_line_error(cli("profile", "mobilefacenet", "-o", tmp_path / "no" / "x.json"), "does not exist")


def test_debug_shows_traceback(cli):
    r = cli("--debug", "profile", "mobilefacnet")
    assert r.exit_code != 0 and r.exception is not None
