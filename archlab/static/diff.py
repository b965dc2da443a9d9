"""Compare two networks, or one network under two option sets, row by row.

Rows are aligned by their (type, fields) sequence (difflib), so a row removed by a variant (e.g.
mobilefacenet-s drops conv6_sep) shows as removed instead of shifting every row below it; rows that differ in
place are paired in order and shown as changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from archlab.ir.plan import COUNT_KEYS
from archlab.ir.structure import fmap_end
from archlab.static.counts import Profile, RowSummary
from archlab.static.memory import memory


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
        return {
            "name": self.name,
            "model": self.model,
            "options": self.options,
            "input": list(self.input),
            "output": list(self.output),
            "fmap_end": list(self.fmap_end),
            "totals": dict(self.totals),
            "peak_activation_bytes": self.peak_bytes,
        }


@dataclass(frozen=True)
class RowDiff:
    status: str  # same | changed | added | removed
    a: RowSummary | None
    b: RowSummary | None

    def delta(self, key: str) -> int:
        return (getattr(self.b, key) if self.b else 0) - (getattr(self.a, key) if self.a else 0)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "a": self.a.to_dict() if self.a else None,
            "b": self.b.to_dict() if self.b else None,
            "delta": {k: self.delta(k) for k in COUNT_KEYS},
        }


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
        return {
            "schema_version": 1,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "totals": self.totals,
            "fmap_end": {"a": list(self.a.fmap_end), "b": list(self.b.fmap_end)},
            "rows": [r.to_dict() for r in self.rows],
        }


def _side(name: str, prof: Profile) -> Side:
    return Side(
        name,
        prof.model,
        dict(prof.options),
        prof.input,
        prof.output,
        prof.plan.shape_of(fmap_end(prof.plan)),
        dict(prof.totals),
        memory(prof.plan).peak_bytes,
    )


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
