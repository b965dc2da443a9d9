"""archlab.spec.yaml_reader: the same values and line numbers as PyYAML's safe loader, on libyaml when present,
and every limit holding before anything large is built: aliases of collections (the alias bomb), nesting depth,
value count, key size, tags (issue 15)."""

import glob
from pathlib import Path

import pytest
import yaml

from archlab.errors import TableError
from archlab.spec import registry, yaml_reader
from archlab.spec.yaml_reader import LineDict, parse_yaml, read_yaml
from tests.helpers.bounded import archlab, one_error_line

SHIPPED = sorted(glob.glob(str(registry.configs_dir() / "*.yaml")))


def lines(data, out=None):
    """The line of every mapping, depth first."""
    out = [] if out is None else out
    if isinstance(data, dict):
        out.append(getattr(data, "line", None))
        for v in data.values():
            lines(v, out)
    elif isinstance(data, list):
        for v in data:
            lines(v, out)
    return out


def composed_lines(text):
    """The line of every mapping as PyYAML's composer sees it (the reference)."""
    out = []

    def walk(node):
        if isinstance(node, yaml.MappingNode):
            out.append(node.start_mark.line + 1)
            for _, v in node.value:
                walk(v)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                walk(v)

    walk(yaml.compose(text, Loader=yaml.SafeLoader))
    return out


@pytest.fixture(params=["libyaml", "python"])
def parser(request, monkeypatch):
    if request.param == "libyaml":
        if not getattr(yaml, "__with_libyaml__", False):
            pytest.skip("PyYAML without libyaml")
    else:
        monkeypatch.setattr(yaml_reader, "_loader_class", lambda: yaml.SafeLoader)
    return request.param


def test_libyaml_is_used_when_present():
    if getattr(yaml, "__with_libyaml__", False):
        assert yaml_reader._loader_class() is yaml.CSafeLoader


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: Path(p).stem)
def test_shipped_tables_read_as_pyyaml_reads_them(path, parser):
    text = Path(path).read_text(encoding="utf-8")
    data = read_yaml(Path(path))
    assert isinstance(data, LineDict)
    assert data == yaml.safe_load(text)
    assert lines(data) == composed_lines(text)


def test_scalars_resolve_as_in_pyyaml(parser):
    text = (
        "a: yes\nb: 1e3\nc: 1.0e+3\nd: 0x1f\ne: ~\nf: 2001-12-14\ng: '12'\nh: !!str 12\ni: !!float 1\n"
        'j: -.inf\nk: 0o17\nl: 1_000\nm: 12:30:00\nn: on\no: "x"\np: ! 12\nq: [1, {r: 2}]\n'
    )
    assert parse_yaml(text) == yaml.safe_load(text)
    assert parse_yaml("a: &x 3\nb: *x\n") == {"a": 3, "b": 3}  # aliases of scalars are fine


def test_aliases_of_collections_are_copies(parser):
    text = "a: &r {x: 1, y: [2, 3]}\nb: *r\nc: [*r, &s [4]]\nd: *s\n"
    data = parse_yaml(text)
    assert data == yaml.safe_load(text)
    assert data["b"] is not data["a"] and data["b"]["y"] is not data["a"]["y"]  # editing one leaves the other
    assert data["b"].line == 1  # a copy keeps the line its anchor starts on


BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize(
    "text, message, line",
    [
        (BOMB, "more than 1,000,000 values in one file, counting what aliases copy \\(\\*f holds", 7),
        ("a: &r [*r]\n", "an alias \\(\\*r\\) inside the mapping or list it names", 1),
        ("a: &r {x: [1, *r]}\n", "inside the mapping or list it names \\(line 1\\)", 1),
        ("b: *k\n", "unknown alias \\*k", 1),
        ("name: x\ndescription: " + "[" * 40 + "]" * 40 + "\n", "nested more than 32 levels", 2),
        ("? [a, b]\n: 1\n", "a mapping key must be a scalar", 1),
        ("{a: 1}: 2\n", "a mapping key must be a scalar", 1),
        ("a: &a {x: 1}\nb: {<<: *a}\n", "alias|merge keys", 2),
        ("b: {<<: {x: 1}}\n", "merge keys \\(<<\\) are not supported", 1),
        ("a: 1\n---\nb: 2\n", "one YAML document", 2),
        ("a: !!python/object/apply:os.system ['ls']\n", "unsupported YAML tag !!python/object/apply:os.system", 1),
        ("a: !foo 1\n", "unsupported YAML tag !foo", 1),
        ("a: !!set {x, y}\n", "unsupported YAML tag !!set", 1),
        ("a: !!binary aGVsbG8=\n", "unsupported YAML tag !!binary", 1),
        ("a: 1\na: 2\n", "duplicate key 'a'", 2),
        ("k" * 300 + ": 1\n", "a key of 300 characters", 1),
        ("a: [1, 2\n", "YAML syntax error", 2),
    ],
)
def test_refused_documents_name_the_line(text, message, line, parser):
    with pytest.raises(TableError, match=message) as e:
        parse_yaml(text, "t.yaml")
    assert e.value.file == "t.yaml" and e.value.line == line
    assert len(str(e.value)) < 300 and "\n" not in str(e.value)


def test_deep_nesting_is_refused_by_either_parser(parser):
    text = "name: x\ndescription: " + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(TableError, match="nest"):
        parse_yaml(text, "t.yaml")


def test_too_many_values_are_refused(monkeypatch):
    monkeypatch.setattr(yaml_reader, "MAX_VALUES", 100)
    with pytest.raises(TableError, match="more than 100 values"):
        parse_yaml("a: [" + ", ".join(["1"] * 200) + "]\n")


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_reader, "MAX_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n" + "# pad\n" * 500)
    with pytest.raises(TableError, match="a table file may have at most 1,000") as e:
        read_yaml(path)
    assert e.value.file == str(path)


def test_an_empty_file_or_a_list_is_not_a_table(tmp_path):
    for text in ("", "- 1\n"):
        path = tmp_path / "t.yaml"
        path.write_text(text)
        with pytest.raises(TableError, match="must be a mapping"):
            read_yaml(path)


def test_the_alias_bomb_is_refused_at_once_in_little_memory(tmp_path):
    """As a field value, as `rows:` and as `description:`: exit 2, one line, within the subprocess timeout and
    the 500 MB address-space limit (the old loader expanded 9**9 items into the error message)."""
    variants = {
        "field": "rows:\n  - {type: conv, c: *i}\n",
        "rows": "rows: *i\n",
        "description": "description: *i\nrows:\n  - {type: conv, c: 8}\n",
    }
    for name, tail in variants.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"name: bomb\ninput: [16, 16]\nsource:\n{_indent(BOMB)}{tail}")
        line = one_error_line(archlab("validate", path, timeout=20))
        assert "alias" in line and str(path) in line and len(line) < 400


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())


def test_a_deep_description_is_one_error_line(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\ninput: [16, 16]\ndescription: " + "[" * 3000 + "]" * 3000 + "\nrows: []\n")
    line = one_error_line(archlab("validate", path, timeout=20))
    assert "deep.yaml:3" in line and "nest" in line
