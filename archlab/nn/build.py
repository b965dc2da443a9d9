"""plan -> torch module: every layer as the module its op's entry names (:mod:`archlab.ir.ops`).

Every plan layer becomes one leaf module at the module path equal to its name (``"4.2.dw"``), and the
network's ``forward`` is generated (torch.fx) as straight-line module calls following the plan's
``inputs`` graph: no interpreter loop at run time, and ``print(model.code)`` shows it.
"""

from __future__ import annotations

from archlab.ir.layer import INPUT, Layer
from archlab.ir.ops import op_of
from archlab.ir.plan import Plan


def make_module(layer: Layer):
    """The torch module for one plan layer, as the op table states it (a ``torch.nn`` class or one of
    :mod:`archlab.nn.modules`)."""
    import torch.nn as nn

    from archlab.nn import modules

    cls_name, kwargs = op_of(layer.op, layer.kind).module(layer)
    cls = getattr(modules, cls_name, None) or getattr(nn, cls_name)
    return cls(**kwargs)


def _class_name(model: str) -> str:
    parts = "".join(ch if ch.isalnum() else " " for ch in model).split()
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Net"


def build_plan(plan: Plan):
    """Build an ``nn.Module`` (a torch.fx GraphModule) whose module paths are the plan's layer names.

    A traced module's plan builds from that module's own layers (copies, with its weights) where it has them.

    One output: a tensor; several (``plan.outputs``, e.g. a detector's heads): a tuple in that order.
    """
    import torch.fx as fx
    import torch.nn as nn

    root = nn.Module()
    graph = fx.Graph()
    env = {INPUT: graph.placeholder("x")}
    own = plan.modules  # a traced module's plan: its layers' own modules (archlab.nn.trace.TracedModules)
    for layer in plan.layers:
        parent = root
        *path, leaf = layer.name.split(".")
        for part in path:
            if not hasattr(parent, part):
                parent.add_module(part, nn.Module())
            parent = getattr(parent, part)
        made = own(layer) if callable(own) else None
        parent.add_module(leaf, made if made is not None else make_module(layer))
        env[layer.name] = graph.call_module(layer.name, tuple(env[src] for src in layer.inputs))
    outs = [env[name] for name in plan.outputs]
    graph.output(outs[0] if len(outs) == 1 else tuple(outs))
    module = fx.GraphModule(root, graph, class_name=_class_name(plan.model))
    module.plan = plan  # type: ignore[assignment]  # the plan it was built from travels with it
    return module


def build_net(net, **overrides):
    """:func:`build_plan` of a shipped network name, a table path or a NetSpec under overrides."""
    from archlab.ir.expand import plan_of

    return build_plan(plan_of(net, **overrides))
