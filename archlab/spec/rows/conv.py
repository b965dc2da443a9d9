"""``conv``: one convolution + norm + activation (optionally depthwise, optionally followed by a max-pool)."""

from __future__ import annotations

from archlab.errors import ShapeError, TableError
from archlab.spec.fields import Field
from archlab.spec.rows.base import SCALE, Context, RowType

FIELDS = (
    Field(
        "c", "int", "output channels (scaled by --width); omit for a depthwise conv to keep the input's", None, min=1
    ),
    Field(
        "t",
        "float",
        "output channels as a multiple of the input's, instead of c (MobileNetV3's last conv: 6 x its input)",
        None,
        min=0,
        exclusive_min=True,
    ),
    Field("k", "int", "kernel size", 3, min=1),
    Field("s", "int", "stride", 1, min=1),
    Field("groups", "int", "convolution groups", 1, min=1),
    Field("depthwise", "bool", "groups = input channels", False),
    Field("dilation", "int", "dilation", 1, min=1),
    Field(
        "padding",
        "padding",
        "auto (k//2 * dilation), same (TensorFlow), valid (0) or an integer; defaults.padding when omitted",
        None,
    ),
    Field("bias", "bool", "conv has a bias", False),
    Field("pool", "bool", "a 3x3 stride-2 pad-1 max-pool after the activation (used by --stem-pool)", False),
    SCALE,
)


def validate(v: dict) -> None:
    if v["depthwise"] and v["groups"] != 1:
        raise TableError("give either depthwise: true or groups, not both", field="groups")
    if v["c"] is not None and v["t"] is not None:
        raise TableError("give either c (channels) or t (a multiple of the input's), not both", field="t")
    if v["c"] is None and v["t"] is None and not v["depthwise"]:
        raise TableError("missing value (only a depthwise conv may omit c; or give t)", field="c")


def expand(v: dict, ctx: Context) -> None:
    cin = ctx.shape[0]
    if v["t"] is not None:
        c = max(1, int(round(cin * v["t"])))  # the input is already scaled by --width
    else:
        c = cin if v["c"] is None else ctx.channels(v["c"], v["scale"])
    groups = v["groups"]
    if v["depthwise"]:
        groups = cin
        if c % cin:
            raise ShapeError(f"a depthwise conv's channels ({c}) must be a multiple of its input's ({cin})", field="c")
    x = ctx.unit(
        0, "conv", ctx.x, c, v["k"], v["s"], groups=groups, dilation=v["dilation"], padding=v["padding"], bias=v["bias"]
    )
    if v["pool"]:
        x = ctx.builder.pool(ctx.name(0, "pool"), x, "max", 3, 2, 1)
    ctx.x = x


ROW = RowType("conv", "convolution + norm + activation", FIELDS, expand, validate)
