"""A user's model as a source text: ``FILE.py:CALLABLE`` or ``package.module:CALLABLE`` -> the ``nn.Module``.

The callable (a function or a class) is called with no arguments, or with ``key=value`` arguments (CLI
``--arg key=value``, values read as YAML scalars: ``width_mult=0.5``, ``pretrained=false``,
``blocks=[1,4,6,2]``). A file inside a package (a folder with ``__init__.py``) is imported as that package's
module, so its relative imports work. Every failure is one :class:`ArchlabError` naming the file and the
callable: no such file, the file does not import, no such callable, it needs arguments, it raised, it did not
return a module.

:func:`is_module` tells a module from a path or a name without importing torch (an ``nn.Module`` passed where
a table path is expected is never turned into a path).
"""

from __future__ import annotations

import re
import sys
import weakref
from pathlib import Path

from archlab.errors import ArchlabError, OptionError

DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
SOURCE = re.compile(rf"^(?P<where>.+\.py|{DOTTED}):(?P<name>{DOTTED})$")


def is_module(obj) -> bool:
    """``obj`` is a ``torch.nn.Module`` (False, without importing torch, when torch is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def looks_like_source(text) -> bool:
    """``FILE.py:CALLABLE`` or ``package.module:CALLABLE`` (not ``NAME:key=value``, a comparison entry)."""
    return isinstance(text, str) and SOURCE.match(text.strip()) is not None and not Path(text).is_file()


def parse_args(pairs: list[str] | dict | None) -> dict:
    """``["width_mult=0.5", "num_classes=10"]`` -> ``{"width_mult": 0.5, "num_classes": 10}`` (YAML scalars)."""
    if isinstance(pairs, dict):
        return dict(pairs)
    import yaml

    out: dict = {}
    for text in pairs or []:
        key, sep, value = text.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise OptionError(f"--arg {text!r}: expected key=value (e.g. --arg width_mult=0.5)")
        if key in out:
            raise OptionError(f"--arg: {key} given twice")
        try:
            out[key] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            raise OptionError(
                f"--arg {text!r}: the value is not valid YAML (quote text: --arg '{key}=\"...\"')"
            ) from None
    return out


# (the source text, its keyword arguments) of each module load_module made, so outputs name it by its callable
# (``resnet18``) and recipes can make it again
_LOADED_FROM: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def loaded_from(module) -> tuple[str, dict] | None:
    """(``FILE.py:CALLABLE``, keyword arguments) :func:`load_module` made ``module`` from (None: made elsewhere)."""
    try:
        return _LOADED_FROM.get(module)
    except TypeError:  # not weak-referenceable: not one of ours
        return None


def loaded_name(module) -> str | None:
    """The callable's name that made ``module`` (``resnet18``), when :func:`load_module` made it."""
    found = loaded_from(module)
    return found[0].rsplit(":", 1)[1].rsplit(".", 1)[-1] if found else None


def load_call(net) -> str | None:
    """The Python that makes ``net`` again: ``archlab.load_module(SOURCE[, kwargs])`` for a source text or a
    module load_module made; None for anything else."""
    if isinstance(net, str) and looks_like_source(net):
        return f"archlab.load_module({net!r})"
    found = loaded_from(net)
    if found is None:
        return None
    source, kwargs = found
    return f"archlab.load_module({source!r}, {kwargs!r})" if kwargs else f"archlab.load_module({source!r})"


def load_module(source: str, args: list[str] | dict | None = None):
    """The ``nn.Module`` that ``source`` (``FILE.py:CALLABLE`` / ``package.module:CALLABLE``) returns."""
    import torch

    text = str(source).strip()
    m = SOURCE.match(text)
    if m is None:
        raise OptionError(f"{text!r}: expected FILE.py:CALLABLE or package.module:CALLABLE")
    where, name = m.group("where"), m.group("name")
    kwargs = parse_args(args)
    label = f"{where}:{name}"
    fn = _callable(_import(where, label), name, label, where)
    _check_signature(fn, kwargs, label)
    try:
        made = fn(**kwargs)
    except Exception as e:
        raise ArchlabError(f"{label}: calling it raised {_first_line(e)}") from None
    if not isinstance(made, torch.nn.Module):
        raise ArchlabError(f"{label}: returned {type(made).__name__}, not a torch.nn.Module")
    _LOADED_FROM[made] = (label, kwargs)
    return made


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0][:200]}" if lines else type(e).__name__


def _import(where: str, label: str):
    import importlib

    if not where.endswith(".py"):
        try:
            return importlib.import_module(where)
        except Exception as e:  # ImportError, or anything the module raises while importing
            raise ArchlabError(f"{label}: importing {where} failed: {_first_line(e)}") from None
    path = Path(where)
    if not path.is_file():
        raise ArchlabError(f"{label}: no such file {where}" if not path.exists() else f"{label}: not a file")
    dotted, root = _package_name(path.resolve())
    added = str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        if dotted is not None:
            return importlib.import_module(dotted)
        return _import_file(path, label)
    except (ArchlabError, KeyboardInterrupt):
        raise
    except BaseException as e:  # a SystemExit or a syntax error in the user's file is still one line
        raise ArchlabError(f"{label}: importing {where} failed: {_first_line(e)}") from None
    finally:
        if added and str(root) in sys.path:
            sys.path.remove(str(root))


def _package_name(path: Path) -> tuple[str | None, Path]:
    """(dotted module name, folder to import it from) for a file inside packages; (None, its folder) else."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1 or not path.stem.isidentifier():
        return None, path.parent
    return ".".join(parts), folder


def _import_file(path: Path, label: str):
    import hashlib
    import importlib.util

    name = f"archlab_model_{path.stem if path.stem.isidentifier() else 'file'}_"
    name += hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ArchlabError(f"{label}: cannot import {path} (not a Python file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _callable(module, name: str, label: str, where: str):
    value = module
    for part in name.split("."):
        if not hasattr(value, part):
            public = sorted(n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n, None)))
            shown = ", ".join(public[:12]) + (", ..." if len(public) > 12 else "")
            raise ArchlabError(f"{label}: {where} has no {name!r} (callables there: {shown or 'none'})")
        value = getattr(value, part)
    if not callable(value):
        raise ArchlabError(f"{label}: {name} is a {type(value).__name__}, not a function or class")
    return value


def _check_signature(fn, kwargs: dict, label: str) -> None:
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    names = [p.name for p in params if p.kind != p.POSITIONAL_ONLY]
    unknown = [k for k in kwargs if k not in names and not takes_any]
    if unknown:
        raise ArchlabError(f"{label}: takes no argument {unknown[0]!r} (it takes: {', '.join(names) or 'none'})")
    needed = [p.name for p in params if p.default is p.empty and p.name not in kwargs]
    if needed:
        given = " ".join(f"--arg {n}=..." for n in needed)
        raise ArchlabError(f"{label}: needs the argument(s) {', '.join(needed)}: give them with {given}")
