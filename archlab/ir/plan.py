"""The plan: a network expanded into primitive layers (:class:`~archlab.ir.layer.Layer`), computed without torch.

It also owns the one BN-folding rule (:func:`fold_pairs`): which BN layers fold into the conv/linear before
them. ``params_deployed`` counts by it, and :func:`archlab.nn.fold.fold_bn` folds the built module by it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from operator import attrgetter

from archlab.ir.layer import INPUT, Layer
from archlab.ir.ops import op_of

COUNT_KEYS = ("params", "params_deployed", "madds", "other_ops", "activations")


@dataclass(frozen=True)
class RowInfo:
    """A table row after expansion: which layers it became, its shapes and its resolved fields."""

    index: int | str
    type: str
    label: str
    layers: tuple[str, ...]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    file: str
    line: int | None


@dataclass(frozen=True)
class FoldPair:
    bn: str  # the plan name of the BN that folds
    into: str  # the conv/linear it folds into


def fold_pairs(layers: Iterable[Layer], outputs: Iterable[str] = ()) -> tuple[FoldPair, ...]:
    """The (BN, conv/linear) pairs that fold: a BN whose only input is a conv or linear layer that nothing else
    reads and that is not itself a network output (then its pre-BN tensor must stay)."""
    layers = list(layers)
    by_name = {layer.name: layer for layer in layers}
    keep = set(outputs)
    readers: dict[str, int] = {}
    for layer in layers:
        for src in layer.inputs:
            readers[src] = readers.get(src, 0) + 1
    pairs = []
    for layer in layers:
        if layer.op != "bn" or len(layer.inputs) != 1:
            continue
        prev = by_name.get(layer.inputs[0])
        if prev is None or not op_of(prev.op, prev.kind).weighted or readers.get(prev.name, 0) != 1:
            continue
        if prev.name not in keep:
            pairs.append(FoldPair(layer.name, prev.name))
    return tuple(pairs)


def _deployed_counts(layers: tuple[Layer, ...], outputs: tuple[str, ...]) -> dict[str, int]:
    """params_deployed of every layer by :func:`fold_pairs`: a folded BN has none; its conv/linear gains one bias
    per channel (computed from ``params``, so that folding an already-folded plan changes nothing)."""
    by_name = {layer.name: layer for layer in layers}
    out = {layer.name: layer.params for layer in layers}
    for pair in fold_pairs(layers, outputs):
        out[pair.bn] = 0
        into = by_name[pair.into]
        if not into.bias:
            out[pair.into] = into.params + by_name[pair.bn].out_shape[0]
    return out


def _deployed(layers: tuple[Layer, ...], outputs: tuple[str, ...]) -> tuple[Layer, ...]:
    """The layers with params_deployed set by :func:`_deployed_counts` (a copy of each layer that changes)."""
    counts = _deployed_counts(layers, outputs)
    return tuple(
        layer if layer.params_deployed == counts[layer.name] else replace(layer, params_deployed=counts[layer.name])
        for layer in layers
    )


def deploy_in_place(layers: list[Layer], outputs: tuple[str, ...]) -> tuple[Layer, ...]:
    """:func:`_deployed` for layers nobody else holds yet (the plan builder's): set in place, no copies; the
    plan then finds nothing to change. A copy per layer made large tables slow to expand."""
    layers_ = tuple(layers)
    counts = _deployed_counts(layers_, outputs)
    for layer in layers_:
        if layer.params_deployed != counts[layer.name]:
            object.__setattr__(layer, "params_deployed", counts[layer.name])  # frozen for others; not shared yet
    _JUST_DEPLOYED[0] = (layers_, tuple(outputs))
    return layers_


# (layers, outputs) that deploy_in_place has just set, so the plan made of them need not redo it. One slot, read
# once and compared by identity: threads expanding plans at once at worst redo the work.
_JUST_DEPLOYED: list = [None]


@dataclass(frozen=True)
class Plan:
    """The expanded network: layers in execution order, the output layer name, and where rows begin."""

    model: str
    input: tuple[int, ...]
    layers: tuple[Layer, ...]
    output: str  # the main (last) output
    rows: tuple[RowInfo, ...]
    options: dict
    outputs: tuple[str, ...] = ()  # every network output, in order (several for detectors); () = (output,)
    notes: tuple[str, ...] = ()  # how the plan was made when that matters (a traced module: fx or hook walk)
    # a traced module's plan: layer name -> that layer's torch module in the user's network (a callable the
    # torch tier calls; None for tables). archlab.nn.build uses it so that a build runs the user's modules.
    modules: object = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.outputs:
            object.__setattr__(self, "outputs", (self.output,))
        just = _JUST_DEPLOYED[0]
        if just is None or just[0] is not self.layers or just[1] != self.outputs:
            object.__setattr__(self, "layers", _deployed(self.layers, self.outputs))
        object.__setattr__(self, "_by_name", {layer.name: layer for layer in self.layers})

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (KeyError if there is none)."""
        return self._by_name[name]  # type: ignore[attr-defined]

    def has(self, name: str) -> bool:
        return name in self._by_name  # type: ignore[attr-defined]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layer(self.output).out_shape

    def shape_of(self, name: str) -> tuple[int, ...]:
        """The shape of a tensor of the plan: a layer's output, or the network input (``input``)."""
        return tuple(self.input) if name == INPUT else self.layer(name).out_shape

    def totals(self) -> dict[str, int]:
        columns = zip(*map(attrgetter(*COUNT_KEYS), self.layers))
        return dict(zip(COUNT_KEYS, [sum(column) for column in columns] or [0] * len(COUNT_KEYS)))

    def fold_pairs(self) -> tuple[FoldPair, ...]:
        return fold_pairs(self.layers, self.outputs)

    def uncounted(self) -> dict[str, int]:
        """The ops archlab has no rule for (``opaque`` layers), by name, with how often each is called."""
        return uncounted(self.layers)


def uncounted(layers: Iterable[Layer]) -> dict[str, int]:
    """Calls of ops without a rule by name (``torch.cumsum: 2``); a call with several outputs counts once."""
    out: dict[str, int] = {}
    for layer in layers:
        if layer.op != "opaque":
            continue
        item = json.loads(layer.args).get("item") if layer.args else None
        if not item:
            out[layer.fn] = out.get(layer.fn, 0) + 1
    return out


def uncounted_line(counts: dict[str, int]) -> str:
    """``not counted (archlab has no rule): torch.cumsum x2, torch.fft.rfft2 x1`` or '' when there are none."""
    if not counts:
        return ""
    listed = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"not counted (archlab has no rule for these ops; their MAdds and other ops are missing): {listed}"
