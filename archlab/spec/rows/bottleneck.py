"""``bottleneck``: the inverted residual with linear bottleneck (MobileNetV2 Table 2; MobileFaceNets Table 1;
MobileNetV3 with ``e``, ``se`` and hard-swish).

Each of the ``n`` blocks: 1x1 expansion to round(t x its input channels) (or to ``e`` channels) -> norm -> act,
depthwise k x k (stride ``s`` on the first block only) -> norm -> act, [squeeze-excite], linear 1x1 projection
to ``c`` -> norm [-> ``project_act``]; a residual add when the stride is 1 and input and output channels agree
(unless ``residual: false``). There is no expansion layer when t = 1 (or ``e`` equals the input channels).

Squeeze-excite (MobileNetV3): global average pool -> 1x1 conv to _make_divisible(e/4, 8) with bias -> ReLU ->
1x1 conv back with bias -> hard-sigmoid -> scale the depthwise output (roles se_pool, se_fc1, se_act, se_fc2,
se_gate, se_scale).
"""

from __future__ import annotations

from archlab.errors import TableError
from archlab.spec.fields import ACTS, Field
from archlab.spec.rounding import make_divisible
from archlab.spec.rows.base import SCALE, Context, RowType

FIELDS = (
    Field("t", "float", "expansion factor (of each block's input channels)", None, min=0, exclusive_min=True),
    Field("e", "int", "expanded channels, instead of t (MobileNetV3 tables; scaled by --width)", None, min=1),
    Field("c", "int", "output channels (scaled by --width)", min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block", 1, min=1),
    Field("k", "int", "depthwise kernel size", 3, min=1),
    Field("se", "bool", "squeeze-and-excitation after the depthwise conv (MobileNetV3)", False),
    Field("residual", "bool", "residual add where the shapes allow it", True),
    Field(
        "project_act",
        "choice",
        "activation after the projection (the papers: none, a linear bottleneck)",
        "none",
        choices=ACTS,
    ),
    SCALE,
)


def validate(v: dict) -> None:
    if (v["t"] is None) == (v["e"] is None):
        raise TableError("missing value: give exactly one of t (expansion factor) or e (expanded channels)", field="t")


def squeeze_excite(ctx: Context, block: int, x: str) -> str:
    b = ctx.builder
    channels = ctx.shape_of(x)[0]
    squeeze = make_divisible(channels // 4, 8)
    gate = b.pool(ctx.name(block, "se_pool"), x, "global")
    gate = b.conv(ctx.name(block, "se_fc1"), gate, squeeze, 1, bias=True, padding=0)
    gate = b.act(ctx.name(block, "se_act"), gate, "relu")
    gate = b.conv(ctx.name(block, "se_fc2"), gate, channels, 1, bias=True, padding=0)
    gate = b.act(ctx.name(block, "se_gate"), gate, "hardsigmoid")
    return b.mul(ctx.name(block, "se_scale"), x, gate)


def expand(v: dict, ctx: Context) -> None:
    b = ctx.builder
    c = ctx.channels(v["c"], v["scale"])
    for i in range(v["n"]):
        src = ctx.x
        cin = ctx.shape[0]
        stride = v["s"] if i == 0 else 1
        if v["e"] is not None:
            hidden = ctx.channels(v["e"], v["scale"])
            expands = hidden != cin
        else:
            hidden = int(round(cin * v["t"]))
            expands = v["t"] != 1
            if hidden < 1:
                raise TableError(
                    f"t = {v['t']:g} times {cin} input channels rounds to {hidden} expanded channels; "
                    f"t must be at least {0.5 / cin:.3g} here",
                    field="t",
                )
        x = src
        if expands:
            x = ctx.unit(i, "expand", x, hidden, 1)
        x = ctx.unit(i, "dw", x, hidden, v["k"], stride, groups=hidden)
        if v["se"]:
            x = squeeze_excite(ctx, i, x)
        x = ctx.unit(i, "project", x, c, 1, act=v["project_act"])
        if v["residual"] and stride == 1 and cin == c:
            x = b.add(ctx.name(i, "add"), x, src)
        ctx.x = x


ROW = RowType(
    "bottleneck", "inverted residual block(s): expand, depthwise, linear projection", FIELDS, expand, validate
)
