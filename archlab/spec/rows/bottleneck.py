"""``bottleneck``: the inverted residual with linear bottleneck (MobileNetV2 Table 2; MobileFaceNets Table 1;
MobileNetV3 with ``e``, ``se`` and hard-swish; MNASNet).

Each of the ``n`` blocks: 1x1 expansion to round(t x its input channels) (or to ``e`` channels) -> norm -> act,
depthwise k x k (stride ``s`` on the first block only) -> norm -> act, [squeeze-excite], linear 1x1 projection
to ``c`` -> norm [-> ``project_act``]; a residual add when the stride is 1 and input and output channels agree
(unless ``residual: false``). ``expand: auto`` drops the expansion layer when t = 1 (or ``e`` equals the input
channels), as torchvision does; ``expand: always`` keeps it (InsightFace's arcface_torch MobileFaceNet).

Squeeze-excite (:mod:`archlab.spec.rows.se`): ``se: true`` is MobileNetV3's (squeeze _make_divisible(e/4, 8) of
the expanded width, ReLU, hard-sigmoid); a mapping changes any of its keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archlab.errors import TableError
from archlab.spec.fields import ACTS, Field
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType
from archlab.spec.rows.se import MOBILENETV3, resolve_se, se_field, squeeze_excite

EXPAND = Field(
    "expand",
    "choice",
    "auto: no 1x1 expansion when it would keep the width (t = 1, or e = input); always: keep it",
    "auto",
    choices=("auto", "always"),
)

FIELDS = (
    Field("t", "float", "expansion factor (of each block's input channels)", None, min=0, exclusive_min=True),
    Field("e", "int", "expanded channels, instead of t (MobileNetV3 tables; scaled by --width)", None, min=1),
    Field("c", "int", "output channels (scaled by --width)", min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block", 1, min=1),
    Field("k", "int", "depthwise kernel size", 3, min=1),
    se_field(MOBILENETV3, False),
    Field("residual", "bool", "residual add where the shapes allow it", True),
    Field(
        "project_act",
        "act",
        "activation after the projection (the papers: none, a linear bottleneck)",
        "none",
        choices=ACTS,
    ),
    EXPAND,
    BIAS,
    SCALE,
)


def validate(v: dict) -> None:
    if (v["t"] is None) == (v["e"] is None):
        raise TableError("missing value: give exactly one of t (expansion factor) or e (expanded channels)", field="t")


@dataclass(frozen=True)
class Inverted:
    """How one family builds its inverted residual blocks (bottleneck: MobileNetV2/V3; mbconv: EfficientNet)."""

    hidden: Callable[[Context, dict, int], tuple[int, bool]]  # (ctx, values, cin) -> (width, write the 1x1?)
    se_preset: dict
    drop_path: bool = False  # a drop-path (stochastic depth) site before the residual add


def bottleneck_hidden(ctx: Context, v: dict, cin: int) -> tuple[int, bool]:
    if v["e"] is not None:
        hidden = ctx.channels(v["e"], v["scale"])
        return hidden, hidden != cin or v["expand"] == "always"
    hidden = int(round(cin * v["t"]))
    if hidden < 1:
        raise TableError(
            f"t = {v['t']:g} times {cin} input channels rounds to {hidden} expanded channels; "
            f"t must be at least {0.5 / cin:.3g} here",
            field="t",
        )
    return hidden, v["t"] != 1 or v["expand"] == "always"


BOTTLENECK = Inverted(bottleneck_hidden, MOBILENETV3)


def inverted_blocks(v: dict, ctx: Context, family: Inverted) -> None:
    """The ``n`` blocks of an inverted-residual row."""
    b = ctx.builder
    c = ctx.channels(v["c"], v["scale"])
    se = resolve_se(v["se"], family.se_preset)
    for i in range(v["n"]):
        src = ctx.x
        cin = ctx.shape[0]
        stride = v["s"] if i == 0 else 1
        hidden, expands = family.hidden(ctx, v, cin)
        x = src
        if expands:
            x = ctx.unit(i, "expand", x, hidden, 1)
        x = ctx.unit(i, "dw", x, hidden, v["k"], stride, groups=hidden)
        if se is not None:
            x = squeeze_excite(ctx, i, x, se, cin)
        x = ctx.unit(i, "project", x, c, 1, act=v.get("project_act", "none"))
        if v["residual"] and stride == 1 and cin == c:
            if family.drop_path:
                x = b.droppath(ctx.name(i, "drop_path"), x)
            x = b.add(ctx.name(i, "add"), x, src)
        ctx.x = x


def expand(v: dict, ctx: Context) -> None:
    inverted_blocks(v, ctx, BOTTLENECK)


ROW = RowType(
    "bottleneck", "inverted residual block(s): expand, depthwise, linear projection", FIELDS, expand, validate
)
