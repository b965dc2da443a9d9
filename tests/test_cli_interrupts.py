"""archlab/cli/interrupts.py: a SIGINT during an import is held (some imports swallow a KeyboardInterrupt) and
raised once, outside any import; outside imports it is raised at once. The end-to-end check (Ctrl-C in the
first second of `archlab rf` -> exit 130) is in test_cli_errors.py."""

import signal
from types import SimpleNamespace

import pytest

from archlab.cli import interrupts


def frames(*files):
    """A fake frame stack, innermost first."""
    frame = None
    for name in reversed(files):
        frame = SimpleNamespace(f_code=SimpleNamespace(co_filename=name), f_back=frame)
    return frame


IMPORTING = frames("torch/__init__.py", "<frozen importlib._bootstrap>", "archlab/nn/build.py")
RUNNING = frames("archlab/nn/build.py", "archlab/cli/app.py")


@pytest.fixture
def no_timer(monkeypatch):
    armed = []
    monkeypatch.setattr(signal, "setitimer", lambda which, t, interval=0.0: armed.append(t))
    monkeypatch.setattr(interrupts, "_pending", [False])
    return armed


def test_outside_an_import_the_interrupt_is_raised_at_once(no_timer):
    with pytest.raises(KeyboardInterrupt):
        interrupts._on_sigint(signal.SIGINT, RUNNING)
    assert no_timer == []


def test_inside_an_import_it_is_held_then_raised_once_outside(no_timer):
    interrupts._on_sigint(signal.SIGINT, IMPORTING)  # held: no exception inside the import
    assert interrupts._pending == [True] and no_timer == [interrupts.RECHECK_S]
    interrupts._on_alarm(signal.SIGALRM, IMPORTING)  # still importing: still held
    with pytest.raises(KeyboardInterrupt):
        interrupts._on_alarm(signal.SIGALRM, RUNNING)
    assert interrupts._pending == [False] and no_timer[-1] == 0
    interrupts._on_alarm(signal.SIGALRM, RUNNING)  # raised once: a later alarm does nothing
