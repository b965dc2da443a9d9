"""Issue 15's corpus of bad inputs through the CLI (in-process): each is exit 2 with one `archlab: error:` line
naming the file, line, row and field. The bounded runs (subprocess timeout, 500 MB of address space) of the
hangs and the allocations are in test_yaml_reader (alias bomb, deep nesting), test_limits (n: 1000000000,
--width inf), test_resources (8000x8000, 100000x100000, --batch 100000000), test_big_table (20,000 rows),
test_storage_files (devices, FIFOs, read-only folders), test_storage_publish (reports failing half-way),
test_sweep_store (two sweeps on one --out, stale temporary files), test_sweep_grid (--warmup inf), and the CLI
rewrite's part in test_cli_errors."""

import pytest

from tests.helpers.bounded import write_tiny

ROW0 = "  - {type: conv, c: 8, k: 3, s: 2}\n"


def table(rows: str = "", top: str = "", head: str = "head: {pool: gap, embedding: {size: 8}}\n") -> str:
    return f"name: t\ninput: [32, 32]\n{top}rows:\n{ROW0}{rows}{head}"


def error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("archlab: error:")]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


CASES = {
    # internal errors before (exit 1, no file named)
    "type as a list": (table("  - {type: [conv], c: 8}\n"), "t.yaml:5: row 1: field 'type': unknown row type ['conv']"),
    "a list as a key": (table("  - {? [a, b] : 1, type: conv}\n"), "t.yaml:5: a mapping key must be a scalar"),
    "t: .nan": (table("  - {type: bottleneck, t: .nan, c: 8}\n"), "field 't': expected a finite number, got nan"),
    "t: .inf": (table("  - {type: bottleneck, t: .inf, c: 8}\n"), "field 't': expected a finite number, got inf"),
    # accepted silently before
    "duplicate id": (
        table("  - {type: conv, c: 8, id: x}\n  - {type: conv, c: 8, id: x}\n"),
        "t.yaml:6: row 2 (conv): field 'id': duplicate id 'x': row 1 (line 5) has it too",
    ),
    "dropout: .nan": (
        table(head="head: {pool: gap, classifier: {classes: 4, dropout: .nan}}\n"),
        "field 'head.classifier.dropout': expected a finite number, got nan",
    ),
    "published nan": (table(top="published: {madds: .nan}\n"), "field 'published.madds': expected a positive finite"),
    "description a list": (
        table(top="description: [a, b]\n"),
        "field 'description': expected a string, got ['a', 'b']",
    ),
    # hangs and huge allocations before
    "n: 1000000000": (
        table("  - {type: bottleneck, t: 6, c: 8, n: 1000000000}\n"),
        "t.yaml:5: row 1 (bottleneck): field 'n': must be <= 1,000",
    ),
    "c: 10**12": (table("  - {type: conv, c: 1000000000000}\n"), "field 'c': must be <= 1,048,576"),
    # messages
    "t: 0.0001 blames t": (table("  - {type: bottleneck, t: 0.0001, c: 8}\n"), "field 't': t = 0.0001 times 8"),
    "strides": (table("  - {type: conv, c: 8, strides: 2}\n"), "field 'strides': unknown field (did you mean s"),
    "kernel": (table("  - {type: conv, c: 8, kernel: 3}\n"), "field 'kernel': unknown field (did you mean k"),
    "expansion": (table("  - {type: bottleneck, expansion: 6, c: 8}\n"), "(did you mean t"),
    "activation": (table("  - {type: conv, c: 8, activation: relu}\n"), "(did you mean act"),
    "channels": (table("  - {type: conv, channels: 8}\n"), "(did you mean c"),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=list(CASES))
def test_bad_tables_are_one_line(cli, write_table, text, expected):
    path = write_table(text, "t.yaml")
    for command in ("validate", "profile"):
        line = error_line(cli(command, path))
        assert expected in line, line
        assert str(path) in line and len(line) < 400


@pytest.mark.parametrize(
    "args, expected",
    [
        (("profile", "{tiny}", "--width", "inf"), "'--width': 'inf' is not a finite number"),
        (("profile", "{tiny}", "--width", "1e308"), "--width must be > 0 and <= 1024"),
        (("sweep", "{tiny}", "--warmup", "nan"), "'--warmup': 'nan' is not a finite number"),
        (("sweep", "{tiny}", "--warmup", "inf"), "'--warmup': 'inf' is not a finite number"),
        (("sweep", "{tiny}", "--budget", "inf"), "'--budget': 'inf' is not a finite number"),
        (("sweep", "{tiny}", "--inputs", "16x"), "--inputs: every input size must look like"),
        (("profile", "{tiny}", "-o", "{tmp}/no/such/folder.txt"), "folder"),
    ],
)
def test_bad_options_are_one_line(cli, tmp_path, args, expected):
    tiny = write_tiny(tmp_path)
    line = error_line(cli(*(a.format(tiny=tiny, tmp=tmp_path) for a in args)))
    assert expected in line, line
