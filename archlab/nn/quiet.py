"""Optional packages (is it installed? what to install) and silencing exporters, tracers and profilers."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings

from archlab.errors import ArchlabError

NOISY_LOGGERS = ("torch.onnx", "torch._dynamo", "torch.export", "onnxscript")


def importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def require_packages(packages: tuple[str, ...], what: str) -> None:
    """An ArchlabError naming what to pip install when any of ``packages`` is missing."""
    missing = [m for m in packages if not importable(m)]
    if missing:
        raise ArchlabError(f"{what} needs the packages {', '.join(missing)}: pip install {' '.join(missing)}")


@contextlib.contextmanager
def quiet():
    """Silence exporters and tracers: their warnings and progress lines are not the user's business here."""
    loggers = [logging.getLogger(n) for n in NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


@contextlib.contextmanager
def quiet_stderr():
    """The profiler's C++ start/stop lines go to file descriptor 2 directly: silence it around them."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
