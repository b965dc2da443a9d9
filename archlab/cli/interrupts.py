"""Ctrl-C at any moment: a SIGINT that arrives while a module is being imported is held until the import is
done, then raised as the KeyboardInterrupt the CLI turns into "archlab: interrupted" (exit 130).

Some imports (``import torch`` among them) swallow a KeyboardInterrupt raised inside them and go on, so without
this a Ctrl-C in the first seconds of a command could be lost and the command run to its end. While an import
is on the stack the handler only notes the signal and checks again every 0.1 s (SIGALRM); the interrupt is
raised once, outside any import, so code that catches it to save its results (``archlab sweep``) is not
interrupted twice.
"""

from __future__ import annotations

import signal

RECHECK_S = 0.1
_pending = [False]


def install() -> None:
    """Use the held-interrupt handler for SIGINT (the console entry point calls this first)."""
    signal.signal(signal.SIGINT, _on_sigint)
    signal.signal(signal.SIGALRM, _on_alarm)


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def _on_sigint(signum, frame) -> None:
    if _importing(frame):
        _pending[0] = True
        signal.setitimer(signal.ITIMER_REAL, RECHECK_S, RECHECK_S)
        return
    raise KeyboardInterrupt


def _on_alarm(signum, frame) -> None:
    if not _pending[0] or _importing(frame):
        return
    _pending[0] = False
    signal.setitimer(signal.ITIMER_REAL, 0)
    raise KeyboardInterrupt
