"""Overrides: changes to a table that need no new file (input, width, stem, head, embedding, classes).

One vocabulary for every entry point: API keywords (``archlab.plan(net, width=0.5)``), CLI options
(``--width 0.5``), ``KEY=VALUE`` pairs (``archlab diff -A width=0.5``) and compare entries
(``mobilefacenet:width=0.5,head=gap``) all go through :data:`OVERRIDE_TYPES` and :class:`Overrides`.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from pathlib import Path

from archlab.errors import ArchlabError, OptionError
from archlab.spec.limits import MAX_WIDTH
from archlab.spec.rows.head import POOLS

OVERRIDE_TYPES = {
    "input": str,
    "width": float,
    "stem_stride": int,
    "stem_pool": bool,
    "head": str,
    "embedding": int,
    "classes": int,
}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Overrides:
    """Changes to a table that do not need a new file. ``None`` means: as the table says."""

    input: tuple[int, int] | None = None  # (H, W)
    width: float | None = None
    stem_stride: int | None = None
    stem_pool: bool = False
    head: str | None = None  # gdconv | gap | fc
    embedding: int | None = None
    classes: int | None = None

    @classmethod
    def from_kwargs(cls, **kw) -> Overrides:
        names = {f.name for f in fields(cls)}
        for key in kw:
            if key not in names:
                raise OptionError(f"unknown option {key!r}; known: {', '.join(sorted(names))}")
        if kw.get("input") is not None:
            kw["input"] = parse_hw(kw["input"])
        ov = cls(**kw)
        ov.check()
        return ov

    def check(self) -> None:
        if self.width is not None and not 0 < self.width <= MAX_WIDTH:  # NaN and infinity fail too
            raise OptionError(f"--width must be > 0 and <= {MAX_WIDTH:g} (archlab's limit), got {self.width}")
        if self.stem_stride is not None and self.stem_stride not in (1, 2):
            raise OptionError(f"--stem-stride must be 1 or 2, got {self.stem_stride}")
        if self.stem_pool and self.stem_stride == 2:
            raise OptionError(
                "--stem-pool sets the first layer to stride 1 and adds a max-pool; "
                "it cannot be combined with --stem-stride 2"
            )
        if self.head is not None and self.head not in POOLS:
            raise OptionError(f"--head must be one of {', '.join(POOLS)}, got {self.head!r}")
        if self.embedding is not None and self.embedding <= 0:
            raise OptionError(f"--embedding must be > 0, got {self.embedding}")
        if self.classes is not None and self.classes <= 0:
            raise OptionError(f"--classes must be > 0, got {self.classes}")
        if self.embedding is not None and self.classes is not None:
            raise OptionError("--embedding replaces the classifier; give --embedding or --classes, not both")

    def as_dict(self) -> dict:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None and v is not False:
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


def parse_hw(value) -> tuple[int, int]:
    """``112x96``, ``112`` (square), or a pair."""
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").split("x")
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise OptionError(f"--input must look like 112x96 (HxW), got {value!r}")
        value = (int(parts[0]), int(parts[1]))
    if isinstance(value, int):
        value = (value, value)
    try:
        h, w = (operator.index(v) for v in value)  # a pair of integers (numpy's too)
    except (TypeError, ValueError):
        raise OptionError(f"input must be (H, W) or 'HxW', got {value!r}") from None
    if h <= 0 or w <= 0:
        raise OptionError(f"--input sizes must be positive, got {h}x{w}")
    return int(h), int(w)


def parse_value(key: str, raw: str, where: str) -> object:
    """One override value from text (``where`` prefixes the error: the option or entry it came from)."""
    kind = OVERRIDE_TYPES[key]
    raw = raw.strip()
    if kind is bool:
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise OptionError(f"{where}: {key} takes true or false, got {raw!r}")
    if kind is str:
        if not raw:
            raise OptionError(f"{where}: {key} needs a value")
        return raw
    try:
        return kind(raw)
    except ValueError:
        noun = "a number" if kind is float else "an integer"
        raise OptionError(f"{where}: {key} must be {noun} (expected {kind.__name__}), got {raw!r}") from None


def parse_pairs(pairs: list[str] | None, where: str) -> dict:
    """``["input=112x96", "stem-stride=1"]`` -> API keyword arguments, validated by :class:`Overrides`.
    Every error starts with ``where`` (the option or entry the pairs came from)."""
    keys = ", ".join(k.replace("_", "-") for k in OVERRIDE_TYPES)
    out: dict = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("-").replace("-", "_")
        if not sep:
            raise OptionError(f"{where}: expected KEY=VALUE, got {pair!r} (KEY one of {keys})")
        if key not in OVERRIDE_TYPES:
            raise OptionError(f"{where}: unknown key {key!r}; use {keys}")
        if key in out:
            raise OptionError(f"{where}: {key} given twice")
        out[key] = parse_value(key, value, where)
    try:
        Overrides.from_kwargs(**out)
    except ArchlabError as e:
        raise OptionError(f"{where}: {e}") from None
    return out


@dataclass(frozen=True)
class Entry:
    """A network (name or table path) with overrides and its label: one column of a comparison."""

    net: str
    options: tuple[tuple[str, object], ...] = ()
    label: str = ""

    @property
    def overrides(self) -> dict:
        return dict(self.options)


def parse_entry(text: str, what: str = "--variant") -> Entry:
    """``NAME[:key=value[,key=value]]`` -> an :class:`Entry`. Keys may use dashes (``stem-stride``)."""
    text = text.strip()
    example = "e.g. mobilefacenet:head=gap,width=0.5"
    if not text:
        raise OptionError(f"{what}: empty; expected NAME or NAME:key=value[,key=value], {example}")
    name, sep, rest = text.partition(":")
    if not sep or (Path(text).is_file() and "=" not in rest):
        return Entry(text, (), text)
    name = name.strip()
    if not name:
        raise OptionError(f"{what} {text!r}: no network before ':'; expected NAME:key=value, {example}")
    parts = [p.strip() for p in rest.split(",") if p.strip()]
    bad = [p for p in parts if "=" not in p]
    if bad:
        raise OptionError(f"{what} {text!r}: expected key=value after ':', got {bad[0]!r} ({example})")
    if not parts:
        raise OptionError(f"{what} {text!r}: no key=value after ':' ({example})")
    options = parse_pairs(parts, f"{what} {text!r}")
    label = name + ":" + ",".join(f"{k}={_show(v)}" for k, v in options.items())
    return Entry(name, tuple(options.items()), label)


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def distinct_labels(labels: list[str]) -> list[str]:
    """A label given again gets ``#2``, ``#3`` (the first free one) appended, so every label names one entry."""
    used: set[str] = set()
    out = []
    for base in labels:
        label, n = base, 1
        while label in used:
            n += 1
            label = f"{base}#{n}"
        used.add(label)
        out.append(label)
    return out


def unique_labels(entries: list[Entry]) -> list[Entry]:
    """Entries given twice get ``#2``, ``#3`` appended to their label (the records stay apart)."""
    labels = distinct_labels([e.label for e in entries])
    return [e if label == e.label else Entry(e.net, e.options, label) for e, label in zip(entries, labels)]
