"""archlab.static.lint through `archlab lint` and the lint notes of `archlab profile`: every rule fires where
it should (and names the row), and the shipped networks that should be clean are."""

import json


def test_lint(cli):
    r = cli("lint", "mobilefacenet-tf")
    assert r.exit_code == 1 and "global-dw-coverage" in r.stdout and "sees 9 of 49 positions" in r.stdout
    assert "mobilefacenet-tf.yaml:20" in r.stdout  # names the row's line
    r = cli("lint", "mobilefacenet")
    assert r.exit_code == 0 and "clean" in r.stdout
    d = json.loads(cli("lint", "mobilenetv2", "--input", "112x112", "--embedding", "128", "-f", "json").stdout)
    rules = {f["rule"] for f in d["findings"]}
    assert "small-fmap-end" in rules  # 4x4 FMap-end: the paper's reason for stride 1
    r = cli("lint", "mobilenetv2", "--input", "112x112", "--embedding", "128", "--stem-stride", "1")
    assert "small-fmap-end" not in r.stdout


def test_lint_rf_rules_and_profile_notes(cli, write_table):
    r = cli("lint", "mobilenetv1", "--input", "600x600", "-f", "json")
    rules = [f["rule"] for f in json.loads(r.stdout)["findings"]]
    assert r.exit_code == 1 and "rf-coverage" in rules  # RF 315 < 600
    p = write_table("""
        name: misaligned
        input: [16, 16]
        rows:
          - {type: conv, id: a, c: 4, k: 3, s: 2}
          - {type: conv, c: 4, k: 2, s: 2, padding: valid, from: input}
          - {type: concat, from: [a, -1]}
    """)
    r = cli("lint", p, "-f", "json")
    found = {f["rule"]: f for f in json.loads(r.stdout)["findings"]}
    assert "rf-misaligned" in found and found["rf-misaligned"]["row"] == 2
    out = cli("profile", "mobilefacenet-tf").stdout
    assert "lint: " in out and "sees 9 of 49 positions" in out
    assert json.loads(cli("profile", "mobilefacenet", "-f", "json").stdout)["lint"] == []
