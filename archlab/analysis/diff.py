"""Compare two networks, or one network under two option sets, row by row.

Rows are aligned by their (type, fields) sequence (difflib), so a row removed by a variant (e.g.
mobilefacenet-s drops conv6_sep) shows as removed instead of shifting every row below it; rows that differ in
place are paired in order and shown as changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from archlab.analysis.counts import COUNT_KEYS, Profile, RowSummary
from archlab.errors import OptionError
from archlab.expand import Overrides


@dataclass(frozen=True)
class Side:
    name: str  # as given (network name or path)
    model: str
    options: dict
    input: tuple[int, ...]
    output: tuple[int, ...]
    fmap_end: tuple[int, ...]  # the last feature map: the head's input (or the last row's output)
    totals: dict
    peak_bytes: int

    def to_dict(self) -> dict:
        return {"name": self.name, "model": self.model, "options": self.options, "input": list(self.input),
                "output": list(self.output), "fmap_end": list(self.fmap_end), "totals": dict(self.totals),
                "peak_activation_bytes": self.peak_bytes}


@dataclass(frozen=True)
class RowDiff:
    status: str  # same | changed | added | removed
    a: RowSummary | None
    b: RowSummary | None

    def delta(self, key: str) -> int:
        return (getattr(self.b, key) if self.b else 0) - (getattr(self.a, key) if self.a else 0)

    def to_dict(self) -> dict:
        return {"status": self.status, "a": self.a.to_dict() if self.a else None,
                "b": self.b.to_dict() if self.b else None,
                "delta": {k: self.delta(k) for k in COUNT_KEYS}}


@dataclass(frozen=True)
class Diff:
    a: Side
    b: Side
    rows: tuple[RowDiff, ...]

    @property
    def totals(self) -> dict:
        out = {}
        for k in COUNT_KEYS:
            va, vb = self.a.totals[k], self.b.totals[k]
            out[k] = {"a": va, "b": vb, "delta": vb - va, "ratio": (vb / va) if va else None}
        va, vb = self.a.peak_bytes, self.b.peak_bytes
        out["peak_activation_bytes"] = {"a": va, "b": vb, "delta": vb - va, "ratio": (vb / va) if va else None}
        return out

    def to_dict(self) -> dict:
        return {"schema_version": 1, "a": self.a.to_dict(), "b": self.b.to_dict(), "totals": self.totals,
                "fmap_end": {"a": list(self.a.fmap_end), "b": list(self.b.fmap_end)},
                "rows": [r.to_dict() for r in self.rows]}


def fmap_end(prof: Profile) -> tuple[int, ...]:
    for r in prof.rows:
        if r.index == "head":
            return r.in_shape
    return prof.rows[-1].out_shape if prof.rows else prof.input


def _side(name: str, prof: Profile) -> Side:
    from archlab.analysis.memory import memory

    return Side(name, prof.model, dict(prof.options), prof.input, prof.output, fmap_end(prof), dict(prof.totals),
                memory(prof.plan).peak_bytes)


def _same(a: RowSummary, b: RowSummary) -> bool:
    keys = ("type", "label", "in_shape", "out_shape", "layers", *COUNT_KEYS)
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def align(rows_a, rows_b) -> list[RowDiff]:
    key = lambda r: (r.type, r.label, r.index == "head")  # noqa: E731
    sm = difflib.SequenceMatcher(None, [key(r) for r in rows_a], [key(r) for r in rows_b], autojunk=False)
    out: list[RowDiff] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        a, b = list(rows_a[i1:i2]), list(rows_b[j1:j2])
        if tag == "equal":
            out += [RowDiff("same" if _same(x, y) else "changed", x, y) for x, y in zip(a, b)]
            continue
        n = min(len(a), len(b))
        out += [RowDiff("changed", x, y) for x, y in zip(a[:n], b[:n])]
        out += [RowDiff("removed", x, None) for x in a[n:]]
        out += [RowDiff("added", None, y) for y in b[n:]]
    return out


def diff(a: Profile, b: Profile, name_a: str | None = None, name_b: str | None = None) -> Diff:
    return Diff(_side(name_a or a.model, a), _side(name_b or b.model, b), tuple(align(a.rows, b.rows)))


_TYPES = {"input": str, "width": float, "stem_stride": int, "stem_pool": bool, "head": str, "embedding": int,
          "classes": int}


def parse_options(pairs: list[str] | None) -> dict:
    """``["input=112x96", "stem-stride=1"]`` -> API keyword arguments (validated by ``Overrides``)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("-").replace("-", "_")
        if not sep or key not in _TYPES:
            raise OptionError(f"--a-option takes KEY=VALUE with KEY one of "
                              f"{', '.join(k.replace('_', '-') for k in _TYPES)}; got {pair!r}")
        kind, value = _TYPES[key], value.strip()
        try:
            if kind is bool:
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                out[key] = value.lower() in ("1", "true", "yes", "on")
            else:
                out[key] = kind(value)
        except ValueError:
            raise OptionError(f"--a-option {key.replace('_', '-')}: expected {kind.__name__}, got {value!r}") from None
    Overrides.from_kwargs(**out)
    return out
