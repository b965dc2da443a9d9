"""The field language of layer tables: declared fields, validation, defaults, suggestions.

A row in a table is a mapping such as ``{type: bottleneck, t: 6, c: 32, n: 3, s: 2}``. Each row type
declares its fields once (name, kind, default, range, help); :func:`parse_fields` validates a user's
mapping against that declaration and returns the resolved values. Errors name the field; the caller adds
file, line and row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from archlab.errors import TableError

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
        """Return the validated value or raise TableError naming this field."""
        if value is None and self.default is None:
            return None
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise TableError(f"expected true or false, got {value!r}", field=self.name)
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TableError(f"expected an integer, got {value!r}", field=self.name)
            self._check_min(value)
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TableError(f"expected a number, got {value!r}", field=self.name)
            self._check_min(value)
            return float(value)
        if kind == "choice":
            if value not in self.choices:
                raise TableError(f"expected one of {', '.join(self.choices)}, got {value!r}", field=self.name)
            return value
        if kind == "act":  # an activation: a choice of ACTS whose error suggests the closest names
            if value not in self.choices:
                hint = suggest(str(value), self.choices)
                known = ", ".join(self.choices)
                raise TableError(f"unknown activation {value!r}{hint}; known: {known}", field=self.name)
            return value
        if kind == "str":
            if not isinstance(value, str) or not value:
                raise TableError(f"expected a non-empty string, got {value!r}", field=self.name)
            return value
        if kind == "padding":
            # 'auto' = k//2 * dilation (PyTorch symmetric); 'same' = TensorFlow SAME (out = ceil(in/s), the odd
            # pixel at the bottom/right); 'valid' = 0; or an integer >= 0.
            if value in ("auto", "same", "valid"):
                return value
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TableError(f"expected auto, same, valid or an integer >= 0, got {value!r}", field=self.name)
            return value
        if kind == "ref":
            # an earlier row (index; negative counts back from this row), a row id, or a layer name (a tap
            # on a tensor inside a block, e.g. 6.0.expand_act); a list of these for rows that read several
            items = value if isinstance(value, list) else [value]
            if not items or not all(
                (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v) for v in items
            ):
                raise TableError(
                    f"expected a row index, a row id or a layer name (or a list), got {value!r}", field=self.name
                )
            return value
        if kind == "pair":  # an integer >= 0, or [a, b] of them (a kernel, a stride: height and width)
            items = value if isinstance(value, list) else [value]
            if len(items) not in (1, 2) or not all(_nonneg_int(v) for v in items):
                raise TableError(f"expected an integer >= 0 or a pair [h, w] of them, got {value!r}", field=self.name)
            return value
        if kind == "ints":  # a list of integers >= 0 (a shape, paddings)
            if not isinstance(value, list) or not all(_nonneg_int(v) for v in value):
                raise TableError(f"expected a list of integers >= 0, got {value!r}", field=self.name)
            return value
        if kind == "mapping":
            if not isinstance(value, dict):
                raise TableError(f"expected a mapping, got {value!r}", field=self.name)
            return self._nested(value) if self.fields else value
        if kind == "switch":
            # false, true (the row's preset) or a mapping of the preset's keys to change
            if isinstance(value, bool):
                return value
            if not isinstance(value, dict):
                raise TableError(f"expected true, false or a mapping, got {value!r}", field=self.name)
            return self._nested(value)
        if kind == "strings":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise TableError(f"expected a list of non-empty strings, got {value!r}", field=self.name)
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
            raise TableError(f"must be {op} {self.min:g}, got {value!r}", field=self.name)

    def describe(self) -> str:
        default = "required" if self.required else f"default {self.default!r}"
        return f"{self.name} ({self.kind}, {default}): {self.help}"


def _nonneg_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def suggest(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


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
