"""``layer``: one primitive op of the op table, its fields written out (what ``archlab extract`` writes where no
row type fits, so an extracted table is always complete).

``op`` is any entry of the op table (conv, linear, bn, act, pool, add, mul, concat, pad, flatten, dropout,
shuffle, opaque, ...); the fields that apply to it:

=========  =====================================================================================
conv       ``c``, ``k``, ``s``, ``padding`` (default (k // 2) * dilation), ``dilation``, ``groups``, ``bias``
linear     ``c`` (output features), ``bias``
bn         ``eps``, ``momentum`` (PyTorch's when omitted)
act        ``kind`` (relu, relu6, prelu, ...; default: the row's ``act``)
pool       ``kind`` (max, avg, global), ``k``, ``s``, ``padding``
pad        ``pads``: [top, bottom, left, right]
dropout    ``p``
shuffle    ``groups``
opaque     ``fn`` (the torch function), ``shape`` (its output per image), ``params``, ``args`` (JSON: how to call
           it, ``{"args": [{"tensor": 0}, 1], "kwargs": {}}``; archlab calls torch tensor functions only)
=========  =====================================================================================

``k``, ``s``, ``padding`` and ``dilation`` take an integer or a pair [h, w]. add, mul and concat read the row's
``from`` list. The layer is named ``<row>.0.<op>``; channels are not scaled by ``--width``.
"""

from __future__ import annotations

from archlab.errors import TableError
from archlab.spec.fields import Field
from archlab.spec.rows.base import Context, RowType

FIELDS = (
    Field("op", "str", "the op (an entry of the op table)"),
    Field("c", "int", "conv: output channels; linear: output features", None, min=1),
    Field("k", "pair", "kernel size (conv, pool)", None),
    Field("s", "pair", "stride (conv, pool)", None),
    Field("padding", "pair", "padding (conv: default (k // 2) * dilation; pool: default 0)", None),
    Field("dilation", "pair", "conv dilation", None),
    Field("groups", "int", "conv groups; shuffle groups", None, min=1),
    Field("bias", "bool", "conv/linear bias", None),
    Field("kind", "str", "act: the activation; pool: max, avg or global", None),
    Field("p", "float", "dropout probability", None, min=0),
    Field("pads", "ints", "pad: [top, bottom, left, right]", None),
    Field("eps", "float", "bn epsilon", None, min=0, exclusive_min=True),
    Field("momentum", "float", "bn running-statistics momentum", None, min=0),
    Field("fn", "str", "opaque: the torch function it calls (torch.cumsum, Tensor.view, ...)", None),
    Field("shape", "ints", "opaque: its output shape per image", None),
    Field("params", "int", "opaque: its parameters", None, min=0),
    Field("args", "str", "opaque: its call as JSON (archlab.nn.modules.Call)", None),
)
APPLIES = {
    "conv": ("c", "k", "s", "padding", "dilation", "groups", "bias"),
    "linear": ("c", "bias"),
    "bn": ("eps", "momentum"),
    "act": ("kind",),
    "pool": ("kind", "k", "s", "padding"),
    "pad": ("pads",),
    "dropout": ("p",),
    "shuffle": ("groups",),
    "opaque": ("fn", "shape", "params", "args"),
}
OP_FIELDS = tuple(f.name for f in FIELDS[1:])


def pair(v, default: int) -> tuple[int, int]:
    if v is None:
        return default, default
    if isinstance(v, list):
        return (int(v[0]), int(v[-1]))
    return int(v), int(v)


def validate(v: dict) -> None:
    allowed = APPLIES.get(v["op"], ())
    for name in OP_FIELDS:
        if v[name] is not None and name not in allowed:
            raise TableError(f"does not apply to op {v['op']} (its fields: {', '.join(allowed) or 'none'})", field=name)
    required = {
        "conv": ("c",),
        "linear": ("c",),
        "pool": ("kind",),
        "pad": ("pads",),
        "dropout": ("p",),
        "shuffle": ("groups",),
        "opaque": ("fn", "shape"),
    }
    for name in required.get(v["op"], ()):
        if v[name] is None:
            raise TableError(f"missing value (op {v['op']} needs it)", field=name)
    if v["op"] == "pad" and len(v["pads"]) != 4:
        raise TableError(f"expected [top, bottom, left, right], got {v['pads']!r}", field="pads")


def fields_of(v: dict, ctx: Context) -> dict:
    """The op's ``make`` arguments from the row's fields."""
    op = v["op"]
    if op == "conv":
        kernel, dilation = pair(v["k"], 1), pair(v["dilation"], 1)
        auto = ((kernel[0] // 2) * dilation[0], (kernel[1] // 2) * dilation[1])
        padding = auto if v["padding"] is None else pair(v["padding"], 0)
        return dict(
            c=v["c"],
            kernel=kernel,
            stride=pair(v["s"], 1),
            padding=padding,
            dilation=dilation,
            groups=v["groups"] or 1,
            bias=bool(v["bias"]),
        )
    if op == "linear":
        return dict(out_features=v["c"], bias=bool(v["bias"]))
    if op == "bn":
        return {k: v[k] for k in ("eps", "momentum") if v[k] is not None}
    if op == "act":
        return dict(kind=v["kind"] or ctx.act)
    if op == "pool":
        if v["kind"] == "global":
            return dict(kind="global")
        return dict(kind=v["kind"], kernel=pair(v["k"], 3), stride=pair(v["s"], 2), padding=pair(v["padding"], 0))
    if op == "pad":
        return dict(pads=tuple(v["pads"]))
    if op == "dropout":
        return dict(p=v["p"])
    if op == "shuffle":
        return dict(groups=v["groups"])
    if op == "opaque":
        return dict(fn=v["fn"], out_shape=tuple(v["shape"]), params=v["params"] or 0, args=v["args"] or "")
    return {}


def expand(v: dict, ctx: Context) -> None:
    ctx.x = ctx.builder.layer(v["op"], ctx.name(0, v["op"]), list(ctx.sources), **fields_of(v, ctx))


ROW = RowType(
    "layer", "one primitive op of the op table with its fields (what archlab extract writes)", FIELDS, expand, validate
)
