"""plan -> torch module. The only place that constructs torch modules.

Every plan layer becomes one leaf module at the module path equal to its name (``"4.2.dw"``), and the
network's ``forward`` is generated (torch.fx) as straight-line module calls following the plan's
``inputs`` graph: no interpreter loop at run time, and ``print(model.code)`` shows it.
"""

from __future__ import annotations

from archlab.plan import INPUT, Layer, Plan


def _graph_modules():
    """Small modules for graph ops, so each has a name in the plan and in profilers."""
    import torch
    import torch.nn as nn

    class Add(nn.Module):
        """Residual add."""

        def forward(self, a, b):
            return a + b

    class Mul(nn.Module):
        """Channel gate: x * gate (squeeze-and-excitation scale)."""

        def forward(self, x, gate):
            return x * gate

    class Concat(nn.Module):
        """Concatenation along channels."""

        def forward(self, *xs):
            return torch.cat(xs, 1)

    return {"add": Add, "mul": Mul, "concat": Concat}


_GRAPH = {}


def make_module(layer: Layer):
    """The torch module for one plan layer."""
    import torch.nn as nn

    op = layer.op
    if op == "conv":
        return nn.Conv2d(layer.in_shape[0], layer.out_shape[0], layer.kernel, layer.stride, layer.padding,
                         layer.dilation, layer.groups, bias=layer.bias)
    if op == "linear":
        return nn.Linear(layer.in_shape[0], layer.out_shape[0], bias=layer.bias)
    if op == "bn":
        return (nn.BatchNorm2d if layer.kind == "2d" else nn.BatchNorm1d)(layer.out_shape[0])
    if op == "act":
        if layer.kind == "relu":
            return nn.ReLU()
        if layer.kind == "relu6":
            return nn.ReLU6()
        if layer.kind == "prelu":
            return nn.PReLU(layer.out_shape[0])
        if layer.kind == "hardswish":
            return nn.Hardswish()
        if layer.kind == "hardsigmoid":
            return nn.Hardsigmoid()
    if op == "pool":
        if layer.kind == "max":
            return nn.MaxPool2d(layer.kernel, layer.stride, layer.padding)
        if layer.kind == "avg":
            return nn.AvgPool2d(layer.kernel, layer.stride, layer.padding)
        if layer.kind == "global":
            return nn.AdaptiveAvgPool2d(1)
    if op in ("add", "mul", "concat"):
        if not _GRAPH:
            _GRAPH.update(_graph_modules())
        return _GRAPH[op]()
    if op == "pad":
        top, bottom, left, right = layer.padding
        return nn.ZeroPad2d((left, right, top, bottom))
    if op == "flatten":
        return nn.Flatten(1)
    if op == "dropout":
        return nn.Dropout(layer.p)
    raise ValueError(f"no torch module for layer {layer.name} (op {op!r}, kind {layer.kind!r})")


def _class_name(model: str) -> str:
    parts = "".join(ch if ch.isalnum() else " " for ch in model).split()
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Net"


def build_plan(plan: Plan):
    """Build an ``nn.Module`` (a torch.fx GraphModule) whose module paths are the plan's layer names.

    One output: a tensor; several (``plan.outputs``, e.g. a detector's heads): a tuple in that order.
    """
    import torch.fx as fx
    import torch.nn as nn

    root = nn.Module()
    graph = fx.Graph()
    env = {INPUT: graph.placeholder("x")}
    for layer in plan.layers:
        parent = root
        *path, leaf = layer.name.split(".")
        for part in path:
            if not hasattr(parent, part):
                parent.add_module(part, nn.Module())
            parent = getattr(parent, part)
        parent.add_module(leaf, make_module(layer))
        env[layer.name] = graph.call_module(layer.name, tuple(env[src] for src in layer.inputs))
    outs = [env[name] for name in plan.outputs]
    graph.output(outs[0] if len(outs) == 1 else tuple(outs))
    module = fx.GraphModule(root, graph, class_name=_class_name(plan.model))
    module.plan = plan
    return module
