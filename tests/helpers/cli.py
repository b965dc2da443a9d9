"""Checks on CLI results (the click ``Result`` the ``cli`` fixture returns)."""


def one_line_error(result, *needles: str) -> str:
    """A user error: exit code 2, one line on stderr starting ``archlab: error: `` and holding every needle,
    and no traceback anywhere. Returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert "\n" not in err, err
    assert err.startswith("archlab: error: "), err
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    assert "Traceback" not in result.stderr + result.stdout + result.output
    return err
