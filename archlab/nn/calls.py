"""Names of the torch callables a traced module calls, and the way back from a name to the callable.

A traced call is named as a user would write it: ``torch.cumsum``, ``torch.fft.rfft2``, ``F.gelu`` (for
``torch.nn.functional``), ``Tensor.view``, ``operator.truediv``, ``nn.LayerNorm`` (a module), or the qualified
name of anything else (a custom ``autograd.Function``: ``mypackage.layers.Swish.apply``).

:func:`resolve` turns a name back into a callable only for torch's tensor functions (those
``torch.overrides`` lists), Tensor methods and the arithmetic of :mod:`operator`: a table that names a
function can make archlab call nothing else (no ``torch.load``, no ``os.system``).
"""

from __future__ import annotations

import json
import operator
from functools import lru_cache

from archlab.errors import ArchlabError

NAMESPACES = (
    ("torch", "torch"),
    ("F", "torch.nn.functional"),
    ("torch.fft", "torch.fft"),
    ("torch.linalg", "torch.linalg"),
    ("torch.special", "torch.special"),
)
OPERATORS = (
    "add",
    "sub",
    "mul",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "neg",
    "pos",
    "abs",
    "matmul",
    "getitem",
    "iadd",
    "isub",
    "imul",
    "itruediv",
    "and_",
    "or_",
    "xor",
    "invert",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
)


@lru_cache(maxsize=1)
def _names() -> dict[int, str]:
    """id(callable) -> its public name, over torch's function namespaces (first namespace wins)."""
    import importlib

    out: dict[int, str] = {}
    for prefix, module_name in NAMESPACES:
        module = importlib.import_module(module_name)
        for attr in dir(module):
            if attr.startswith("__"):
                continue
            value = getattr(module, attr, None)
            if callable(value) and not isinstance(value, type):
                out.setdefault(id(value), f"{prefix}.{attr}")
    for attr in OPERATORS:
        out.setdefault(id(getattr(operator, attr)), f"operator.{attr}")
    return out


def call_name(target) -> str:
    """The name of a traced call's target: a method name (fx ``call_method``), a function or a module class."""
    import torch

    if isinstance(target, str):
        return f"Tensor.{target}"
    own = getattr(target, "archlab_name", None)  # a custom autograd Function's apply (archlab.nn.trace_walk)
    if isinstance(own, str):
        return own
    if isinstance(target, type) and issubclass(target, torch.nn.Module):
        mod = target.__module__
        return f"nn.{target.__name__}" if mod.startswith("torch.nn") else f"{mod}.{target.__qualname__}"
    name = _names().get(id(target))
    if name is not None:
        return name
    owner = getattr(target, "__objclass__", None)
    attr = getattr(target, "__name__", None)
    if owner is not None and attr and getattr(torch.Tensor, attr, None) is not None:
        return f"Tensor.{attr}"
    self_ = getattr(target, "__self__", None)
    if isinstance(self_, type) and issubclass(self_, torch.autograd.Function):
        return f"{self_.__module__}.{self_.__qualname__}.{attr}"
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', attr or repr(target))}"


@lru_cache(maxsize=1)
def _allowed() -> frozenset[int]:
    import torch

    found = {id(f) for group in torch.overrides.get_overridable_functions().values() for f in group}
    return frozenset(found | {id(getattr(operator, attr)) for attr in OPERATORS})


def resolve(name: str):
    """The callable a name stands for, if it is one archlab may call from a table (module docstring)."""
    import importlib

    import torch

    target = None
    head, _, attr = name.rpartition(".")
    if head == "Tensor":
        target = getattr(torch.Tensor, attr, None)
    elif head == "operator":
        target = getattr(operator, attr, None) if attr in OPERATORS else None
    else:
        module_name = dict(NAMESPACES).get(head)
        if module_name is not None:
            target = getattr(importlib.import_module(module_name), attr, None)
    if target is None or (head != "Tensor" and id(target) not in _allowed()):
        raise ArchlabError(
            f"archlab will not call {name!r}: a table may name torch's tensor functions (torch.*, F.*, "
            "torch.fft.*), Tensor methods and operator arithmetic only"
        )
    return target


def recipe(target, args: tuple, kwargs: dict, tensor_index, item: int | None = None) -> str:
    """The JSON that calls ``target`` again (:class:`archlab.nn.modules.Call`): constants as they were, each
    tensor argument as ``{"tensor": i}`` (``tensor_index(t)`` -> i). Explains why when it cannot."""
    try:
        name = call_name(target)
        if resolve(name) is not target and not isinstance(target, str):
            raise ArchlabError("not a torch function")
        encoded = {"args": _encode(list(args), tensor_index), "kwargs": _encode(dict(kwargs), tensor_index)}
    except (ArchlabError, TypeError) as e:
        return json.dumps({"item": item, "why": f"it cannot be called again from a table ({e})"})
    return json.dumps({**encoded, "item": item}, separators=(",", ":"))


def _encode(value, tensor_index):
    import torch

    if isinstance(value, torch.Tensor):
        return {"tensor": tensor_index(value)}
    if isinstance(value, (list, tuple)):
        return [_encode(v, tensor_index) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, tensor_index) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"argument {type(value).__name__} is not a constant")


def module_recipe(module, item: int | None = None) -> str:
    """The JSON that makes a torch.nn module again (``{"module": "nn.SiLU", "kwargs": {...}}``): its
    constructor's arguments read back from its attributes; explains why when they cannot be."""
    import inspect

    import torch

    cls = type(module)
    try:
        if not cls.__module__.startswith("torch.nn"):
            raise TypeError("not a torch.nn module")
        kwargs = {}
        for name, p in inspect.signature(cls.__init__).parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name in ("device", "dtype"):
                continue
            if not hasattr(module, name):
                if p.default is p.empty:
                    raise TypeError(f"its argument {name} is not an attribute")
                continue
            value = getattr(module, name)
            if isinstance(value, torch.Tensor) or value is None and isinstance(p.default, bool):
                value = value is not None  # bias=True/False stored as a parameter or None
            kwargs[name] = _encode(value, None)
    except (TypeError, ValueError) as e:
        return json.dumps({"item": item, "why": f"it cannot be made again from a table ({e})"})
    return json.dumps({"module": call_name(cls), "kwargs": kwargs, "item": item}, separators=(",", ":"))


def resolve_module(name: str):
    """The torch.nn module class a name stands for (``nn.SiLU``); only torch.nn classes."""
    import torch

    head, _, attr = name.rpartition(".")
    cls = getattr(torch.nn, attr, None) if head == "nn" else None
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ArchlabError(f"archlab will not make {name!r}: a table may name torch.nn modules only (nn.SiLU, ...)")
    return cls
