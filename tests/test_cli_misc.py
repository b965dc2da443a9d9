"""archlab.cli (app, completion): shell completion of network names and paths, the Conventions section of
`profile --help` and the README table it points to, and no torch without --check."""

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from archlab.cli.app import app


def complete(words: str, env_extra=None):
    env = {"_ARCHLAB_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    r = CliRunner().invoke(app, [], env={**env, **(env_extra or {})}, prog_name="archlab")
    r.items = [line.split(",", 1)[1] for line in r.output.split()]  # click prints "type,value" per candidate
    return r


def test_completion_of_network_names():
    r = complete("archlab profile mobilefacenet-")
    assert r.exit_code == 0
    assert r.items == ["mobilefacenet-insightface", "mobilefacenet-m", "mobilefacenet-s", "mobilefacenet-tf"]
    assert "mobilenetv1" in complete("archlab diff mobilefacenet mobilenet").items


def test_completion_of_yaml_paths(tmp_path, monkeypatch):
    (tmp_path / "my_net.yaml").write_text("x")
    (tmp_path / "my_notes.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    assert complete("archlab show my_").items == ["my_net.yaml"]


def test_install_completion_is_offered():
    r = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in r.output and "--show-completion" in r.output


def test_profile_help_has_conventions_pointing_to_readme():
    r = CliRunner().invoke(app, ["profile", "--help"])
    out = " ".join(r.output.split())
    assert "Conventions" in out and "README" in out and "fvcore, thop, ptflops and torchinfo" in out
    assert "--check" in out and "--units" in out and "--batch" in out


def test_readme_has_the_comparison_table():
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("## Counts you can trust") :]
    header = next(l for l in section.splitlines() if l.startswith("| quantity"))
    assert all(tool in header for tool in ("archlab", "fvcore", "thop", "ptflops", "torchinfo"))


def test_profile_without_check_does_not_import_torch():
    code = (
        "import sys; from click.testing import CliRunner; from archlab.cli.app import app; "
        "r = CliRunner().invoke(app, ['profile', 'mobilefacenet', '--units', 'flops', '--batch', '2']); "
        "assert r.exit_code == 0, r.output; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
