"""The field language of layer tables: declared fields, validation, defaults, suggestions.

A row in a table is a mapping such as ``{type: bottleneck, t: 6, c: 32, n: 3, s: 2}``. Each row type
declares its fields once (name, kind, default, range, help); :func:`parse_fields` validates a user's
mapping against that declaration and returns the resolved values. Errors name the field; the caller adds
file, line and row.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from archlab.errors import TableError
from archlab.spec.limits import field_max
from archlab.spec.reprs import bounded_repr
from archlab.spec.synonyms import SYNONYMS

REQUIRED = object()
NORMS = ("bn", "none")
ACTS = (
    "relu",
    "relu6",
    "prelu",
    "hardswish",
    "hardsigmoid",
    "silu",
    "swish",  # = silu (EfficientNet's paper name); the plan says silu
    "sigmoid",
    "gelu",
    "leakyrelu",
    "tanh",
    "none",
)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # a key of KINDS: int | float | bool | str | choice | act | padding | ref | pair | ints | mapping | ...
    help: str
    default: Any = REQUIRED
    min: float | None = None
    choices: tuple[str, ...] = ()
    exclusive_min: bool = False
    fields: tuple[Field, ...] = ()  # mapping / switch: the keys it may have (validated, errors name "field.key")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value: Any) -> Any:
        """Return the validated value or raise TableError naming this field (the value shown bounded)."""
        if value is None and self.default is None:
            return None
        try:
            rule = KINDS[self.kind]
        except KeyError:
            raise AssertionError(f"unknown field kind {self.kind}") from None  # programming error, not user input
        return rule(self, value)

    def reject(self, expected: str, value: Any) -> TableError:
        """The error for a value of the wrong kind: ``expected ..., got <value>`` naming this field."""
        return TableError(f"expected {expected}, got {bounded_repr(value)}", field=self.name)

    def _nested(self, value: dict) -> dict:
        """Validate a mapping against ``fields``; only the keys given are returned (the caller fills presets)."""
        known = {f.name: f for f in self.fields}
        for key in value:
            if key not in known:
                raise TableError(
                    f"unknown key{suggest(str(key), known)}; allowed: {', '.join(known)}", field=f"{self.name}.{key}"
                )
        out = {}
        for f in self.fields:
            if f.name in value:
                try:
                    out[f.name] = f.check(value[f.name])
                except TableError as e:
                    e.field = f"{self.name}.{e.field}"
                    raise
            elif f.required:
                raise TableError("missing value", field=f"{self.name}.{f.name}")
        return out

    def _check_min(self, value: float) -> None:
        if self.min is None:
            return
        bad = value <= self.min if self.exclusive_min else value < self.min
        if bad:
            op = ">" if self.exclusive_min else ">="
            raise TableError(f"must be {op} {self.min:g}, got {bounded_repr(value)}", field=self.name)

    def _check_max(self, value: float) -> None:
        ceiling = field_max(self.name)
        if ceiling is not None and value > ceiling:
            raise TableError(
                f"must be <= {int(ceiling):,} (archlab's limit for {self.name}; see archlab/spec/limits.py), "
                f"got {bounded_repr(value)}",
                field=self.name,
            )

    def describe(self) -> str:
        default = "required" if self.required else f"default {self.default!r}"
        return f"{self.name} ({self.kind}, {default}): {self.help}"


# -- the kinds: one small rule each (value -> validated value, or raise f.reject(...)) ----------------------------


def _bool(f: Field, value):
    if not isinstance(value, bool):
        raise f.reject("true or false", value)
    return value


def _int(f: Field, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise f.reject("an integer", value)
    f._check_min(value)
    f._check_max(value)
    return value


def _float(f: Field, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise f.reject("a number", value)
    if not math.isfinite(value):
        raise f.reject("a finite number", value)
    f._check_min(value)
    f._check_max(value)
    return float(value)


def _choice(f: Field, value):
    if not isinstance(value, str) or value not in f.choices:
        raise f.reject(f"one of {', '.join(f.choices)}", value)
    return value


def _act(f: Field, value):
    """An activation: a choice of ACTS whose error suggests the closest names."""
    if not isinstance(value, str):
        raise f.reject(f"one of {', '.join(f.choices)}", value)
    if value not in f.choices:
        hint = suggest(value, f.choices)
        raise TableError(f"unknown activation {value!r}{hint}; known: {', '.join(f.choices)}", field=f.name)
    return value


def _str(f: Field, value):
    if not isinstance(value, str) or not value:
        raise f.reject("a non-empty string", value)
    return value


def _padding(f: Field, value):
    """'auto' = k//2 * dilation (PyTorch symmetric); 'same' = TensorFlow SAME (out = ceil(in/s), the odd pixel
    at the bottom/right); 'valid' = 0; or an integer >= 0."""
    if value in ("auto", "same", "valid"):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise f.reject("auto, same, valid or an integer >= 0", value)
    f._check_max(value)
    return value


def _ref(f: Field, value):
    """An earlier row (index; negative counts back from this row), a row id, or a layer name (a tap on a tensor
    inside a block, e.g. 6.0.expand_act); a list of these for rows that read several."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v) for v in items
    ):
        raise f.reject("a row index, a row id or a layer name (or a list)", value)
    return value


def _pair(f: Field, value):
    """An integer >= 0, or [a, b] of them (a kernel, a stride: height and width)."""
    items = value if isinstance(value, list) else [value]
    if len(items) not in (1, 2) or not all(_nonneg_int(v) for v in items):
        raise f.reject("an integer >= 0 or a pair [h, w] of them", value)
    return value


def _ints(f: Field, value):
    """A list of integers >= 0 (a shape, paddings)."""
    if not isinstance(value, list) or not all(_nonneg_int(v) for v in value):
        raise f.reject("a list of integers >= 0", value)
    return value


def _mapping(f: Field, value):
    if not isinstance(value, dict):
        raise f.reject("a mapping", value)
    return f._nested(value) if f.fields else value


def _switch(f: Field, value):
    """false, true (the row's preset) or a mapping of the preset's keys to change."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, dict):
        raise f.reject("true, false or a mapping", value)
    return f._nested(value)


def _strings(f: Field, value):
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise f.reject("a list of non-empty strings", value)
    return list(value)


KINDS = {
    "bool": _bool,
    "int": _int,
    "float": _float,
    "choice": _choice,
    "act": _act,
    "str": _str,
    "padding": _padding,
    "ref": _ref,
    "pair": _pair,
    "ints": _ints,
    "mapping": _mapping,
    "switch": _switch,
    "strings": _strings,
}


def _row_ref(v) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and bool(v))


def _nonneg_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def suggest(name: str, options) -> str:
    """`` (did you mean ...?)`` for a misspelt name: a known synonym (``kernel`` -> ``k``) first, then the
    closest names by edit distance; empty when nothing is close. Bounded: long names and long lists are cut."""
    options = [str(o) for o in options]
    name = str(name)[:64]
    known = set(options)
    close = [SYNONYMS[name.lower()]] if SYNONYMS.get(name.lower()) in known else []
    if len(options) > 2000:  # e.g. every layer name of a large plan: keep those that could be close
        options = [o for o in options if o[:1] == name[:1] and abs(len(o) - len(name)) <= 3][:2000]
    close += [m for m in difflib.get_close_matches(name, options, n=3, cutoff=0.5) if m not in close]
    return f" (did you mean {', '.join(close[:3])}?)" if close else ""


def parse_fields(raw: dict, fields: tuple[Field, ...], *, what: str = "row") -> dict:
    """Validate ``raw`` against ``fields``: unknown names, missing values, kinds and ranges."""
    if not isinstance(raw, dict):
        raise TableError(f"a {what} must be a mapping like {{type: conv, c: 32}}, got {raw!r}")
    known = {f.name: f for f in fields}
    for key in raw:
        if key not in known:
            raise TableError(f"unknown field{suggest(str(key), known)}; allowed: {', '.join(known)}", field=str(key))
    out = {}
    for f in fields:
        if f.name in raw:
            out[f.name] = f.check(raw[f.name])
        elif f.required:
            raise TableError("missing value", field=f.name)
        else:
            out[f.name] = f.default
    return out
