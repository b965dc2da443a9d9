"""archlab: analyse and profile mobile CNN architectures from declarative layer tables.

    >>> import archlab
    >>> p = archlab.profile("mobilefacenet")
    >>> p.totals["madds"]
    220965376
    >>> net = archlab.build("mobilefacenet", width=0.5)   # an nn.Module; imports torch

Every function of :mod:`archlab.api` is here, loaded on first use; heavy packages (torch, pandas) are imported
only by the functions that need them.
"""

from typing import TYPE_CHECKING

from archlab.errors import ArchlabError
from archlab.render import notebook as _notebook  # noqa: F401  (registers the records' notebook HTML)
from archlab.version import __version__

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load on first use
    from archlab.api import *  # noqa: F403

__all__ = ["ArchlabError", "__version__"]


def __getattr__(name: str):
    import importlib

    api = importlib.import_module("archlab.api")  # not `from archlab import api`: that asks this hook again
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'archlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    import importlib

    return sorted(set(globals()) | set(importlib.import_module("archlab.api").__all__))
