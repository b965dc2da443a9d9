"""archlab: analyse and profile mobile CNN architectures from declarative layer tables.

    >>> import archlab
    >>> p = archlab.profile("mobilefacenet")
    >>> p.totals["madds"]
    220965376
    >>> net = archlab.build("mobilefacenet", width=0.5)   # an nn.Module; imports torch

Every function of :mod:`archlab.api` is here; heavy packages (torch, pandas) are imported only by the
functions that need them.
"""

from archlab.api import (
    HEADS,
    build,
    ceilings,
    compare,
    crosscheck,
    deploy,
    diff,
    export,
    latency,
    lint,
    load_table,
    memory,
    networks,
    output_fields,
    plan,
    profile,
    report,
    rf,
    runtime_table,
    schema,
    sweep,
    table_errors,
)
from archlab.errors import ArchlabError
from archlab.version import __version__

__all__ = [
    "ArchlabError",
    "HEADS",
    "__version__",
    "build",
    "ceilings",
    "compare",
    "crosscheck",
    "deploy",
    "diff",
    "export",
    "latency",
    "lint",
    "load_table",
    "memory",
    "networks",
    "output_fields",
    "plan",
    "profile",
    "report",
    "rf",
    "runtime_table",
    "schema",
    "sweep",
    "table_errors",
]
