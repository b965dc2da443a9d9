"""Finding the parts of a plan: the head, FMap-end (the last feature map), sub-networks."""

from __future__ import annotations

from dataclasses import replace

from archlab.errors import OptionError
from archlab.ir.layer import INPUT, spatial
from archlab.ir.plan import Plan, RowInfo


def head_row(plan: Plan) -> RowInfo | None:
    """The row of the table's ``head:`` (everything after FMap-end), or None."""
    return next((r for r in plan.rows if r.index == "head"), None)


def fmap_end(plan: Plan, layer: str | None = None) -> str:
    """The tensor that is FMap-end, the last feature map before the network becomes a vector.

    ``layer`` names it explicitly (checked). Otherwise: the head's input when the table has a ``head:``;
    without one (a traced module), walking back from the main output through each layer's first input, the
    first tensor that is a map larger than 1x1; a network whose output is such a map (a detector) ends there.
    """
    if layer is not None:
        if layer != INPUT and not plan.has(layer):
            raise OptionError(f"--fmap-end: {plan.model} has no layer {layer!r}")
        return layer
    head = head_row(plan)
    if head is not None and head.layers:
        return plan.layer(head.layers[0]).inputs[0]
    name = plan.output
    while name != INPUT:
        hw = spatial(plan.shape_of(name))
        if hw is not None and hw != (1, 1):
            return name
        name = plan.layer(name).inputs[0]
    return name


def fmap_end_map(plan: Plan, layer: str | None = None) -> str:
    """:func:`fmap_end` for studies that need a feature map there (not the input, not a vector)."""
    name = fmap_end(plan, layer)
    if name == INPUT or spatial(plan.shape_of(name)) is None:
        raise OptionError(f"{plan.model}: no feature map before the head (FMap-end) to study")
    return name


def head_layers(plan: Plan) -> tuple[str, ...]:
    """The layers after FMap-end up to the main output (the head row's layers for tables)."""
    head = head_row(plan)
    if head is not None:
        return tuple(head.layers)
    end = fmap_end(plan)
    names = [layer.name for layer in plan.layers]
    after = names.index(end) + 1 if end in names else 0
    return tuple(names[after:])


def truncate(plan: Plan, name: str) -> Plan:
    """The plan of the sub-network that computes ``name`` (its ancestors only), with ``name`` as output."""
    needed, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in needed or n == INPUT:
            continue
        needed.add(n)
        todo.extend(plan.layer(n).inputs)
    return replace(
        plan,
        layers=tuple(layer for layer in plan.layers if layer.name in needed),
        output=name,
        outputs=(name,),
        rows=tuple(r for r in plan.rows if r.index != "head"),
    )
