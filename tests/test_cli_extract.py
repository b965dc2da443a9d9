"""`archlab extract SRC` (archlab/cli/extract_cmd.py, issue 12): a module source as a layer table on stdout or
in a file (atomically, with a one-line summary), its counts those of the module, --arg/--name/--strict, and
bad sources as one line with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import archlab
from tests.helpers.cli import one_line_error
from tests.helpers.small_models import params_of, write_small

pytestmark = pytest.mark.usefixtures("single_threaded_torch")
ROOT = Path(__file__).resolve().parent.parent
MADDS_32 = 27 * 8 * 256 + 9 * 8 * 256 + 8 * 16 * 256 + 16 * 5  # stem, depthwise, pointwise (16x16), linear


@pytest.fixture
def small(tmp_path) -> str:
    return f"{write_small(tmp_path)}:small"


def test_the_table_on_stdout_has_the_modules_counts(cli, small, tmp_path):
    r = cli("extract", small, "--input", "32x32")
    assert r.exit_code == 0, r.output
    table = yaml.safe_load(r.stdout)
    assert table["name"] == "small" and table["input"] == [32, 32]
    path = tmp_path / "t.yaml"
    path.write_text(r.stdout, encoding="utf-8")
    module = archlab.load_module(small)
    totals = archlab.plan(path).totals()
    assert totals["params"] == sum(p.numel() for p in module.parameters()) == params_of()
    assert totals["madds"] == MADDS_32
    assert totals == archlab.trace(module, (32, 32)).totals()
    assert r.stderr == ""


def test_o_writes_the_file_and_one_summary_line(cli, small, tmp_path):
    out = tmp_path / "small.yaml"
    r = cli("extract", small, "--input", "32x32", "--arg", "width=4", "--arg", "classes=3", "-o", out)
    assert r.exit_code == 0, r.output
    line = r.stdout.strip()
    assert "\n" not in line and line.startswith(f"wrote {out}: small, ")
    spec = archlab.load_table(out)
    assert f"{len(spec.rows)} rows" in line and "+ head" in line
    assert f"{params_of(4, 3):,} params" in line and "(checked)" in line
    module = archlab.load_module(small, ["width=4", "classes=3"])
    assert archlab.plan(out).totals() == archlab.trace(module, (32, 32)).totals()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_name_names_the_table(cli, small, tmp_path):
    out = tmp_path / "n.yaml"
    assert cli("extract", small, "--input", "32x32", "--name", "tiny-one", "-o", out).exit_code == 0
    assert archlab.load_table(out).name == "tiny-one"


def test_an_example_model_round_trips(cli, tmp_path):
    out = tmp_path / "r18.yaml"
    r = cli("extract", f"{ROOT}/examples/models/resnet.py:resnet18", "--input", "64x64", "-o", out)
    assert r.exit_code == 0, r.output
    module = archlab.load_module(f"{ROOT}/examples/models/resnet.py:resnet18")
    assert archlab.plan(out).totals()["params"] == sum(p.numel() for p in module.parameters()) == 11_689_512


def test_strict_refuses_ops_without_a_rule_and_names_them(cli, tmp_path):
    unruly = f"{ROOT}/tests/helpers/modules.py:Unruly"
    out = tmp_path / "u.yaml"
    one_line_error(cli("extract", unruly, "--input", "16x16", "--strict", "-o", out), "torch.cumsum", "(strict)")
    assert not out.exists()
    r = cli("extract", unruly, "--input", "16x16", "-o", out)  # without --strict: primitive rows, listed
    assert r.exit_code == 0, r.output
    assert "torch.cumsum" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("callable_", "needles"),
    [
        ("raises", ("calling it raised RuntimeError: no weights here",)),
        ("not_a_module", ("returned int, not a torch.nn.Module",)),
        ("nothing", ("has no 'nothing'", "small")),
    ],
)
def test_a_bad_callable_is_one_line(cli, tmp_path, callable_, needles):
    src = f"{write_small(tmp_path)}:{callable_}"
    one_line_error(cli("extract", src, "--input", "32x32"), *needles)


def test_bad_sources_and_options_are_one_line(cli, small, tmp_path):
    write_small(tmp_path)
    one_line_error(cli("extract", f"{tmp_path}/broken.py:f", "--input", "8x8"), "importing", "ModuleNotFoundError")
    one_line_error(cli("extract", f"{tmp_path}/none.py:f", "--input", "8x8"), "no such file")
    one_line_error(cli("extract", "mobilefacenet", "--input", "8x8"), "expected FILE.py:CALLABLE")
    one_line_error(cli("extract", small, "--input", "32x32", "--arg", "depth=3"), "takes no argument 'depth'")
    one_line_error(cli("extract", small), "--input")
    one_line_error(cli("extract", small, "--input", "32x32", "-o", "/dev/null"), "not a regular file")
    one_line_error(cli("extract", small, "--input", "32x32", "-o", tmp_path / "no" / "t.yaml"), "does not exist")
