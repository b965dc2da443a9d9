"""archlab: analyse and profile mobile CNN architectures from declarative layer tables.

    >>> import archlab
    >>> p = archlab.profile("mobilefacenet")
    >>> p.totals["madds"]
    220965376
    >>> net = archlab.build("mobilefacenet", width=0.5)   # an nn.Module; imports torch

Heavy packages (torch, pandas) are imported only by the functions that need them.
"""

# The submodules archlab.plan and archlab.build share their names with API functions: load them first so
# that the functions bound below are what `archlab.plan` and `archlab.build` mean (neither imports torch).
import archlab.build  # noqa: E402,F401
import archlab.plan  # noqa: E402,F401
from archlab.api import build, load_table, plan, profile
from archlab.api import crosscheck, diff, memory  # noqa: E402
from archlab.api import compare, report  # noqa: E402
from archlab.errors import ArchlabError

__version__ = "0.1.0"

__all__ = ["ArchlabError", "__version__", "build", "load_table", "plan", "profile"]
__all__ += ["crosscheck", "diff", "memory"]
__all__ += ["compare", "report"]
