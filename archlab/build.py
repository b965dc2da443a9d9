"""plan -> torch module. The only place that constructs torch modules.

Every plan layer becomes one leaf module at the module path equal to its name (``"4.2.dw"``), and the
network's ``forward`` is generated (torch.fx) as straight-line module calls following the plan's
``inputs`` graph: no interpreter loop at run time, and ``print(model.code)`` shows it.
"""

from __future__ import annotations

from archlab.plan import INPUT, Layer, Plan


def _add_module():
    import torch.nn as nn

    class Add(nn.Module):
        """Residual add as a real module, so it has a name in the plan and in profilers."""

        def forward(self, a, b):
            return a + b

    return Add


_ADD = None


def make_module(layer: Layer):
    """The torch module for one plan layer."""
    global _ADD
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
    if op == "pool":
        if layer.kind == "max":
            return nn.MaxPool2d(layer.kernel, layer.stride, layer.padding)
        if layer.kind == "avg":
            return nn.AvgPool2d(layer.kernel, layer.stride, layer.padding)
        if layer.kind == "global":
            return nn.AdaptiveAvgPool2d(1)
    if op == "add":
        _ADD = _ADD or _add_module()
        return _ADD()
    if op == "flatten":
        return nn.Flatten(1)
    if op == "dropout":
        return nn.Dropout(layer.p)
    raise ValueError(f"no torch module for layer {layer.name} (op {op!r}, kind {layer.kind!r})")


def _class_name(model: str) -> str:
    parts = "".join(ch if ch.isalnum() else " " for ch in model).split()
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Net"


def build_plan(plan: Plan):
    """Build an ``nn.Module`` (a torch.fx GraphModule) whose module paths are the plan's layer names."""
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
    graph.output(env[plan.output])
    module = fx.GraphModule(root, graph, class_name=_class_name(plan.model))
    module.plan = plan
    return module
