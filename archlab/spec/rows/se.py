"""Squeeze-and-excitation, shared by the rows that offer it (``bottleneck``, ``mbconv``).

``se: true`` is the row's preset; ``se: {ratio, base, gate, act, divisor}`` changes any of its keys:

- squeeze width = floor(ratio x base channels), where base is the block's input (``in``, EfficientNet) or its
  expanded width (``expanded``, MobileNetV3), then ``make_divisible(., divisor)`` when divisor > 1, else at least 1;
- global average pool -> 1x1 conv to the squeeze width (bias) -> ``act`` -> 1x1 conv back (bias) -> ``gate``
  -> scale the map (roles se_pool, se_fc1, se_act, se_fc2, se_gate, se_scale).
"""

from __future__ import annotations

import math
from fractions import Fraction

from archlab.spec.fields import ACTS, Field
from archlab.spec.rounding import make_divisible
from archlab.spec.rows.base import Context

BASES = ("in", "expanded")
# each key optional: what a row's `se:` mapping leaves out comes from the row's preset
SE_KEYS = (
    Field("ratio", "float", "squeeze width as a fraction of the base channels", None, min=0, exclusive_min=True),
    Field("base", "choice", "the channels the ratio applies to: in (block input) or expanded", None, choices=BASES),
    Field("gate", "choice", "the gate's activation", None, choices=("sigmoid", "hardsigmoid")),
    Field(
        "act", "act", "the activation between the two 1x1 convs", None, choices=tuple(a for a in ACTS if a != "none")
    ),
    Field("divisor", "int", "round the squeeze width with make_divisible to this (1: no rounding)", None, min=1),
)
MOBILENETV3 = {"ratio": 0.25, "base": "expanded", "gate": "hardsigmoid", "act": "relu", "divisor": 8}
EFFICIENTNET = {"ratio": 0.25, "base": "in", "gate": "sigmoid", "act": "silu", "divisor": 1}


def se_field(preset: dict, default: bool) -> Field:
    described = ", ".join(f"{k}: {v}" for k, v in preset.items())
    return Field(
        "se",
        "switch",
        f"squeeze-and-excitation after the depthwise conv: true = {{{described}}}, or a mapping changing those keys",
        default,
        fields=SE_KEYS,
    )


def resolve_se(value, preset: dict) -> dict | None:
    """The row's ``se`` value as full settings (None: no squeeze-excite)."""
    if value is False or value is None:
        return None
    return {**preset, **(value if isinstance(value, dict) else {})}


def squeeze_width(settings: dict, block_in: int, expanded: int) -> int:
    base = block_in if settings["base"] == "in" else expanded
    squeeze = math.floor(Fraction(repr(float(settings["ratio"]))) * base)
    divisor = settings["divisor"]
    return make_divisible(squeeze, divisor) if divisor > 1 else max(1, squeeze)


def squeeze_excite(ctx: Context, block: int, x: str, settings: dict, block_in: int) -> str:
    b = ctx.builder
    channels = ctx.shape_of(x)[0]
    squeeze = squeeze_width(settings, block_in, channels)
    gate = b.pool(ctx.name(block, "se_pool"), x, "global")
    gate = b.conv(ctx.name(block, "se_fc1"), gate, squeeze, 1, bias=True, padding=0)
    gate = b.act(ctx.name(block, "se_act"), gate, settings["act"])
    gate = b.conv(ctx.name(block, "se_fc2"), gate, channels, 1, bias=True, padding=0)
    gate = b.act(ctx.name(block, "se_gate"), gate, settings["gate"])
    return b.mul(ctx.name(block, "se_scale"), x, gate)
