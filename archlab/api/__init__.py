"""The Python API: one function for every command; the CLI is a thin layer over it.

``net`` is a shipped network name (``mobilefacenet``), a path to a YAML table, a :class:`NetSpec`, or a torch
module: an ``nn.Module`` or a ``FILE.py:CALLABLE`` / ``package.module:CALLABLE`` source (traced,
:func:`trace`); ``**overrides`` are the table overrides (``input``, ``width``, ``stem_stride``, ``stem_pool``,
``head``, ``embedding``, ``classes``; :mod:`archlab.ir.overrides`); a module takes ``input`` only (the others
need a table: :func:`extract`). ``strict=True`` refuses networks with ops archlab has no rule for. Functions
that need torch import it themselves; for tables ``plan``, ``profile``, ``memory``, ``lint``, ``diff`` and
``compare`` (without latency) never do.

The functions live in four modules by what they need: :mod:`archlab.api.tables` (tables, modules, plans),
:mod:`archlab.api.analyses` (counts, memory, lint, diff, compare), :mod:`archlab.api.measure` (build, check,
latency, runtimes, deploy, export: torch) and :mod:`archlab.api.studies` (rf, heads, sweep, report: torch).
"""

from __future__ import annotations

from archlab.api.analyses import compare, diff, entries, lint, memory, output_fields, profile
from archlab.api.measure import build, ceilings, crosscheck, deploy, export, latency, runtime_table
from archlab.api.studies import heads, report, rf, sweep
from archlab.api.tables import (
    Net,
    extract,
    is_source,
    load_module,
    load_table,
    network_names,
    networks,
    plan,
    schema,
    table_errors,
    trace,
    units,
    weights_map,
)
from archlab.spec.rows.head import POOLS as HEADS
from archlab.timing.resources import MemoryLimitError, ResourceNote

__all__ = [
    "HEADS",
    "MemoryLimitError",
    "Net",
    "ResourceNote",
    "build",
    "ceilings",
    "compare",
    "crosscheck",
    "deploy",
    "diff",
    "entries",
    "export",
    "heads",
    "extract",
    "is_source",
    "latency",
    "lint",
    "load_module",
    "load_table",
    "memory",
    "network_names",
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
    "trace",
    "units",
    "weights_map",
]
