"""Row proposals for ``archlab extract``: from the traced layers at a position, the fields of a row type that
may have made them (a bottleneck, an Xception block, a depthwise-separable conv, a conv, a pool, a concat, the
head), or the primitive ``layer`` row of one layer. A proposal is only a guess; :mod:`archlab.studies.extract`
expands it and keeps it only if it makes exactly those layers.
"""

from __future__ import annotations

from typing import TypeGuard

from archlab.ir.layer import Layer
from archlab.spec.fields import ACTS


class Cursor:
    """The traced layers and who reads whom."""

    def __init__(self, layers: tuple[Layer, ...]) -> None:
        self.layers = layers
        self.readers: dict[str, list[str]] = {}
        for layer in layers:
            for src in layer.inputs:
                self.readers.setdefault(src, []).append(layer.name)

    def at(self, i: int) -> Layer | None:
        return self.layers[i] if 0 <= i < len(self.layers) else None

    def is_(self, i: int, op: str, reads: str | None = None) -> bool:
        layer = self.at(i)
        return layer is not None and layer.op == op and (reads is None or layer.inputs[:1] == (reads,))


def _square(v) -> int | None:
    return v[0] if v is not None and v[0] == v[1] else None


def _k(layer: Layer) -> int:
    return (layer.kernel or (1, 1))[0]


def _s(layer: Layer) -> int:
    return (layer.stride or (1, 1))[0]


def _is_pointwise(layer: Layer | None) -> TypeGuard[Layer]:
    return layer is not None and layer.op == "conv" and layer.kernel == (1, 1) and layer.groups == 1


def _is_depthwise(layer: Layer | None) -> TypeGuard[Layer]:
    return layer is not None and layer.op == "conv" and layer.groups == layer.in_shape[0] == layer.out_shape[0] > 1


def _unit(cur: Cursor, i: int) -> tuple[int, str, str]:
    """conv at ``i`` [-> bn] [-> act]: (layers it spans, norm, act kind or none)."""
    j, norm, act = i + 1, "none", "none"
    name = cur.layers[i].name
    if cur.is_(j, "bn", name):
        norm, name, j = "bn", cur.layers[j].name, j + 1
    if cur.is_(j, "act", name) and cur.layers[j].kind in ACTS:
        act, j = cur.layers[j].kind, j + 1
    return j - i, norm, act


def _padding_field(layer: Layer):
    """The conv row's ``padding``: omitted when PyTorch's (k // 2) * dilation, else valid or an integer."""
    kernel, dilation, padding = layer.kernel or (1, 1), layer.dilation or (1, 1), layer.padding or (0, 0)
    if padding == ((kernel[0] // 2) * dilation[0], (kernel[1] // 2) * dilation[1]):
        return None
    if padding == (0, 0):
        return "valid"
    return padding[0] if padding[0] == padding[1] else None


def conv_row(cur: Cursor, i: int) -> dict | None:
    layer = cur.at(i)
    if layer is None or layer.op != "conv" or _square(layer.kernel) is None or _square(layer.stride) is None:
        return None
    span, norm, act = _unit(cur, i)
    row: dict = {"type": "conv", "c": layer.out_shape[0], "k": _k(layer), "s": _s(layer)}
    if layer.groups == layer.in_shape[0] > 1:
        row.update(depthwise=True)
    elif layer.groups > 1:
        row["groups"] = layer.groups
    if _square(layer.dilation) != 1:
        row["dilation"] = _square(layer.dilation)
    padding = _padding_field(layer)
    if padding is not None:
        row["padding"] = padding
    if layer.bias:
        row["bias"] = True
    last = cur.layers[i + span - 1].name
    nxt = cur.at(i + span)
    if nxt is not None and nxt.op == "pool" and nxt.kind == "max" and nxt.inputs == (last,):
        row["pool"] = True
    return {**row, "norm": norm, "act": act}


def bottleneck_row(cur: Cursor, i: int) -> dict | None:
    first = cur.at(i)
    if first is None or first.op != "conv":
        return None
    src, cin = first.inputs[0], first.in_shape[0]
    j, hidden, act, norm = i, cin, None, "bn"
    if _is_pointwise(first) and not _is_depthwise(first):
        span, norm, act = _unit(cur, i)
        hidden, j = first.out_shape[0], i + span
    dw = cur.at(j)
    if not _is_depthwise(dw) or dw.out_shape[0] != hidden or _square(dw.kernel) is None:
        return None
    span, dw_norm, dw_act = _unit(cur, j)
    j += span
    se = cur.is_(j, "pool") and cur.layers[j].kind == "global"
    while se and j < len(cur.layers) and cur.layers[j].op != "mul":
        j += 1
    j += 1 if se else 0
    project = cur.at(j)
    if not _is_pointwise(project):
        return None
    span, _, project_act = _unit(cur, j)
    add = cur.at(j + span)
    residual = add is not None and add.op == "add" and src in add.inputs
    row: dict = {"type": "bottleneck", "c": project.out_shape[0], "s": _s(dw), "k": _k(dw)}
    if hidden == cin and act is None:
        row["t"] = 1
    elif hidden % cin == 0:
        row["t"] = hidden // cin
    else:
        row["e"] = hidden
    if se:
        row["se"] = True
    if not residual and dw.stride == (1, 1) and cin == project.out_shape[0]:
        row["residual"] = False
    if project_act != "none":
        row["project_act"] = project_act
    return {**row, "norm": dw_norm, "act": dw_act if act is None else act}


def dwsep_row(cur: Cursor, i: int) -> dict | None:
    dw = cur.at(i)
    if not _is_depthwise(dw) or _square(dw.kernel) is None:
        return None
    span, norm, act = _unit(cur, i)
    pw = cur.at(i + span)
    if not _is_pointwise(pw):
        return None
    _, pw_norm, pw_act = _unit(cur, i + span)
    row: dict = {"type": "dwsep", "c": pw.out_shape[0], "s": _s(dw), "k": _k(dw)}
    if span == 1:
        row["dw_norm"] = False
    return {**row, "norm": pw_norm, "act": pw_act}


def xception_row(cur: Cursor, i: int) -> dict | None:
    first = cur.at(i)
    if first is None:
        return None
    src = first.inputs[0]
    end = next((k for k in range(i + 3, min(i + 24, len(cur.layers))) if cur.layers[k].op == "add"), None)
    if end is None or src not in (*cur.layers[end].inputs, *_sources(cur, i, end)):
        return None
    body = cur.layers[i : end + 1]
    dws = [layer for layer in body if _is_depthwise(layer)]
    pws = [layer for layer in body if _is_pointwise(layer) and layer.inputs[0] != src]
    pools = [layer for layer in body if layer.op == "pool"]
    acts = [layer.kind for layer in body if layer.op == "act"]
    if not dws or len(pws) != len(dws):
        return None
    c = cur.layers[end].out_shape[0]
    row = {
        "type": "xception",
        "c": c,
        "reps": len(dws),
        "s": _s(pools[0]) if pools else 1,
        "k": _k(dws[0]),
        "start_with_relu": first.op == "act",
        "grow_first": pws[0].out_shape[0] == c,
    }
    return {
        **row,
        "norm": "bn" if any(layer.op == "bn" for layer in body) else "none",
        "act": acts[0] if acts else "none",
    }


def _sources(cur: Cursor, i: int, end: int) -> list[str]:
    return [src for layer in cur.layers[i : end + 1] for src in layer.inputs]


def pool_row(cur: Cursor, i: int) -> dict | None:
    layer = cur.at(i)
    if layer is None or layer.op != "pool":
        return None
    if layer.kind == "global":
        return {"type": "pool", "kind": "global"}
    k, s = _square(layer.kernel), _square(layer.stride)
    if k is None or s is None or layer.padding is None or layer.padding[0] != layer.padding[1]:
        return None
    row = {"type": "pool", "kind": layer.kind, "k": k, "s": s, "padding": layer.padding[0]}
    return {**row, "ceil": True} if getattr(layer, "ceil_mode", False) else row


def upsample_row(cur: Cursor, i: int) -> dict | None:
    layer = cur.at(i)
    if layer is None or layer.op != "upsample":
        return None
    return {"type": "upsample", "scale": layer.scale, "mode": layer.kind}


def concat_row(cur: Cursor, i: int) -> dict | None:
    layer = cur.at(i)
    return {"type": "concat"} if layer is not None and layer.op == "concat" else None


def layer_row(layer: Layer) -> dict:
    """The primitive ``layer`` row of one traced layer (archlab.spec.rows.layer)."""
    row: dict = {"type": "layer", "op": layer.op}
    if layer.op == "conv":
        row.update(c=layer.out_shape[0], k=_pair(layer.kernel), s=_pair(layer.stride), padding=_pair(layer.padding))
        if layer.dilation != (1, 1):
            row["dilation"] = _pair(layer.dilation)
        if layer.groups != 1:
            row["groups"] = layer.groups
        if layer.bias:
            row["bias"] = True
    elif layer.op == "linear":
        row.update(c=layer.out_shape[0], **({"bias": True} if layer.bias else {}))
    elif layer.op == "bn":
        row.update({k: v for k, v in (("eps", layer.eps), ("momentum", layer.momentum)) if v is not None})
    elif layer.op == "act":
        row["kind"] = layer.kind
    elif layer.op == "pool":
        row["kind"] = layer.kind
        if layer.kind != "global":
            row.update(k=_pair(layer.kernel), s=_pair(layer.stride), padding=_pair(layer.padding))
    elif layer.op == "pad":
        row["pads"] = list(layer.padding or ())
    elif layer.op == "dropout":
        row["p"] = layer.p
    elif layer.op == "shuffle":
        row["groups"] = layer.groups
    elif layer.op == "opaque":
        row.update(fn=layer.fn, shape=list(layer.out_shape))
        row.update({k: v for k, v in (("params", layer.params), ("args", layer.args)) if v})
    return row


def _pair(v):
    if v is None:
        return None
    return v[0] if v[0] == v[1] else list(v)


def head_proposals(cur: Cursor, i: int) -> list[dict]:
    """The ``head:`` that may have made every layer from ``i`` to the end (several guesses, most likely first)."""
    layers = cur.layers[i:]
    if not layers or len(layers) > 8:
        return []
    first = layers[0]
    if not first.in_shape:  # a scalar (a traced Tensor.sum, ...): no head reads it
        return []
    c, *hw = first.in_shape
    if first.op == "pool" and first.kind == "global":
        pool = "gap"
    elif first.op == "conv" and len(hw) == 2 and first.kernel == tuple(hw) and first.groups == c and not first.bias:
        pool = "gdconv"
    elif first.op == "flatten":
        pool = "fc"
    else:
        return []
    ops = [layer.op for layer in layers]
    norm = "bn" if "bn" in ops else "none"
    if pool != "gdconv" and "linear" in ops and not any(layer.op == "linear" and not layer.bias for layer in layers):
        norm = "bn"  # a classifier head has no norm layer: leave the field out
    linears = [layer for layer in layers if layer.op == "linear"]
    convs = [layer for layer in layers[1:] if layer.op == "conv"]
    heads: list[dict] = []
    if convs and not linears:
        heads.append({"pool": pool, "norm": norm, "embedding": {"size": convs[-1].out_shape[0], "layer": "conv"}})
    elif linears and not linears[-1].bias:
        heads.append({"pool": pool, "norm": norm, "embedding": {"size": linears[-1].out_shape[0], "layer": "linear"}})
    elif linears:
        drop = next((layer.p for layer in layers if layer.op == "dropout"), 0.0)
        classifier: dict = {"classes": linears[-1].out_shape[0]}
        if len(linears) == 2:
            acts = [layer.kind for layer in layers if layer.op == "act"]
            classifier.update(hidden=linears[0].out_shape[0], act=acts[0] if acts else "none")
        if drop:
            classifier["dropout"] = drop
        heads.append({"pool": pool, "norm": norm, "classifier": classifier})
    elif not linears and not convs:
        heads.append({"pool": pool, "norm": norm})
    return heads
