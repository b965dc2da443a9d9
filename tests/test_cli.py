"""archlab.cli end to end: list, show, profile in every format; JSON contract; atomic output; no heavy imports."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import archlab


def test_version(cli):
    r = cli("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"archlab {archlab.__version__}"


@pytest.mark.parametrize("command", ["list", "show", "profile"])
def test_every_help_has_an_example(cli, command):
    r = cli(command, "--help")
    assert r.exit_code == 0 and "Example: archlab" in r.stdout


def test_profile_help_states_conventions(cli):
    out = cli("profile", "--help").stdout
    assert "Conventions" in out and "multiply-adds of conv and linear" in out and "README" in out


def test_profile_table_plain_when_piped(cli):
    r = cli("profile", "mobilefacenet")
    assert r.exit_code == 0
    out = r.stdout
    assert "\x1b[" not in out  # no terminal styling when stdout is not a terminal
    assert "220,965,376" in out and "1,003,136" in out and "993,344" in out
    assert "published madds: 221M -> archlab 220,965,376 (-0.02%)" in out
    assert "conventions:" in out


def test_profile_json_contract(cli):
    r = cli("profile", "mobilefacenet", "--format", "json")
    d = json.loads(r.stdout)
    assert d["schema_version"] == 1 and d["model"] == "mobilefacenet" and d["input"] == [3, 112, 112]
    assert d["totals"] == {
        "params": 1_003_136,
        "params_deployed": 993_344,
        "madds": 220_965_376,
        "other_ops": 9_534_720,
        "activations": 3_205_632,
    }
    assert d["published"]["figures"] == {"madds": 221_000_000, "params_deployed": 990_000}
    assert "rows" in d and "layers" in d and len(d["rows"]) == 9
    layer = d["layers"][0]
    for key in (
        "name",
        "op",
        "in",
        "out",
        "kernel",
        "stride",
        "padding",
        "groups",
        "params",
        "madds",
        "other_ops",
        "activations",
    ):
        assert key in layer
    assert layer["name"] == "0.0.conv" and layer["in"] == [3, 112, 112] and layer["out"] == [64, 56, 56]
    assert all(isinstance(l["madds"], int) for l in d["layers"])
    assert sum(l["madds"] for l in d["layers"]) == d["totals"]["madds"]
    assert sum(r["params"] for r in d["rows"]) == d["totals"]["params"]


def test_profile_json_with_options(cli):
    d = json.loads(cli("profile", "mobilefacenet", "--input", "112x96", "--head", "gap", "-f", "json").stdout)
    assert d["options"] == {"input": [112, 96], "head": "gap"}
    assert d["input"] == [3, 112, 96]
    assert d["published"]["figures"] == {}  # published figures apply to the default network only


def test_profile_csv_layers(cli):
    r = cli("profile", "mobilenetv2", "--depth", "layer", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    body = [x for x in rows if x["name"] != "total"]
    assert sum(int(x["madds"]) for x in body) == 300_774_272
    assert rows[-1]["name"] == "total" and int(rows[-1]["madds"]) == 300_774_272


def test_profile_markdown(cli):
    out = cli("profile", "xception", "-f", "md").stdout
    assert out.startswith("xception: input 3x299x299")
    assert "| row | type |" in out and "| 8,357,403,496 |" in out


def test_output_file_is_written_atomically(cli, tmp_path):
    target = tmp_path / "mfn.json"
    target.write_text("old contents")
    r = cli("profile", "mobilefacenet", "-f", "json", "-o", target)
    assert r.exit_code == 0 and r.stdout == ""
    assert json.loads(target.read_text())["model"] == "mobilefacenet"
    assert [p.name for p in tmp_path.iterdir()] == ["mfn.json"]  # no temp file left behind


def test_failed_run_keeps_previous_output(cli, tmp_path):
    target = tmp_path / "keep.json"
    target.write_text("previous results")
    r = cli("profile", "mobilefacenet", "--width", "0", "-f", "json", "-o", target)
    assert r.exit_code == 2 and target.read_text() == "previous results"


def test_list(cli):
    out = cli("list").stdout
    for name in ("mobilefacenet", "mobilefacenet-m", "mobilefacenet-s", "mobilenetv1", "mobilenetv2", "xception"):
        assert name in out
    d = json.loads(cli("list", "-f", "json").stdout)
    by = {n["name"]: n for n in d["networks"]}
    assert by["mobilenetv1"]["madds"] == 568_740_352 and by["xception"]["params"] == 22_855_952
    assert by["mobilefacenet"]["published"] == {"madds": 221_000_000, "params_deployed": 990_000}


def test_show_resolved_rows_with_shapes(cli):
    d = json.loads(cli("show", "mobilefacenet-s", "-f", "json").stdout)
    assert d["extends"][0].endswith("mobilefacenet-m.yaml") and d["extends"][1].endswith("mobilefacenet.yaml")
    assert [r["type"] for r in d["rows"]][-2:] == ["bottleneck", "head"]  # conv6_sep removed by `edit`
    assert d["rows"][-1]["in"] == [128, 7, 7] and d["rows"][-1]["out"] == [128]
    out = cli("show", "mobilefacenet", "--stem-pool").stdout
    assert "pool=true" in out and "64x56x56" in out


def test_depth_layer_table(cli):
    out = cli("profile", "mobilefacenet", "--depth", "layer").stdout
    assert "head.gdconv.dw" in out and "7x7" in out


def test_python_api_frames():
    prof = archlab.profile("mobilefacenet")
    df = prof.to_frame()
    assert int(df["madds"].sum()) == 220_965_376 and list(df["name"])[:2] == ["0.0.conv", "0.0.bn"]
    rows = prof.to_frame("row")
    assert len(rows) == 9 and int(rows["params"].sum()) == 1_003_136


def test_profile_does_not_import_heavy_packages():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from archlab.cli.app import app\n"
        "r = CliRunner().invoke(app, ['profile', 'mobilefacenet', '-f', 'json'])\n"
        "assert r.exit_code == 0, r.stderr\n"
        "heavy = [m for m in ('torch', 'pandas', 'matplotlib', 'fvcore', 'thop', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_console_script_runs():
    exe = str(Path(sys.executable).parent / "archlab")
    r = subprocess.run([exe, "profile", "mobilefacenet-m", "-f", "csv"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("row,type,fields")
    r = subprocess.run([exe, "profile", "nosuch"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_python_dash_m_archlab_runs():
    """archlab.__main__ (the sweep kill tests run sweeps this way, in the slow lane)."""
    r = subprocess.run([sys.executable, "-m", "archlab", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"archlab {archlab.__version__}"
