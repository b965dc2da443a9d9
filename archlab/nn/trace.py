"""Any ``nn.Module`` -> a :class:`~archlab.ir.plan.Plan`: the plan-level analyses then work unchanged.

``trace(module, input=(224, 224))`` traces the module with ``torch.fx`` and walks the traced graph without running
what archlab has a rule for (the plan builder computes those shapes; only views, shape queries and calls
without a rule run, on zeros): every leaf module and every torch function call goes to a
:class:`~archlab.nn.trace_record.Recorder`, which turns it into plan layers through
the plan builder and the op table, named by module path. A module fx cannot trace (data-dependent control
flow, ``n, c, h, w = x.shape``) is traced instead by running it once on the input with hooks on its modules
and a torch-function mode (:mod:`archlab.nn.trace_walk`): the plan follows that input's path, and its notes
say so. Calls archlab has no rule for become ``opaque`` layers (output shape and parameters as measured,
compute not counted) that every output lists by name and count; ``strict=True`` refuses them.

The plan carries the way to build it from the user's own modules (``Plan.modules``): ``archlab.build`` of a
traced plan, and every study that builds one (latency, ``--check``, receptive fields), runs the module's
layers with its weights, in the plan's straight-line order.
"""

from __future__ import annotations

import copy
from functools import partial

from archlab.errors import ArchlabError, OptionError
from archlab.ir.layer import INPUT, Layer
from archlab.ir.plan import Plan, uncounted_line
from archlab.nn.trace_record import Reached, Recorder

FX_NOTE = "traced with torch.fx"
HOOK_WALK = "traced by running the module once"


def trace(module, input=None, *, name: str | None = None, strict: bool = False, until: str | None = None) -> Plan:
    """The plan of ``module`` at ``input`` ((H, W), (C, H, W) or ``"224x224"``); see the module docstring.
    ``until``: stop once that layer is made (its plan ends there: a backbone at an input its head does not fit,
    the receptive-field canvas)."""
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ArchlabError(f"trace needs a torch.nn.Module, got {type(module).__name__}")
    graph, reason = _fx_graph_or_reason(module)
    shape = input_shape(module, input, graph)
    model = name or type(module).__name__
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            rec, outputs, how = _record(module, shape, until, graph, reason)
    finally:
        module.train(was_training)
    plan = _plan(module, model, shape, rec, outputs, how)
    missing = plan.uncounted()
    if strict and missing:
        raise ArchlabError(f"{model}: {uncounted_line(missing)} (strict)")
    return plan


def input_shape(module, value, graph=None) -> tuple[int, int, int]:
    """(C, H, W) from (H, W) / (C, H, W) / ``"HxW"`` / ``"CxHxW"``; C from the first convolution the module calls
    (its fx ``graph``'s order; without one, the first declared) when not given."""
    from archlab.ir.overrides import parse_hw

    if value is None:
        raise OptionError(
            f"{type(module).__name__}: a module needs its input size: input=(H, W) or (C, H, W) (CLI: --input 224x224)"
        )
    if isinstance(value, str) and value.lower().replace("×", "x").count("x") == 2:
        parts = value.lower().replace("×", "x").split("x")
        if not all(p.strip().isdigit() for p in parts):
            raise OptionError(f"--input must look like 112x96 (HxW) or 3x112x96 (CxHxW), got {value!r}")
        value = tuple(int(p) for p in parts)
    if isinstance(value, (list, tuple)) and len(value) == 3:
        c, h, w = (int(v) for v in value)
        if min(c, h, w) <= 0:
            raise OptionError(f"--input sizes must be positive, got {c}x{h}x{w}")
        return c, h, w
    h, w = parse_hw(value if not isinstance(value, list) else tuple(value))
    return _in_channels(module, graph), h, w


def _in_channels(module, graph=None) -> int:
    import torch.nn as nn

    called = [module.get_submodule(n.target) for n in graph.nodes if n.op == "call_module"] if graph else []
    for m in called or module.modules():
        if isinstance(m, nn.Conv2d):
            return int(m.in_channels)
        if isinstance(m, nn.Linear):
            break
    return 3


def _fx_graph_or_reason(module):
    """(the torch.fx graph, None), or (None, why fx could not trace the module)."""
    try:
        return _fx_graph(module), None
    except Exception as e:  # fx raises TraceError, TypeError, AttributeError... for untraceable code
        return None, _first_line(e)


def _record(module, shape, until=None, graph=None, reason=None):
    """(recorder, output tensors, how) by torch.fx (walked without arithmetic), else by one real forward pass."""
    import torch

    from archlab.nn.trace_walk import walk

    if graph is None:
        rec = Recorder(module, shape, until)
        x = torch.zeros(1, *shape)
        rec.bind(x, INPUT)
        how = (
            f"{HOOK_WALK} (torch.fx could not trace it: {reason}); where its code branches on data, the plan, "
            "tables and exports follow the branches this input took"
        )
        return rec, _stopping(walk, module, x, rec), how
    rec = Recorder(module, shape, until)
    x = rec.stand_in(shape)
    rec.bind(x, INPUT)
    return rec, _stopping(partial(_run_graph, module, graph), x, rec), FX_NOTE


def _stopping(run, *args):
    """``run(*args)``, or the tensor it reached when the trace stops early (``until``)."""
    try:
        return run(*args)
    except Reached as stop:
        return stop.tensor


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:160]}" if text else type(e).__name__


def _fx_graph(module):
    import torch.fx as fx

    from archlab.nn.quiet import quiet
    from archlab.nn.trace_walk import autograd_functions_as_calls

    tracer = fx.Tracer()
    with quiet(), autograd_functions_as_calls(tracer=tracer):
        return tracer.trace(module)


def _run_graph(module, graph, x, rec: Recorder):
    """Run the fx graph node by node without arithmetic where archlab has a rule (the recorder makes those
    outputs), reporting every call to ``rec``; the output tensors. A value is dropped after its last user."""
    from functools import partial

    import torch.fx as fx

    env: dict = {}
    users = {node: len(node.users) for node in graph.nodes}

    def load(a):
        return fx.node.map_arg(a, lambda n: env[n])

    first = True
    for node in graph.nodes:
        if node.op == "placeholder":
            if first:
                env[node], first = x, False
            elif node.args:
                env[node] = node.args[0]  # an argument with a default value
            else:
                raise ArchlabError(f"{type(module).__name__}.forward needs more than one input ({node.target})")
        elif node.op == "get_attr":
            env[node] = _attr(module, node.target)
        elif node.op == "call_module":
            sub = module.get_submodule(node.target)
            args, kwargs = load(node.args), load(node.kwargs)
            env[node] = rec.module_call(node.target, sub, args, kwargs, None, partial(_run, rec, sub, args, kwargs))
        elif node.op in ("call_function", "call_method"):
            args, kwargs = load(node.args), load(node.kwargs)
            target = node.target
            fn = partial(_call_method, target) if node.op == "call_method" else target
            env[node] = rec.function_call(
                _scope(node), target, args, kwargs, None, partial(_run, rec, fn, args, kwargs)
            )
        elif node.op == "output":
            return load(node.args[0])
        for src in node.all_input_nodes:
            users[src] -= 1
            if not users[src]:
                env.pop(src, None)
    raise ArchlabError(f"{type(module).__name__}: the traced graph has no output")


def _call_method(name: str, obj, *args, **kwargs):
    return getattr(obj, name)(*args, **kwargs)


def _scope(node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    return next(reversed(stack.values()))[0] if stack else ""


def _attr(module, target: str):
    value = module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _run(rec: Recorder, fn, args, kwargs, cheap: bool):
    """Run a call while tracing: ``cheap`` (a view or a shape query) on the values as they are, else with every
    stand-in (the uninitialised output of a call that was not run) replaced by zeros."""
    try:
        if cheap:
            return fn(*args, **kwargs)
        return fn(*_zeros(rec, args), **_zeros(rec, kwargs))
    except ArchlabError:
        raise
    except Exception as e:
        what = getattr(fn, "__name__", None) or type(fn).__name__
        raise ArchlabError(f"tracing: calling {what} on the traced shapes failed: {_first_line(e)}") from None


def _zeros(rec: Recorder, value):
    import torch

    if isinstance(value, (list, tuple)):
        return type(value)(_zeros(rec, v) for v in value)
    if isinstance(value, dict):
        return {k: _zeros(rec, v) for k, v in value.items()}
    if isinstance(value, torch.Tensor) and id(value) in rec.stand_ins:
        return torch.zeros(value.shape, dtype=value.dtype)
    return value


# -- the plan -------------------------------------------------------------------------------------------------


def _plan(module, model: str, shape, rec: Recorder, outputs, how: str) -> Plan:
    from archlab.nn.trace_map import tensors_in

    names: list[str] = []
    for t in tensors_in(outputs):
        if not rec.is_tensor(t):
            rec._flush_pending((t,), {})
        name = rec.name_of(t) if rec.is_tensor(t) else None
        if name is None or name == INPUT:
            raise ArchlabError(f"{model}: its output is not computed from its input (nothing to analyse)")
        if name not in names:
            names.append(name)
    if not names:
        raise ArchlabError(f"{model}: its forward returns no tensor")
    notes = [how]
    total = sum(p.numel() for p in module.parameters())
    counted = sum(layer.params for layer in rec.builder.layers)
    if counted != total:
        notes.append(
            f"the module has {total:,} parameters, its layers {counted:,}: unused parameters, or modules called "
            "more than once (each call counts its parameters)"
        )
    return Plan(
        model=model,
        input=tuple(shape),
        layers=tuple(rec.builder.layers),
        output=names[-1],
        rows=rec.rows(f"{model} ({'torch.fx' if how == FX_NOTE else 'hook walk'})"),
        options={},
        outputs=tuple(names),
        notes=tuple(notes),
        modules=TracedModules(module, rec.sources),
    )


class TracedModules:
    """How a traced plan's layers get their torch modules (``Plan.modules``): a leaf module is a copy of the
    user's (in-place flags cleared, so memory follows the plan's rule); a call without a rule replays the call;
    a functional conv/linear/bn gets the op table's module with the call's weights; the rest (add, flatten,
    ...) the op table's module (None here)."""

    def __init__(self, root, sources: dict) -> None:
        self.root, self.sources = root, sources

    def __call__(self, layer: Layer):
        source = self.sources.get(layer.name)
        if source is None:
            return None
        if source[0] == "module":
            made = copy.deepcopy(self.root.get_submodule(source[1]))
            for m in made.modules():
                if getattr(m, "inplace", False):
                    m.inplace = False
            return made
        if source[0] == "call":
            from archlab.nn.modules import Call

            _, target, args, kwargs, item = source
            if isinstance(target, str):  # an fx call_method: the Tensor method of that name
                import torch

                target = getattr(torch.Tensor, target)
            return Call(layer.fn, layer.args, target=target, template=(args, kwargs, item))
        return self._with_weights(layer, source[1])

    @staticmethod
    def _with_weights(layer: Layer, weights: dict):
        import torch

        from archlab.nn.build import make_module

        made = make_module(layer)
        with torch.no_grad():
            for key, tensor in weights.items():
                getattr(made, key).copy_(tensor)
        return made


def build_check(plan: Plan, module, x=None) -> tuple[float, float]:
    """(max |difference|, max |reference|) between ``module`` and the build of its traced ``plan`` (eval)."""
    import torch

    from archlab.nn.build import build_plan
    from archlab.nn.outputs import max_difference

    built = build_plan(plan).eval()
    x = torch.randn(1, *plan.input) if x is None else x
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            return max_difference(built(x), module(x))
    finally:
        module.train(was)
