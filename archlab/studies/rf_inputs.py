"""What an ``archlab rf`` study starts from: the network's plan and FMap-end, the weights, the input image.

A table's plan comes from its expansion (and its trained state from ``weights`` fitted to its build, renamed
by ``key_map``: a file or ``"auto"``); a torch module's from its trace, with its own weights (``weights``
loads into a copy of it first). :func:`archlab.studies.rf.rf_study` runs the study on them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from archlab.errors import OptionError
from archlab.ir.expand import expand
from archlab.ir.overrides import Overrides
from archlab.ir.plan import Plan
from archlab.ir.structure import fmap_end_map, head_row, truncate
from archlab.static.erf_records import key_units


def table_parts(net, heads, weights, key_map, fmap_layer, strict, overrides) -> tuple:
    """(spec, overrides, replan, plan, FMap-end, trained state, its label) of a table."""
    from archlab.studies.sources import plan_of, table_of

    spec = table_of(net)
    ov = Overrides.from_kwargs(**overrides)
    plan = plan_of(spec, strict=strict, **overrides)
    one_output(plan)
    if heads and head_row(plan) is None:
        raise OptionError(
            f"{plan.model} has no head to compare (its table has no `head:`); use --head none for the unit grid alone"
        )
    fmap = fmap_end_map(plan, fmap_layer)
    state, label = trained_state(plan, weights, key_map)  # inputs that can fail go first

    def replan(hw):
        return expand(spec, replace(ov, input=hw))

    return spec, ov, replan, plan, fmap, state, label


def module_parts(module, heads, weights, key_map, fmap_layer, strict, overrides) -> tuple:
    """The same for a torch module: traced, with its own weights (or ``weights`` loaded into a copy)."""
    import copy

    from archlab.nn.build import build_plan
    from archlab.studies.sources import refuse_table_options, trace_module

    name = type(module).__name__
    refuse_table_options(name, overrides)
    if heads:
        raise OptionError(
            f"{name}: the head study swaps a table's head (gdconv, gap, fc) and needs a table: run `archlab "
            "extract` first, or study the unit grid alone (heads=(), CLI --head none)"
        )
    label = f"the module's own weights ({name})"
    if weights is not None:
        from archlab.nn.key_map import load_weights
        from archlab.nn.trace import input_shape

        module = copy.deepcopy(module)
        shape = input_shape(module, overrides.get("input"))
        load_weights(module, weights, key_map, what=f"module {name}", input_shape=shape)
        label = str(weights) if isinstance(weights, (str, Path)) else "the given weights"
    elif key_map is not None:
        raise OptionError("--key-map renames the keys of --weights; give --weights too")
    plan = trace_module(module, strict=strict, **overrides)
    one_output(plan)
    fmap = fmap_end_map(plan, fmap_layer)
    state = build_plan(truncate(plan, fmap)).state_dict()  # the module's weights, by plan name

    def replan(hw):  # the canvas: traced up to FMap-end (a head need not fit the larger input)
        return trace_module(module, input=hw, until=fmap)

    return None, Overrides(), replan, plan, fmap, state, label


def one_output(plan: Plan) -> None:
    if len(plan.outputs) > 1:
        raise OptionError(f"{plan.model} has {len(plan.outputs)} outputs; archlab rf studies one FMap-end and its head")


def trained_state(plan: Plan, weights, key_map) -> tuple[dict | None, str | None]:
    """The checkpoint (renamed by the key map), checked to fit the network strictly; (None, None) without one."""
    if weights is None:
        if key_map is not None:
            raise OptionError("--key-map renames the keys of --weights; give --weights too")
        return None, None
    from archlab.nn.build import build_plan
    from archlab.nn.key_map import load_weights

    label = str(weights) if isinstance(weights, (str, Path)) else "state_dict"
    head = head_row(plan)
    options = ", ".join(f"{k}={v}" for k, v in plan.options.items())
    what = f"{plan.model} ({head.label if head else 'no head'}{', ' + options if options else ''})"
    state = load_weights(build_plan(plan), weights, key_map, what=what, plan=plan)
    return state, label


def units_of(units, h: int, w: int) -> list[tuple[int, int]]:
    if units is None or units == "all":
        todo = [(i, j) for i in range(h) for j in range(w)]
    elif units == "key":
        todo = key_units(h, w)
    else:
        todo = [(int(u[0]), int(u[1])) for u in units]
    for u in todo:
        if not (0 <= u[0] < h and 0 <= u[1] < w):
            raise OptionError(f"unit {u} is outside the {h}x{w} FMap-end grid")
    return todo
