"""Making large results quickly: the cyclic garbage collector paused while they are built.

Expanding a 20,000-row table makes a few hundred thousand layers and as many dicts for its JSON; none of them
form reference cycles, yet CPython's collector walks the growing heap again and again while they are made (a
third of the time of ``archlab profile`` on such a table). :func:`paused_gc` switches it off for one bulk
step and back on after (only if it was on: nested steps and callers who disabled it are left alone).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside the block (reference counting frees everything as usual)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
