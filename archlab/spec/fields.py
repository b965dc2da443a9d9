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
    kind: str  # int | float | bool | str | choice | act | padding | ref | mapping | switch | strings | pair | ints
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
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise TableError(f"expected true or false, got {bounded_repr(value)}", field=self.name)
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TableError(f"expected an integer, got {bounded_repr(value)}", field=self.name)
            self._check_min(value)
            self._check_max(value)
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TableError(f"expected a number, got {bounded_repr(value)}", field=self.name)
            if not math.isfinite(value):
                raise TableError(f"expected a finite number, got {bounded_repr(value)}", field=self.name)
            self._check_min(value)
            self._check_max(value)
            return float(value)
        if kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise TableError(
                    f"expected one of {', '.join(self.choices)}, got {bounded_repr(value)}", field=self.name
                )
            return value
        if kind == "act":  # an activation: a choice of ACTS whose error suggests the closest names
            if not isinstance(value, str):
                raise TableError(
                    f"expected one of {', '.join(self.choices)}, got {bounded_repr(value)}", field=self.name
                )
            if value not in self.choices:
                hint = suggest(str(value), self.choices)
                known = ", ".join(self.choices)
                raise TableError(f"unknown activation {value!r}{hint}; known: {known}", field=self.name)
            return value
        if kind == "str":
            if not isinstance(value, str) or not value:
                raise TableError(f"expected a non-empty string, got {bounded_repr(value)}", field=self.name)
            return value
        if kind == "padding":
            # 'auto' = k//2 * dilation (PyTorch symmetric); 'same' = TensorFlow SAME (out = ceil(in/s), the odd
            # pixel at the bottom/right); 'valid' = 0; or an integer >= 0.
            if value in ("auto", "same", "valid"):
                return value
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TableError(
                    f"expected auto, same, valid or an integer >= 0, got {bounded_repr(value)}", field=self.name
                )
            self._check_max(value)
            return value
        if kind == "ref":
            # an earlier row (index; negative counts back from this row), a row id, or a layer name (a tap
            # on a tensor inside a block, e.g. 6.0.expand_act); a list of these for rows that read several
            items = value if isinstance(value, list) else [value]
            if not items or not all(
                (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v) for v in items
            ):
                raise TableError(
                    f"expected a row index, a row id or a layer name (or a list), got {bounded_repr(value)}",
                    field=self.name,
                )
            return value
        if kind == "pair":  # an integer >= 0, or [a, b] of them (a kernel, a stride: height and width)
            items = value if isinstance(value, list) else [value]
            if len(items) not in (1, 2) or not all(_nonneg_int(v) for v in items):
                raise TableError(
                    f"expected an integer >= 0 or a pair [h, w] of them, got {bounded_repr(value)}", field=self.name
                )
            return value
        if kind == "ints":  # a list of integers >= 0 (a shape, paddings)
            if not isinstance(value, list) or not all(_nonneg_int(v) for v in value):
                raise TableError(f"expected a list of integers >= 0, got {bounded_repr(value)}", field=self.name)
            return value
        if kind == "mapping":
            if not isinstance(value, dict):
                raise TableError(f"expected a mapping, got {bounded_repr(value)}", field=self.name)
            return self._nested(value) if self.fields else value
        if kind == "switch":
            # false, true (the row's preset) or a mapping of the preset's keys to change
            if isinstance(value, bool):
                return value
            if not isinstance(value, dict):
                raise TableError(f"expected true, false or a mapping, got {bounded_repr(value)}", field=self.name)
            return self._nested(value)
        if kind == "strings":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise TableError(f"expected a list of non-empty strings, got {bounded_repr(value)}", field=self.name)
            return list(value)
        raise AssertionError(f"unknown field kind {kind}")  # programming error, not user input

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
