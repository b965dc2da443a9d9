"""Reading tables and torch modules into plans, and the shipped networks (no torch for tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archlab.errors import OptionError
from archlab.ir.expand import expand
from archlab.ir.plan import Plan
from archlab.spec.registry import resolve
from archlab.spec.table import NetSpec

Net = str | Path | NetSpec | Any  # ... or a torch.nn.Module


def load_table(net: Net) -> NetSpec:
    """Read and validate a table: a shipped network name (``mobilefacenet``) or a path to a YAML file."""
    from archlab.studies.sources import module_of, table_of

    if not isinstance(net, (str, Path, NetSpec)) and module_of(net) is not None:
        raise OptionError(f"a {type(net).__name__} module is not a table: archlab.extract(module, input=...) makes one")
    return table_of(net)


def plan(net: Net, *, strict: bool = False, **overrides) -> Plan:
    """Expand a table into primitive layers (no torch), or trace a module (:func:`trace`)."""
    from archlab.studies.sources import plan_of

    return plan_of(net, strict=strict, **overrides)


def load_module(source: str, args: list[str] | dict | None = None):
    """The ``nn.Module`` of ``FILE.py:CALLABLE`` / ``package.module:CALLABLE``, called with ``args`` (``--arg``)."""
    from archlab.nn.model_source import load_module as load

    return load(source, args)


def is_source(text) -> bool:
    """``text`` is a module source, ``FILE.py:CALLABLE`` or ``package.module:CALLABLE`` (not a table, no torch)."""
    from archlab.nn.model_source import looks_like_source

    return looks_like_source(text)


def trace(module, input=None, *, name: str | None = None, strict: bool = False) -> Plan:
    """The plan of a torch module (or source) at ``input`` ((H, W), (C, H, W), ``"224x224"``): :mod:`archlab.nn.trace`;
    ops without a rule are listed (``Plan.uncounted()``) and refused with ``strict``."""
    from archlab.nn.trace import trace as run
    from archlab.studies.sources import the_module

    return run(the_module(module), input, name=name, strict=strict)


def extract(module, input=None, *, out=None, name: str | None = None, strict: bool = False) -> NetSpec:
    """A torch module (or source) as a layer table, checked (same layers, params, MAdds and shapes as the trace),
    then written as YAML to ``out`` when given (a path, atomically, or a text stream);
    ``build(table, weights=module, key_map="auto")`` runs like it (:mod:`archlab.studies.extract`). ``strict``
    refuses ops archlab has no counting rule for."""
    from archlab.studies.extract import extract as run
    from archlab.studies.sources import the_module

    return run(the_module(module), input, out=out, name=name, strict=strict)


def weights_map(source, net: Net, *, out: str | Path | None = None, **overrides) -> dict:
    """What ``key_map="auto"`` maps (checkpoint key -> network key) from ``source`` (checkpoint, state_dict or
    nn.Module, or a ``FILE.py:CALLABLE`` source) to ``net``'s build; written as YAML to ``out`` when given
    (atomically). Refused (ArchlabError naming the first mismatch) when the match is ambiguous or incomplete."""
    from archlab.nn.key_map import weights_map as find
    from archlab.studies.sources import the_module

    return find(the_module(source), plan(net, **overrides), out=out)


def table_errors(path: str | Path) -> tuple[str, list, Plan | None]:
    """Every error of a table file at once (``archlab validate``): (the file, the errors, its plan if valid)."""
    from archlab.errors import ArchlabError
    from archlab.spec.table import checked_table

    file = resolve(str(path))
    spec, errors = checked_table(file)  # one reading of the file
    result = None
    if spec is not None:
        try:
            result = expand(spec)  # shape errors: the first one (later shapes depend on it)
        except ArchlabError as e:
            errors = [e]
    return str(file), errors, result


def networks() -> list[dict]:
    """The shipped networks: name, input, params, params_deployed, MAdds, published figures, description."""
    from archlab.spec import registry

    out = []
    for name in registry.names():
        spec = load_table(name)
        tot = expand(spec).totals()
        out.append(
            {
                "name": name,
                "input": [spec.in_channels, *spec.input],
                "params": tot["params"],
                "params_deployed": tot["params_deployed"],
                "madds": tot["madds"],
                "published": {k: v for k, v in spec.published.items() if k != "note"},
                "description": spec.description,
            }
        )
    return out


def schema() -> dict:
    """A JSON Schema of the table format (for editors)."""
    from archlab.spec.schema import table_schema

    return table_schema()


def network_names() -> list[str]:
    """The shipped networks' names."""
    from archlab.spec import registry

    return registry.names()


def units(compute: str = "madds", batch: int = 1):
    """The units counts are reported in: ``madds`` or ``flops`` (= 2 x MAdds), per batch of ``batch`` images."""
    from archlab.static.units import Units

    return Units(compute, batch)
