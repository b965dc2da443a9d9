"""Issue 15's error style at the command line: option errors on one line in archlab's format (never Typer's
boxed panel), `--debug` accepted anywhere and keeping the real exit code, SIGINT at any moment -> "interrupted",
exit 130, no traceback, `-o -` for standard output."""

import signal
import subprocess
import sys
import time

import pytest

from tests.helpers.bounded import archlab, env, one_error_line, write_tiny

BOX = ("╭", "╰", "│", "Usage:")


@pytest.mark.parametrize(
    "args, names",
    [
        (("profile", "{tiny}", "--width", "abc"), "--width"),
        (("profile", "{tiny}", "--latency", "--threads", "0"), "--threads"),
        (("profile", "{tiny}", "--format", "xml"), "--format"),
        (("profile", "{tiny}", "--no-such-option"), "--no-such-option"),
    ],
)
def test_option_errors_are_one_archlab_line(tmp_path, args, names):
    tiny = write_tiny(tmp_path)
    result = archlab(*(a.format(tiny=tiny) for a in args), timeout=30)
    line = one_error_line(result)
    assert names in line
    assert not any(mark in result.stderr for mark in BOX), result.stderr
    assert len([x for x in result.stderr.splitlines() if x.strip()]) == 1


def test_debug_after_the_command_shows_the_traceback_and_keeps_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: [16, 16]\nrows:\n  - {type: conv, c: .nan}\n")
    result = archlab("validate", bad, "--debug", timeout=30)
    assert result.returncode == 2  # validate's findings are its output: listed, not raised
    assert "field 'c': expected an integer, got nan" in result.stderr
    result = archlab("profile", bad, "--debug", timeout=30)
    assert result.returncode == 2 and "Traceback" in result.stderr


@pytest.mark.parametrize("after", [0.3, 0.8])
def test_sigint_in_the_first_second_is_interrupted_exit_130(tmp_path, after):
    """Ctrl-C while the command is still importing torch or building the network (a KeyboardInterrupt
    traceback from build.py before the rewrite)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "archlab", "rf", "mobilefacenet", "--samples", "1"],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after)  # not a timed assertion: the signal lands somewhere in the first second, any place is fine
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr and "Traceback" not in stderr


def test_dash_output_is_standard_output(tmp_path):
    tiny = write_tiny(tmp_path)
    result = archlab("profile", tiny, "-f", "json", "-o", "-", timeout=30, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.lstrip().startswith("{")
    assert not (tmp_path / "-").exists()
