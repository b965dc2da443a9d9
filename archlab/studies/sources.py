"""What a network argument is: a table (a shipped name, a YAML path, a NetSpec), a plan, or a torch module
(an ``nn.Module``, or ``FILE.py:CALLABLE`` / ``package.module:CALLABLE``), and its plan either way.

A module is traced (:func:`archlab.nn.trace.trace`) at the ``input`` override; the overrides that rewrite a
table (width, stem, head, embedding, classes) need a table and are refused on a module with the way to get
one (``archlab extract``). ``strict`` refuses plans with ops archlab has no rule for (opaque layers), traced
or from a table's primitive rows.
"""

from __future__ import annotations

from pathlib import Path

from archlab.errors import ArchlabError, OptionError
from archlab.ir.expand import expand
from archlab.ir.overrides import Overrides
from archlab.ir.plan import Plan, uncounted_line
from archlab.nn.model_source import is_module, load_module, loaded_name, looks_like_source
from archlab.spec.table import NetSpec

TABLE_ONLY = ("width", "stem_stride", "stem_pool", "head", "embedding", "classes")


def module_of(net):
    """The torch module ``net`` stands for (loading a ``FILE.py:CALLABLE`` source), or None for a table."""
    if is_module(net):
        return net
    if isinstance(net, str) and looks_like_source(net):
        return load_module(net)
    return None


def the_module(net):
    """``net`` as a module: a source text loaded, a module as it is (anything else passes through)."""
    found = module_of(net)
    return found if found is not None else net


def table_of(net) -> NetSpec:
    """The table ``net`` names: a NetSpec, a shipped name or a YAML path (never anything else as a path)."""
    from archlab.spec.table import load_table

    if isinstance(net, NetSpec):
        return net
    if not isinstance(net, (str, Path)):
        raise ArchlabError(
            f"expected a network name, a table path, a NetSpec or a torch.nn.Module, got {type(net).__name__}"
        )
    return load_table(net)


def label_of(net) -> str:
    if isinstance(net, NetSpec):
        return net.name
    if isinstance(net, Plan):
        return net.model
    return type(net).__name__ if is_module(net) else str(net)


def refuse_table_options(what: str, overrides: dict) -> None:
    for key in TABLE_ONLY:
        if overrides.get(key) not in (None, False):
            flag = "--" + key.replace("_", "-")
            raise OptionError(f"{what}: {flag} needs a table: run `archlab extract` first (then use the table)")


def trace_module(
    module, *, strict: bool = False, name: str | None = None, until: str | None = None, **overrides
) -> Plan:
    from archlab.nn.trace import trace

    # unknown keys and bad values: the same errors as for tables (a module's input may also be (C, H, W))
    Overrides.from_kwargs(**{k: v for k, v in overrides.items() if k != "input"})
    refuse_table_options(name or type(module).__name__, overrides)
    return trace(module, overrides.get("input"), name=name, strict=strict, until=until)


def traced_entries(entries, input=None, strict: bool = False) -> list:
    """Comparison entries with every torch module (or ``FILE.py:CALLABLE``) traced at ``input`` into its plan."""
    out = []
    for entry in entries:
        module = module_of(entry)
        if module is not None:
            extra = {"input": input} if input is not None else {}
            entry = trace_module(module, strict=strict, name=_source_name(entry), **extra)
        out.append(entry)
    return out


def model_name(net) -> str:
    """A module's name in outputs: the callable of a source text, else the class name."""
    return _source_name(net) or label_of(net)


def plan_of(net, *, strict: bool = False, **overrides) -> Plan:
    """The plan of any network argument (module docstring)."""
    if isinstance(net, Plan):
        plan = net
    else:
        module = module_of(net)
        if module is not None:
            return trace_module(module, strict=strict, name=_source_name(net), **overrides)
        plan = expand(table_of(net), Overrides.from_kwargs(**overrides))
    if strict and plan.uncounted():
        raise ArchlabError(f"{plan.model}: {uncounted_line(plan.uncounted())} (strict)")
    return plan


def _source_name(net) -> str | None:
    """A source text's callable names the model (``resnet18``), as does a module loaded from one (``--arg``); a
    module made elsewhere its class."""
    if isinstance(net, str):
        return net.rsplit(":", 1)[1]
    return loaded_name(net)
