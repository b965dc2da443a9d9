"""The traced calls of a module, as they happen -> plan layers through the plan builder.

Both tracers (:mod:`archlab.nn.trace`: torch.fx without arithmetic; :mod:`archlab.nn.trace_walk`: one real forward
pass) report every leaf-module call and every torch function call to a :class:`Recorder`. It names each
layer (the module path of a leaf module; ``<scope>.<function>`` for a call made inside the module at
``scope``: ``features.2.add``), turns the call into plan layers with :mod:`archlab.nn.trace_map` and the
plan builder (which computes shapes and counts by the op table), and records calls without a rule as
``opaque`` layers: output shape and parameters as measured, nothing counted, listed by name.
Tensors are told apart by identity; a tensor changed in place is, from then on, the output of that call.
"""

from __future__ import annotations

import weakref

from archlab.errors import ArchlabError
from archlab.ir.builder import PlanBuilder
from archlab.ir.layer import INPUT, Layer
from archlab.ir.plan import RowInfo
from archlab.nn.calls import call_name, module_recipe, recipe
from archlab.nn.trace_map import (
    ALIAS,
    PLAIN_CONTAINERS,
    PREVIOUS,
    call_key,
    flat_values,
    function_steps,
    has_tensor,
    module_steps,
    shape_of,
    tensors_in,
)
from archlab.nn.trace_shuffle import Pending, ShuffleIdiom

# calls run even when tracing without running: views and shape queries (no arithmetic), whose output decides
# the rule (a view that flattens is a flatten), and the steps of the channel-shuffle idiom
RUN_FIRST = (
    "view",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "transpose",
    "permute",
    "contiguous",
    "chunk",
    "split",
    "getitem",
    "getattr",
    "size",
    "dim",
    "numel",
    "expand",
    "expand_as",
    "t",
    "detach",
    "clone",
)
SKIPPED_CALLS = ("size", "dim", "numel", "__get__", "__len__", "__bool__", "__format__", "__repr__", "item")


class Reached(Exception):  # noqa: N818 (not an error: the trace got where it was asked to stop)
    """Raised when the layer a trace stops at is made (``trace(..., until=NAME)``)."""

    def __init__(self, tensor) -> None:
        super().__init__("reached")
        self.tensor = tensor


class Recorder(ShuffleIdiom):
    """Collects plan layers from traced calls (see the module docstring)."""

    def __init__(self, root, in_shape: tuple[int, ...], stop_at: str | None = None) -> None:
        self.stop_at = stop_at
        self.refusal: ArchlabError | None = None  # why the plan builder refused the last call it was given
        self.root = root
        self.builder = PlanBuilder(in_shape)
        self.names: dict[int, str] = {}
        self.pending: dict[int, Pending] = {}
        self.params = {id(p): p for p in root.parameters()}
        self.counted: set[int] = set()
        self.taken = {path for path, _ in root.named_modules() if path}  # the model's module paths
        self.used: set[str] = {INPUT}  # names given so far
        self.sources: dict[str, tuple] = {}  # layer name -> how the build gets its module (archlab.nn.trace)
        self.originals: dict[int, object] = {}  # id(a copy made while tracing) -> the module's own tensor
        self.stand_ins: set[int] = set()  # outputs of calls that were not run (uninitialised values)
        self._row: tuple[str, str] = ("", "")  # the scope and name of the call being recorded
        self.row_keys: list[str] = []
        self.row_types: dict[int, str] = {}

    # -- tensors -------------------------------------------------------------------------------------------
    def bind(self, tensor, name: str) -> None:
        key = id(tensor)
        self.names[key] = name
        weakref.finalize(tensor, self.names.pop, key, None)
        if name == self.stop_at:
            raise Reached(tensor)

    def is_tensor(self, value) -> bool:
        import torch

        return isinstance(value, torch.Tensor) and id(value) in self.names

    def name_of(self, tensor) -> str:
        return self.names[id(tensor)]

    def graph_tensors(self, values) -> list:
        """The traced tensors among ``values`` (nested), in order, each once."""
        found: dict[int, object] = {}

        def visit(v):
            if isinstance(v, (list, tuple)):
                for item in v:
                    visit(item)
            elif isinstance(v, dict):
                for item in v.values():
                    visit(item)
            elif self.is_tensor(v):
                found.setdefault(id(v), v)

        visit(values)
        return list(found.values())

    # -- names and rows ------------------------------------------------------------------------------------
    def unique(self, name: str, module: bool = False) -> str:
        """A layer name not used yet: a leaf module's first call is its module path; a later call, or a
        function call, gets ``_1``, ``_2`` ... where the name is taken (by a layer or a module of the model)."""
        import torch.nn as nn

        if not module and hasattr(nn.Module, name.rsplit(".", 1)[-1]):
            name += "_op"  # a module path may not shadow nn.Module's attributes (float, to, ...)
        out, n = name, 0
        while out in self.used or (out in self.taken and not (module and out == name)):
            n += 1
            out = f"{name}_{n}"
        self.used.add(out)
        return out

    def start_row(self, scope: str, name: str) -> None:
        """Consecutive layers of one block (a top-level module; inside plain containers, their children) form
        a row."""
        key, module = scope, None
        if scope:
            parts = scope.split(".")
            key, module = parts[0], self.root.get_submodule(parts[0])
            i = 1
            while type(module).__name__ in PLAIN_CONTAINERS and i < len(parts):
                key += "." + parts[i]
                module = module.get_submodule(parts[i])
                i += 1
        else:
            key = name
        if not self.row_keys or self.row_keys[-1] != key:
            self.row_keys.append(key)
            self.row_types[len(self.row_keys) - 1] = type(module).__name__ if module is not None else ""
        self.builder.row = len(self.row_keys) - 1

    # -- calls ---------------------------------------------------------------------------------------------
    def module_call(self, path: str, module, args: tuple, kwargs: dict, out=None, run=None):
        """A leaf module's call. ``out`` None (tracing without running): a module with a rule is not run, its
        output is a stand-in of the plan's shape; one without is run by ``run(False)`` (on zeros). Returns it."""
        x = args[0] if args and self.is_tensor(args[0]) else None
        steps = module_steps(module, x, kwargs) if x is not None else None
        name = self.unique(path or type(module).__name__.lower(), module=bool(path))
        self._row = (path, name)
        own = [p for p in module.parameters() if id(p) not in self.counted]
        if steps is not None:
            made = self._emit(name, steps, out, sum(p.numel() for p in module.parameters()), x)
            if made is not None:
                self.sources[name] = ("module", path)
                self.counted.update(id(p) for p in own)
                return made
        if out is None:
            out = self._run(run, name)
        self.counted.update(id(p) for p in own)
        self._opaque(name, call_name(type(module)), args, kwargs, out, sum(p.numel() for p in own), ("module", path))
        return out

    def function_call(self, scope: str, target, args: tuple, kwargs: dict, out=None, run=None):
        """A torch function or Tensor method call. ``out`` None (tracing without running): views and shape
        queries are run by ``run(True)`` (cheap, on the stand-ins), calls with a rule are not run (their output
        is a stand-in of the plan's shape), the rest by ``run(False)`` (on zeros). Returns the output."""
        fn = call_name(target)
        key = call_key(fn)
        if out is None and (key in RUN_FIRST or not self.graph_tensors((args, kwargs))):
            out = run(True)
        if out is not None and not has_tensor(out):
            if key == "setitem" and args and self.is_tensor(args[0]):
                self._opaque(self._name(scope, key), fn, args, kwargs, args[0], 0, ("call", target))
            return out
        if key in SKIPPED_CALLS or (key == "getitem" and args and isinstance(args[0], (list, tuple))):
            return out
        if out is not None and self._shuffle_step(scope, target, key, args, kwargs, out):
            return out
        self._flush_pending(args, kwargs)
        name = self._name(scope, key)
        import torch

        if out is None or isinstance(out, torch.Tensor):
            steps = function_steps(fn, args, kwargs, out, self.is_tensor)
            made = self._emit(name, steps, out, None, args[0] if args else None) if steps is not None else None
            if made is not None:
                if steps != ALIAS:
                    self._keep_weights(name, steps)
                return made
        if out is None:
            out = self._run(run, name)
        params = [a for a in flat_values(args, kwargs) if id(a) in self.params and id(a) not in self.counted]
        self.counted.update(id(p) for p in params)
        self._opaque(name, fn, args, kwargs, out, sum(p.numel() for p in params), ("call", target))
        return out

    def _run(self, run, name: str):
        """Run a call without a rule (or one whose rule refused it); its failure names the layer, and the plan
        builder's reason when it had refused the call (a kernel larger than its input, ...)."""
        try:
            return run(False)
        except ArchlabError as e:
            why = self.refusal or e
            raise ArchlabError(f"{name}: {why}") from None

    def _name(self, scope: str, key: str) -> str:
        word = key if key.isidentifier() else "call"
        name = self.unique(f"{scope}.{word}" if scope else word)
        self._row = (scope, name)
        return name

    # -- layers --------------------------------------------------------------------------------------------
    def _emit(self, name: str, steps, out, params: int | None, src=None):
        """Add the steps as layers and return the call's output (a stand-in of the plan's shape when ``out``
        is None); None, with nothing added, when the builder refuses them or their output shape or parameters
        differ from what the call did. ALIAS: the output is ``src`` unchanged (a view or a copy)."""
        if steps == ALIAS:
            if out is None:
                return src
            if not self.is_tensor(src) or not hasattr(out, "shape") or shape_of(out) != shape_of(src):
                return None
            self.bind(out, self.name_of(src))
            return out
        b = self.builder
        self.refusal = None
        self.start_row(*self._row)
        start = len(b.layers)
        last: str | None = None
        try:
            for i, step in enumerate(steps):
                inputs = [str(last) if s is PREVIOUS else self.name_of(s) for s in step.inputs]
                last = b.layer(step.op, name if i == 0 else self.unique(name + step.suffix), inputs, **step.fields)
        except (ArchlabError, KeyError, TypeError) as e:
            self.refusal = e if isinstance(e, ArchlabError) else None
            last = None
        added = b.layers[start:]
        ok = last is not None and (out is None or not hasattr(out, "shape") or b.shape(last) == shape_of(out))
        if ok and params is not None:
            ok = sum(layer.params for layer in added) == params
        if not ok or last is None:
            for layer in added:
                del b.shapes[layer.name]
            del b.layers[start:]
            return None
        if out is None:
            out = self.stand_in(b.shape(last))
        self.bind(out, last)
        return out

    def stand_in(self, shape: tuple[int, ...]):
        """The output of a call that was not run: an uninitialised tensor of the plan's shape (batch 1)."""
        import torch

        t = torch.empty((1, *shape))
        key = id(t)
        self.stand_ins.add(key)
        weakref.finalize(t, self.stand_ins.discard, key)
        return t

    def _keep_weights(self, name: str, steps) -> None:
        weights = {k: self.originals.get(id(v), v) for k, v in steps[0].weights.items() if v is not None}
        if weights:
            self.counted.update(id(v) for v in steps[0].weights.values() if v is not None)
            self.sources[name] = ("weights", weights)

    def _opaque(self, name: str, fn: str, args, kwargs, out, params: int, source: tuple) -> None:
        import torch

        row = self._row
        self._flush_pending(args, kwargs)
        self._row = row
        inputs = self.graph_tensors((args, kwargs))
        names = [self.name_of(t) for t in inputs]
        index = {id(t): i for i, t in enumerate(inputs)}
        self.start_row(*self._row)
        outs = [out] if isinstance(out, torch.Tensor) else tensors_in(out)
        single = isinstance(out, torch.Tensor)
        for k, o in enumerate(outs):
            item = None if single else k
            if source[0] == "call":
                text = recipe(source[1], args, kwargs, lambda t: index[id(t)], item)
            else:
                text = module_recipe(self.root.get_submodule(source[1]) if source[1] else self.root, item)
            layer_name = name if k == 0 else self.unique(f"{name}_{k}")
            self.builder.layer(
                "opaque", layer_name, names, fn=fn, out_shape=shape_of(o), params=params if k == 0 else 0, args=text
            )
            self.sources[layer_name] = (*source, self._template(args, index), self._template(kwargs, index), item)
            self.bind(o, layer_name)

    def _template(self, value, index: dict):
        """The call's arguments for rebuilding it: traced tensors as ``{"tensor": i}``, constants as they were."""
        if isinstance(value, (list, tuple)):
            return type(value)(self._template(v, index) for v in value)
        if isinstance(value, dict):
            return {k: self._template(v, index) for k, v in value.items()}
        if id(value) in index:
            return {"tensor": index[id(value)]}
        return self.originals.get(id(value), value)

    # -- the plan's rows -----------------------------------------------------------------------------------
    def rows(self, file: str) -> tuple[RowInfo, ...]:
        by_row: dict[int, list[Layer]] = {}
        for layer in self.builder.layers:
            by_row.setdefault(int(layer.row), []).append(layer)
        out = []
        for index, members in sorted(by_row.items()):
            first, last = members[0], members[-1]
            kind = self.row_types.get(index) or first.op
            out.append(
                RowInfo(
                    index,
                    kind,
                    self.row_keys[index],
                    tuple(m.name for m in members),
                    first.in_shape,
                    last.out_shape,
                    file,
                    None,
                )
            )
        return tuple(out)
