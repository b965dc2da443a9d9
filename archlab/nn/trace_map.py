"""Which plan op a traced call is: a torch module (``nn.Conv2d``) or a function (``torch.cat``, ``x + y``,
``x.mean((2, 3))``, ``F.adaptive_avg_pool2d``) -> the op-table entries (:mod:`archlab.ir.ops`) and their fields.

Each rule returns the steps the call becomes (usually one op; ``x.mean((2, 3))`` is a global pool then a
flatten), :data:`ALIAS` for a call that returns its input unchanged at inference (``nn.Identity``,
``contiguous``), or None: archlab has no rule for it, and the tracer records it as an ``opaque`` layer that
every output lists. Shapes are per image (the batch dimension dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archlab.ir.ops import ACTIVATIONS

ALIAS = "alias"
PLAIN_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
TORCH_PREFIXES = ("torch.", "F.", "Tensor.", "operator.")


@dataclass
class Step:
    """One plan layer a call becomes: its op, the tensors it reads (``PREVIOUS``: the step before) and fields."""

    op: str
    inputs: list
    fields: dict = field(default_factory=dict)
    suffix: str = ""  # appended to the call's name for the second and later steps
    weights: dict = field(default_factory=dict)  # a functional conv/linear/bn: its tensors (weight, bias, ...)


PREVIOUS = object()


def shape_of(t) -> tuple[int, ...]:
    return tuple(int(v) for v in t.shape[1:])


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        return (int(v[0]), int(v[1])) if len(v) == 2 else (int(v[0]), int(v[0]))
    return int(v), int(v)


# -- modules ------------------------------------------------------------------------------------------------


def module_steps(m, x, kwargs: dict):
    """The steps of a leaf module called on ``x`` (its first argument), or ALIAS, or None."""
    import torch.nn as nn

    if kwargs or x is None:
        return None
    name = type(m).__name__
    shape = shape_of(x)
    if isinstance(m, nn.Conv2d) and type(m).__module__.startswith("torch.nn"):
        return _conv_module(m, x)
    if type(m) is nn.Linear:
        return [Step("linear", [x], {"out_features": m.out_features, "bias": m.bias is not None})]
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine and m.track_running_stats:
        return [Step("bn", [x], bn_fields(m.eps, m.momentum))]
    act = _activation_module(m, x, shape)
    if act is not None:
        return act
    if type(m) in (nn.MaxPool2d, nn.AvgPool2d):
        ceil = bool(getattr(m, "ceil_mode", False))
        return _pool(type(m) is nn.MaxPool2d, x, m.kernel_size, m.stride, m.padding, _pool_ok(m), ceil)
    if type(m) is nn.AdaptiveAvgPool2d and _is_one(m.output_size):
        return [Step("pool", [x], {"kind": "global"})]
    if name in ("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout", "FeatureAlphaDropout"):
        return [Step("dropout", [x], {"p": float(m.p)})]
    if type(m) is nn.Identity:
        return ALIAS
    if type(m) is nn.Flatten and m.start_dim == 1 and m.end_dim == -1:
        return [Step("flatten", [x])] if len(shape) > 1 else ALIAS
    if type(m) in (nn.ZeroPad2d, nn.ConstantPad2d) and getattr(m, "value", 0) == 0:
        return _pad(x, m.padding)
    if type(m) is nn.ChannelShuffle:
        return [Step("shuffle", [x], {"groups": int(m.groups)})]
    if type(m) is nn.Upsample:
        return _upsample(x, m.size, m.scale_factor, m.mode, m.align_corners)
    return None


def _conv_module(m, x):
    if m.padding_mode != "zeros" or len(m.kernel_size) != 2:
        return None
    padding = m.padding
    if isinstance(padding, str):
        total = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
        if padding == "valid":
            padding = (0, 0)
        elif all(t % 2 == 0 for t in total):
            padding = (total[0] // 2, total[1] // 2)
        else:
            return None  # PyTorch's asymmetric 'same': one module, two plan layers; not mapped
    return [Step("conv", [x], _conv_fields(m.weight, m.bias, m.stride, padding, m.dilation, m.groups))]


def _conv_fields(weight, bias, stride, padding, dilation, groups) -> dict:
    return {
        "c": int(weight.shape[0]),
        "kernel": (int(weight.shape[2]), int(weight.shape[3])),
        "stride": _pair(stride),
        "padding": _pair(padding),
        "dilation": _pair(dilation),
        "groups": int(groups),
        "bias": bias is not None,
    }


def bn_fields(eps, momentum) -> dict:
    """A BN's epsilon and momentum as the plan keeps them (momentum None: a cumulative average, as torch allows)."""
    return {"eps": float(eps), "momentum": None if momentum is None else float(momentum)}


def _activation_module(m, x, shape):
    import torch.nn as nn

    if not type(m).__module__.startswith("torch.nn"):
        return None
    name = type(m).__name__
    for kind, act in ACTIVATIONS.items():
        if act.module == name:
            if act.per_channel and (not shape or getattr(m, "num_parameters", 0) != shape[0]):
                return None  # PReLU with one slope for every channel: not archlab's per-channel prelu
            return [Step("act", [x], {"kind": kind})]
    if type(m) is nn.Hardtanh and m.min_val == 0 and m.max_val == 6 and "relu6" in ACTIVATIONS:
        return [Step("act", [x], {"kind": "relu6"})]
    return None


def _pool_ok(m) -> bool:
    if getattr(m, "return_indices", False) or (getattr(m, "ceil_mode", False) and type(m).__name__ != "MaxPool2d"):
        return False  # ceil mode: max pooling only (an average's last window divides by what it covers)
    if _pair(getattr(m, "dilation", 1)) != (1, 1):
        return False
    return getattr(m, "count_include_pad", True) and getattr(m, "divisor_override", None) is None


def _pool(is_max: bool, x, kernel, stride, padding, ok: bool = True, ceil: bool = False):
    if not ok:
        return None
    k = _pair(kernel)
    s = _pair(stride) if stride not in (None, [], ()) else k
    fields = {"kind": "max" if is_max else "avg", "kernel": k, "stride": s, "padding": _pair(padding)}
    return [Step("pool", [x], {**fields, "ceil": True} if ceil else fields)]


def _upsample(x, size, scale, mode, align_corners):
    """An integer-factor nearest or bilinear (align_corners False) upsampling of a map, else None."""
    shape = shape_of(x)
    if len(shape) != 3 or mode not in ("nearest", "bilinear") or (mode == "bilinear" and align_corners):
        return None
    _, h, w = shape
    if size is not None:
        sh, sw = _pair(size)
        factors = {sh / h, sw / w}
    else:
        factors = set(scale) if isinstance(scale, (list, tuple)) else {scale}
    if len(factors) != 1:
        return None
    f = factors.pop()
    if not isinstance(f, (int, float)) or f < 1 or float(f) != int(f):
        return None
    return [Step("upsample", [x], {"kind": mode, "scale": int(f)})]


def _is_one(size) -> bool:
    return size == 1 or (isinstance(size, (list, tuple)) and tuple(size) == (1, 1))


def _pad(x, padding):
    p = _pair(padding) if isinstance(padding, int) else tuple(int(v) for v in padding)
    if len(p) == 2:
        p = (p[0], p[1], 0, 0)
    if len(p) != 4 or len(shape_of(x)) != 3:
        return None
    left, right, top, bottom = p
    if min(p) < 0:
        return None
    return [Step("pad", [x], {"pads": (top, bottom, left, right)})]


# -- functions and methods ----------------------------------------------------------------------------------


def call_key(name: str) -> str:
    """``operator.iadd`` / ``Tensor.__add__`` / ``Tensor.add_`` -> ``add``; ``F.relu`` -> ``relu``."""
    parts = name.rsplit(".", 2)
    key = parts[-1]
    if key == "apply" and len(parts) == 3:  # a custom autograd Function: named after its class
        return parts[-2]
    dunder = key.startswith("__")
    key = key.strip("_")
    if (dunder or name.startswith("operator.")) and key[:1] == "i" and key[1:] in ("add", "mul", "sub", "truediv"):
        key = key[1:]
    return key


def function_steps(name: str, args: tuple, kwargs: dict, out, is_tensor):
    """The steps of a call named ``name`` (:func:`archlab.nn.calls.call_name`) or ALIAS or None. ``is_tensor(v)``:
    is ``v`` a tensor of the traced graph (not a constant or a parameter)."""
    if not name.startswith(TORCH_PREFIXES):
        return None
    key = call_key(name)
    rule = FUNCTION_RULES.get(key)
    if rule is None and key in ACTIVATIONS and args and is_tensor(args[0]):
        return [Step("act", [args[0]], {"kind": key})]
    return rule(args, kwargs, out, is_tensor) if rule is not None else None


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _add(args, kwargs, out, is_tensor):
    if len(args) != 2 or set(kwargs) - {"alpha"} or kwargs.get("alpha", 1) != 1:
        return None
    a, b = args
    if not (is_tensor(a) and is_tensor(b)) or shape_of(a) != shape_of(b):
        return None
    return [Step("add", [a, b])]


def _mul(args, kwargs, out, is_tensor):
    if len(args) != 2 or kwargs or not (is_tensor(args[0]) and is_tensor(args[1])):
        return None
    for x, gate in (args, args[::-1]):  # x has the output's shape; the gate equals it or broadcasts to it
        sx, sg = shape_of(x), shape_of(gate)
        if len(sx) == len(sg) >= 1 and all(g in (1, n) for n, g in zip(sx, sg)):
            return [Step("mul", [x, gate])]
    return None


def _cat(args, kwargs, out, is_tensor):
    tensors = _arg(args, kwargs, 0, "tensors")
    dim = _arg(args, kwargs, 1, "dim", 0)
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2 or not all(is_tensor(t) for t in tensors):
        return None
    if dim not in (1, -3) or any(len(shape_of(t)) != 3 for t in tensors):
        return None
    return [Step("concat", list(tensors))]


def _to_vector(x, out):
    """A reshape that turns a map into the flat vector of its elements (a flatten), or the identity."""
    sx, so = shape_of(x), shape_of(out)
    if so == sx:
        return ALIAS
    if int(out.shape[0]) == int(x.shape[0]) and len(so) == 1 and len(sx) == 3 and so[0] == sx[0] * sx[1] * sx[2]:
        return [Step("flatten", [x])]
    return None


def _flatten(args, kwargs, out, is_tensor):
    x = args[0] if args else kwargs.get("input")
    start, end = _arg(args, kwargs, 1, "start_dim", 0), _arg(args, kwargs, 2, "end_dim", -1)
    if not is_tensor(x) or start != 1 or end not in (-1, len(x.shape) - 1):
        return None
    return _to_vector(x, out)


def _reshape(args, kwargs, out, is_tensor):
    x = args[0] if args else None
    return _to_vector(x, out) if is_tensor(x) and hasattr(out, "shape") else None


def _mean(args, kwargs, out, is_tensor):
    x = args[0] if args else None
    dims = _arg(args, kwargs, 1, "dim")
    keep = _arg(args, kwargs, 2, "keepdim", False)
    if x is None or not is_tensor(x) or len(x.shape) != 4 or set(kwargs) - {"dim", "keepdim"}:
        return None
    dims = {d % 4 for d in (dims if isinstance(dims, (list, tuple)) else [dims]) if isinstance(d, int)}
    if dims != {2, 3}:
        return None
    pool = Step("pool", [x], {"kind": "global"})
    return [pool] if keep else [pool, Step("flatten", [PREVIOUS], suffix="_flatten")]


def _adaptive_avg(args, kwargs, out, is_tensor):
    x, size = args[0] if args else None, _arg(args, kwargs, 1, "output_size")
    return [Step("pool", [x], {"kind": "global"})] if is_tensor(x) and _is_one(size) else None


def _pool_fn(is_max: bool):
    def rule(args, kwargs, out, is_tensor):
        x = args[0] if args else None
        names = ("kernel_size", "stride", "padding") + (("dilation", "ceil_mode") if is_max else ("ceil_mode",))
        vals = {n: _arg(args, kwargs, i + 1, n) for i, n in enumerate(names)}
        if not is_tensor(x) or (vals["ceil_mode"] and not is_max) or vals["kernel_size"] is None:
            return None
        ok = (is_max and _pair(vals.get("dilation") or 1) == (1, 1) and not kwargs.get("return_indices")) or (
            not is_max
            and _arg(args, kwargs, 5, "count_include_pad", True)
            and _arg(args, kwargs, 6, "divisor_override") is None
        )
        ceil = bool(vals["ceil_mode"])
        return _pool(is_max, x, vals["kernel_size"], vals["stride"], vals["padding"] or 0, bool(ok), ceil)

    return rule


def _interpolate(args, kwargs, out, is_tensor):
    x = args[0] if args else kwargs.get("input")
    names = ("size", "scale_factor", "mode", "align_corners")
    vals = {n: _arg(args, kwargs, i + 1, n) for i, n in enumerate(names)}
    if not is_tensor(x) or set(kwargs) - set(names) - {"input", "recompute_scale_factor", "antialias"}:
        return None
    if kwargs.get("antialias"):
        return None
    return _upsample(x, vals["size"], vals["scale_factor"], vals["mode"] or "nearest", vals["align_corners"])


def _hardtanh(args, kwargs, out, is_tensor):
    x = args[0] if args else None
    lo, hi = _arg(args, kwargs, 1, "min_val", -1.0), _arg(args, kwargs, 2, "max_val", 1.0)
    return [Step("act", [x], {"kind": "relu6"})] if is_tensor(x) and (lo, hi) == (0, 6) else None


def _dropout(args, kwargs, out, is_tensor):
    x = args[0] if args else None
    return [Step("dropout", [x], {"p": float(_arg(args, kwargs, 1, "p", 0.5))})] if is_tensor(x) else None


def _pad_fn(args, kwargs, out, is_tensor):
    x, pads = args[0] if args else None, _arg(args, kwargs, 1, "pad")
    mode, value = _arg(args, kwargs, 2, "mode", "constant"), _arg(args, kwargs, 3, "value", None)
    if not is_tensor(x) or mode != "constant" or value not in (None, 0, 0.0) or not isinstance(pads, (list, tuple)):
        return None
    return _pad(x, pads)


def _identity(args, kwargs, out, is_tensor):
    x = args[0] if args else None
    if not is_tensor(x) or not hasattr(out, "shape") or shape_of(out) != shape_of(x):
        return None
    if set(kwargs) - {"memory_format"} or len(args) > 1:
        return None
    return ALIAS


def _shuffle(args, kwargs, out, is_tensor):
    x, groups = args[0] if args else None, _arg(args, kwargs, 1, "groups")
    return [Step("shuffle", [x], {"groups": int(groups)})] if is_tensor(x) and isinstance(groups, int) else None


def _conv2d(args, kwargs, out, is_tensor):
    x, w = args[0] if args else None, _arg(args, kwargs, 1, "weight")
    if not is_tensor(x) or w is None or is_tensor(w) or len(w.shape) != 4:
        return None
    b = _arg(args, kwargs, 2, "bias")
    stride, padding = _arg(args, kwargs, 3, "stride", 1), _arg(args, kwargs, 4, "padding", 0)
    dilation, groups = _arg(args, kwargs, 5, "dilation", 1), _arg(args, kwargs, 6, "groups", 1)
    if isinstance(padding, str) or (b is not None and is_tensor(b)):
        return None
    fields = _conv_fields(w, b, stride, padding, dilation, groups)
    return [Step("conv", [x], fields, weights={"weight": w, "bias": b})]


def _linear(args, kwargs, out, is_tensor):
    x, w = args[0] if args else None, _arg(args, kwargs, 1, "weight")
    b = _arg(args, kwargs, 2, "bias")
    if not is_tensor(x) or w is None or is_tensor(w) or len(shape_of(x)) != 1 or (b is not None and is_tensor(b)):
        return None
    return [
        Step("linear", [x], {"out_features": int(w.shape[0]), "bias": b is not None}, weights={"weight": w, "bias": b})
    ]


def _batch_norm(args, kwargs, out, is_tensor):
    names = ("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
    x = args[0] if args else None
    vals = {n: _arg(args, kwargs, i + 1, n) for i, n in enumerate(names)}
    tensors = [vals[n] for n in names[:4]]
    if not is_tensor(x) or any(t is None or is_tensor(t) for t in tensors) or vals["training"]:
        return None
    fields = bn_fields(vals["eps"] if vals["eps"] is not None else 1e-5, vals["momentum"])
    return [Step("bn", [x], fields, weights={n: vals[n] for n in names[:4]})]


FUNCTION_RULES = {
    "add": _add,
    "mul": _mul,
    "cat": _cat,
    "concat": _cat,
    "concatenate": _cat,
    "flatten": _flatten,
    "view": _reshape,
    "reshape": _reshape,
    "squeeze": _reshape,
    "mean": _mean,
    "adaptive_avg_pool2d": _adaptive_avg,
    "max_pool2d": _pool_fn(True),
    "avg_pool2d": _pool_fn(False),
    "hardtanh": _hardtanh,
    "interpolate": _interpolate,
    "upsample": _interpolate,
    "dropout": _dropout,
    "dropout1d": _dropout,
    "dropout2d": _dropout,
    "alpha_dropout": _dropout,
    "feature_alpha_dropout": _dropout,
    "pad": _pad_fn,
    "contiguous": _identity,
    "clone": _identity,
    "detach": _identity,
    "channel_shuffle": _shuffle,
    "native_channel_shuffle": _shuffle,
    "conv2d": _conv2d,
    "linear": _linear,
    "batch_norm": _batch_norm,
}


# -- values of a call -------------------------------------------------------------------------------------


def has_tensor(value) -> bool:
    return bool(tensors_in(value))


def tensors_in(value) -> list:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_in(v)]
    return []


def flat_values(args, kwargs) -> list:
    out: list = []

    def visit(v):
        if isinstance(v, (list, tuple)):
            for item in v:
                visit(item)
        elif isinstance(v, dict):
            for item in v.values():
                visit(item)
        else:
            out.append(v)

    visit(args)
    visit(kwargs)
    return out
