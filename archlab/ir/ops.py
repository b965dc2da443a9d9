"""The op table: everything archlab states about each primitive op, in one place.

Every plan layer has an ``op`` (and a ``kind`` for ops with variants). For each op one :class:`Op` entry states
(its small pure handles live in :mod:`archlab.ir.op_handles` and :mod:`archlab.ir.shape_handles`, as fvcore's
``jit_handles`` beside its table):

``make``      the shape rule: the layer from its fields and its inputs' shapes (ShapeError naming the field);
``counts``    params, MAdds, other ops and activations of a layer (archlab's conventions, ``CONVENTIONS``);
``rf``        the receptive-field recurrence, by name (:mod:`archlab.static.receptive` implements each);
``aliases``   the output shares its input's storage (a view or the identity at inference): memory and the
              roofline move no bytes for it;
``module``    the torch module that builds it: a class of ``torch.nn`` or :mod:`archlab.nn.modules` and its
              keyword arguments (:mod:`archlab.nn.build` constructs it; nothing here imports torch);
``fvcore``/``thop``  what each tool reports for such a layer (the expected count, a short label, the aten
              ops fvcore lists as unsupported) and the rule's text (``archlab profile --check``).

:func:`op_of` is how every consumer reads the table: an op (or a kind) without an entry raises an error naming
it, so nothing is counted, sized or passed through in silence. Adding an op is one entry here (with its
handles) and its tests (``tests/test_ops.py`` checks that every entry is complete and consistent with torch,
fvcore and thop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from archlab.errors import ArchlabError
from archlab.ir import op_handles as h
from archlab.ir import shape_handles as sh
from archlab.ir.layer import Layer, numel
from archlab.ir.op_handles import (
    ACT_SYNONYMS,
    ACTIVATIONS,
    POOL_KINDS,
    Act,
    Counts,
    ToolRule,
    thop_avgpool_ops,
)
from archlab.ir.shape_handles import UPSAMPLE_KINDS

__all__ = [
    "ACT_SYNONYMS",
    "ACTIVATIONS",
    "ALIASING_OPS",
    "CONVENTIONS",
    "MADD_OPS",
    "OPS",
    "POOL_KINDS",
    "UPSAMPLE_KINDS",
    "Act",
    "Counts",
    "Op",
    "ToolRule",
    "op_of",
    "thop_avgpool_ops",
    "with_counts",
]


@dataclass(frozen=True)
class Op:
    name: str
    rule: str  # the other_ops convention, as the README states it
    make: Callable[..., Layer]
    counts: Callable[[Layer], Counts]
    rf: str  # window | pad | flatten | merge | identity | upsample
    module: Callable[[Layer], tuple[str, dict]]
    fvcore: Callable[[Layer, int], ToolRule]
    thop: Callable[[Layer, int], ToolRule]
    fvcore_text: str
    thop_text: str
    kinds: tuple[str, ...] = ("",)
    aliases: bool = False
    weighted: bool = False  # conv/linear: its multiply-adds are madds, and a BN reading only it folds into it


def op_of(op: str, kind: str | None = "") -> Op:
    """The table entry of ``op`` (checking ``kind`` unless None); an ArchlabError naming what has no entry."""
    entry = OPS.get(op)
    if entry is None:
        raise ArchlabError(f"archlab has no rule for op {op!r} (known: {', '.join(OPS)})")
    if kind is not None and kind not in entry.kinds:
        raise ArchlabError(f"archlab has no rule for {op} kind {kind!r} (known: {', '.join(entry.kinds)})")
    return entry


def with_counts(layer: Layer, *, fresh: bool = False) -> Layer:
    """``layer`` with its counts filled in from its op's rule (params_deployed = params until BN folding).

    ``fresh``: the layer was just made and nobody else holds it: its counts are set in place (the plan builder
    does this for every layer; a copy per layer made large tables slow to expand)."""
    c = op_of(layer.op, layer.kind).counts(layer)
    if not fresh:
        return replace(
            layer,
            params=c.params,
            params_deployed=c.params,
            madds=c.madds,
            other_ops=c.other_ops,
            activations=c.activations,
        )
    set_ = object.__setattr__  # frozen for everyone else; this layer is not shared yet
    set_(layer, "params", c.params)
    set_(layer, "params_deployed", c.params)
    set_(layer, "madds", c.madds)
    set_(layer, "other_ops", c.other_ops)
    set_(layer, "activations", c.activations)
    return layer


def _act_text(tool: str) -> str:
    """What ``tool`` reports for the activations, from their facts in ``ACTIVATIONS``."""
    acts = ACTIVATIONS.values()
    if tool == "thop":
        counted = ", ".join(a.label for a in acts if a.thop_per_element)
        return f"{counted} 1 per element in eval mode (count_prelu); others 0"
    ignored = ", ".join(a.label for a in acts if a.fvcore_ignores)
    listed = [a for a in acts if not a.fvcore_ignores]
    return (
        f"{ignored} ignored (on fvcore's ignore list); {', '.join(a.label for a in listed)} unsupported, not "
        f"counted, listed ({', '.join(f'aten::{a.aten}' for a in listed)})"
    )


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op(
            "conv",
            "0 (its multiply-adds are madds)",
            h.make_conv,
            h.count_conv,
            "window",
            h.conv_module,
            h.madds,
            h.madds,
            "multiply-adds, bias not counted (same rule as archlab)",
            "multiply-adds, bias not counted (same rule as archlab)",
            weighted=True,
        ),
        Op(
            "linear",
            "0 (its multiply-adds are madds)",
            h.make_linear,
            h.count_linear,
            "identity",
            lambda l: ("Linear", dict(in_features=l.in_shape[0], out_features=l.out_shape[0], bias=l.bias)),
            h.madds,
            h.madds,
            "multiply-adds, bias not counted (same rule as archlab)",
            "multiply-adds, bias not counted (same rule as archlab)",
            weighted=True,
        ),
        Op(
            "bn",
            "2 per output element",
            h.make_bn,
            h.count_bn,
            "identity",
            h.bn_module,
            lambda l, b: ToolRule(2 * numel(l.out_shape) * b, "BN 2/elt"),
            lambda l, b: ToolRule(4 * numel(l.out_shape) * b, "BN 4/elt"),
            "2 per element in eval mode with affine (aten::batch_norm; 1 without affine, 5 in training)",
            "4 per element with affine, 2 without (count_normalization)",
            kinds=("2d", "1d"),
        ),
        Op(
            "act",
            "1 per element (" + ", ".join(a.label for a in ACTIVATIONS.values()) + ")",
            h.make_act,
            h.count_act,
            "identity",
            h.act_module,
            h.fvcore_act,
            h.thop_act,
            _act_text("fvcore"),
            _act_text("thop"),
            kinds=tuple(ACTIVATIONS),
        ),
        Op(
            "pool",
            "avg/global 1 per input element; max k*k-1 per output element",
            h.make_pool,
            h.count_pool,
            "window",
            h.pool_module,
            h.fvcore_pool,
            h.thop_pool,
            "global 1 per input element (aten::adaptive_avg_pool2d); max/avg unsupported, not counted, listed",
            "global 1 per input + 1 per output element; avg 1 per input of each window (padding included) + 1 per "
            "output element; max 0",
            kinds=POOL_KINDS,
        ),
        Op(
            "add",
            "1 per element per added tensor (residual add)",
            h.make_add,
            h.count_add,
            "merge",
            h.simple("Add"),
            lambda l, b: ToolRule(0, "add unsupported", ("aten::add",) * (len(l.inputs) - 1)),
            h.nothing("add 0 (no rule)"),
            "unsupported, not counted, listed (aten::add)",
            "0: archlab's Add module has no thop rule",
        ),
        Op(
            "mul",
            "1 per element (a gate: squeeze-excite's channel scale, or any gate that broadcasts)",
            h.make_mul,
            h.per_element,
            "merge",
            h.simple("Mul"),
            h.nothing("mul unsupported", ("aten::mul",)),
            h.nothing("mul 0 (no rule)"),
            "unsupported, not counted, listed (aten::mul)",
            "0: archlab's Mul module has no thop rule",
        ),
        Op("concat", "0", h.make_concat, h.none, "merge", h.simple("Concat"), h.nothing(), h.nothing(), "ignored", "0"),
        Op(
            "shuffle",
            "0 (a permutation of channels, copied: ShuffleNet's channel shuffle)",
            sh.make_shuffle,
            h.none,
            "identity",
            lambda l: ("ChannelShuffle", {"groups": l.groups}),
            h.nothing("shuffle unsupported", ("aten::channel_shuffle",)),
            h.nothing(),
            "unsupported, not counted, listed (aten::channel_shuffle)",
            "0 (nn.ChannelShuffle: zero_ops)",
        ),
        Op(
            "slice",
            "0 (a view of a channel range: a part of a channel split)",
            sh.make_slice,
            h.none,
            "identity",
            sh.slice_module,
            h.nothing("slice ignored"),
            h.nothing(),
            "ignored (aten::slice is on fvcore's ignore list)",
            "0: archlab's ChannelSlice module has no thop rule",
            aliases=True,
        ),
        Op(
            "upsample",
            "nearest 0 (a copy), bilinear 4 per output element (a weighted sum of 4 inputs)",
            sh.make_upsample,
            sh.count_upsample,
            "upsample",
            sh.upsample_module,
            sh.upsample_tool({"nearest": 1, "bilinear": 4}, "(fvcore)"),
            sh.upsample_tool({"nearest": 0, "bilinear": 11}, "(thop)"),
            "nearest 1, bilinear 4 per output element (aten::upsample_nearest2d / upsample_bilinear2d)",
            "nearest 0, bilinear 11 per output element (count_upsample)",
            kinds=UPSAMPLE_KINDS,
        ),
        Op(
            "droppath",
            "0 (stochastic depth: the identity at inference)",
            sh.make_identity("droppath"),
            h.none,
            "identity",
            h.simple("Identity"),
            h.nothing(),
            h.nothing(),
            "ignored (nn.Identity runs no aten op)",
            "0 (nn.Identity: zero_ops)",
            aliases=True,
        ),
        Op(
            "pad",
            "0",
            sh.make_pad,
            h.none,
            "pad",
            sh.pad_module,
            h.nothing("pad not counted", None),
            h.nothing(),
            "not counted (aten::constant_pad_nd)",
            "0",
        ),
        Op(
            "flatten",
            "0",
            sh.make_flatten,
            h.none,
            "flatten",
            h.simple("Flatten", start_dim=1),
            h.nothing(),
            h.nothing(),
            "ignored",
            "0",
            aliases=True,
        ),
        Op(
            "dropout",
            "0",
            sh.make_dropout,
            h.none,
            "identity",
            lambda l: ("Dropout", {"p": l.p}),
            h.nothing(),
            h.nothing(),
            "ignored",
            "0",
            aliases=True,
        ),
        Op(
            "opaque",
            "not counted: a traced call archlab has no rule for, listed as uncounted by name and count",
            sh.make_opaque,
            sh.count_opaque,
            "opaque",
            sh.opaque_module,
            h.nothing("no rule", None),
            h.nothing("no rule"),
            "not compared (archlab has no rule for it)",
            "not compared (archlab has no rule for it)",
        ),
    )
}

ALIASING_OPS = tuple(name for name, op in OPS.items() if op.aliases)
MADD_OPS = tuple(name for name, op in OPS.items() if op.weighted)  # conv, linear

CONVENTIONS = {
    "madds": "multiply-adds of conv and linear layers only; bias adds not counted (MobileNet papers)",
    "other_ops": "; ".join(f"{op.name} {op.rule}" for op in OPS.values() if op.name not in MADD_OPS),
    "activations": "output elements of conv and linear layers (fvcore's ActivationCountAnalysis rule)",
    "params": "trainable parameters (BN gamma/beta and PReLU slopes included; BN running stats excluded)",
    "params_deployed": (
        "each BN folded into the conv/linear before it: weights + one bias per folded channel + PReLU slopes"
    ),
}


RF_RULES = {
    "window": "sliding window: size += (k_eff - 1) x jump, jump x= stride",
    "pad": "unit 0's centre moves by the top/left padding",
    "flatten": "the whole map (what a following linear layer sees)",
    "merge": "union of the inputs' fields (aligned when jumps and centres agree); a 1x1 gate adds global context",
    "identity": "the input's field",
    "upsample": "jump / s, centre at the half-pixel position, size grown to hold what each unit reads",
    "opaque": "unknown: the union of its inputs' fields, marked `?`",
}


def op_table_markdown() -> list[str]:
    """The op table as configs/README.md shows it (a test keeps the README equal to this)."""
    lines = [
        "| op | kinds | other_ops (archlab) | receptive field | memory | fvcore | thop |",
        "|---|---|---|---|---|---|---|",
    ]
    for op in OPS.values():
        kinds = ", ".join(k for k in op.kinds if k) or "-"
        memory = "aliases its input" if op.aliases else "new tensor"
        lines.append(
            f"| `{op.name}` | {kinds} | {op.rule} | {RF_RULES[op.rf]} | {memory} | {op.fvcore_text} | {op.thop_text} |"
        )
    return lines
