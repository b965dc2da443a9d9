"""`archlab heads`: bad options are one line and exit code 2, before anything is trained."""

import pytest


@pytest.mark.parametrize(
    "args, needle",
    [
        (("--heads", "gap,max"), "--heads"),
        (("--heads", ","), "--heads"),
        (("--steps", "0"), "--steps"),
        (("--width", "nan"), "--width"),
        (("--workers", "0"), "--workers"),
        (("--trained-head", "gap"), "No such option"),
    ],
)
def test_bad_options(cli, args, needle):
    res = cli("heads", "mobilefacenet", *args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_an_out_that_is_a_file_is_refused(cli, tmp_path):
    (tmp_path / "f").write_text("x")
    res = cli("heads", "mobilefacenet", "--out", tmp_path / "f")
    assert res.exit_code == 2 and "not a folder" in res.stderr


def test_unknown_network(cli):
    res = cli("heads", "nope")
    assert res.exit_code == 2 and "unknown network 'nope'" in res.stderr


def test_trained_head_needs_weights(cli):
    res = cli("rf", "mobilefacenet", "--trained-head", "gap")
    assert res.exit_code == 2 and "--weights" in res.stderr
