"""plan -> torch module: every layer as the module its op's entry names (:mod:`archlab.ir.ops`).

Every plan layer becomes one leaf module at the module path equal to its name (``"4.2.dw"``), and the
network's ``forward`` is generated (torch.fx) as straight-line module calls following the plan's
``inputs`` graph: no interpreter loop at run time, and ``print(model.code)`` shows it.

``inplace=True`` (inference): every activation whose torch module can work in place (ReLU, ReLU6, hard-swish,
hard-sigmoid) does so when its input tensor has exactly one reader, is not the network input, not a network
output, and does not share storage with such a tensor through a view (flatten, dropout):
:func:`inplace_layers`. Outputs are bitwise identical; out-of-place activations cost MobileNetV2 6-18%.
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


def inplace_layers(plan: Plan) -> frozenset[str]:
    """The activation layers that may overwrite their input (see the module docstring); no torch."""
    readers: dict[str, int] = {}
    for layer in plan.layers:
        for src in layer.inputs:
            readers[src] = readers.get(src, 0) + 1
    keep = set(plan.outputs)

    def private(name: str) -> bool:  # the tensor (and any tensor it is a view of) has one reader, no other use
        while True:
            if name == INPUT or name in keep or readers.get(name, 0) != 1:
                return False
            layer = plan.layer(name)
            if not op_of(layer.op, layer.kind).aliases:
                return True
            name = layer.inputs[0]

    return frozenset(
        layer.name for layer in plan.layers if layer.op == "act" and len(layer.inputs) == 1 and private(layer.inputs[0])
    )


def _class_name(model: str) -> str:
    parts = "".join(ch if ch.isalnum() else " " for ch in model).split()
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Net"


def build_plan(plan: Plan, *, inplace: bool = False):
    """Build an ``nn.Module`` (a torch.fx GraphModule) whose module paths are the plan's layer names.

    A traced module's plan builds from that module's own layers (copies, with its weights) where it has them.

    One output: a tensor; several (``plan.outputs``, e.g. a detector's heads): a tuple in that order.
    ``inplace``: activations in place where safe (:func:`inplace_layers`; for inference).
    """
    import torch.fx as fx
    import torch.nn as nn

    root = nn.Module()
    graph = fx.Graph()
    env = {INPUT: graph.placeholder("x")}
    own = plan.modules  # a traced module's plan: its layers' own modules (archlab.nn.trace.TracedModules)
    in_place = inplace_layers(plan) if inplace else frozenset()
    for layer in plan.layers:
        parent = root
        *path, leaf = layer.name.split(".")
        for part in path:
            if not hasattr(parent, part):
                parent.add_module(part, nn.Module())
            parent = getattr(parent, part)
        made = own(layer) if callable(own) else None  # a traced module's own module is left as it is
        if made is None:
            made = make_module(layer)
            if layer.name in in_place and hasattr(made, "inplace"):
                made.inplace = True
        parent.add_module(leaf, made)
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
