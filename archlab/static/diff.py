"""Compare two networks, or one network under two option sets, row by row.

How rows are paired (``Diff.alignment`` says which was used):

* **one table** (the same network under two option sets): by table order. Rows are aligned by their
  (type, fields) sequence (difflib), so a row removed by a variant shows as removed instead of shifting every
  row below it; rows that differ in place are paired in order and shown as changed.
* **two networks** (different tables): by **role**. Every row gets one: ``stem`` (the plain conv rows the table
  starts with), ``stage /s`` (the rows whose output is at output stride s: the jump of its receptive field),
  ``FMap-end`` (a conv row that makes FMap-end, e.g. MobileFaceNet's 1x1 conv6_sep or MobileNetV2's 1280-channel
  conv), ``outputs`` (a detector's prediction rows) and ``head``. Rows pair only within the same role (by
  type and fields inside it, then in order); a role only one side has shows as added or removed. So
  ``diff mobilenetv2 mobilefacenet`` never pairs MobileNetV2's stride-32 stage with MobileFaceNet's head.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from archlab.ir.plan import COUNT_KEYS, Plan
from archlab.ir.structure import fmap_end
from archlab.static.counts import Profile, RowSummary
from archlab.static.display import Display, options_suffix
from archlab.static.memory import memory
from archlab.static.receptive import as_number


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


BY_TABLE = "table order"
BY_ROLE = "role"


@dataclass(frozen=True)
class RowDiff:
    status: str  # same | changed | added | removed
    a: RowSummary | None
    b: RowSummary | None
    role: str = ""  # stem | stage /s | FMap-end | outputs | head (by-role alignment); "" by table order

    def delta(self, key: str) -> int:
        return (getattr(self.b, key) if self.b else 0) - (getattr(self.a, key) if self.a else 0)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "role": self.role or None,
            "a": self.a.to_dict() if self.a else None,
            "b": self.b.to_dict() if self.b else None,
            "delta": {k: self.delta(k) for k in COUNT_KEYS},
        }


@dataclass(frozen=True)
class Diff:
    a: Side
    b: Side
    rows: tuple[RowDiff, ...]
    alignment: str = BY_TABLE  # BY_TABLE | BY_ROLE

    def alignment_text(self) -> str:
        """How the rows were paired, in one sentence."""
        if self.alignment == BY_ROLE:
            roles = ", ".join(dict.fromkeys(r.role for r in self.rows))
            return f"rows aligned by role (two different tables: rows pair only within a role): {roles}"
        return "rows aligned by table order (one table under two option sets; type and fields, as difflib)"

    def __repr__(self) -> str:
        ta, tb = self.a.totals, self.b.totals
        return (
            f"<Diff {self.a.name}{options_suffix(self.a.options)} -> {self.b.name}{options_suffix(self.b.options)}: "
            f"{len(self.rows)} rows by {self.alignment}; params {ta['params']:,} -> {tb['params']:,}, "
            f"MAdds {ta['madds']:,} -> {tb['madds']:,}>"
        )

    def _repr_html_(self) -> str | None:
        return Display.html_of(self)

    def to_frame(self):
        """A pandas DataFrame: one record per aligned row (status, role, both sides' row, type, shapes, counts,
        theoretical RF (``rf_a``/``rf_b``, ``jump_a``/``jump_b``) and the deltas B - A)."""
        from archlab.static.frames import frame, rf_columns, shape_text

        records = []
        for r in self.rows:
            rec: dict = {"status": r.status, "role": r.role or None}
            for side, row in (("a", r.a), ("b", r.b)):
                rec[f"row_{side}"] = row.index if row else None
                rec[f"type_{side}"] = row.type if row else None
                rec[f"fields_{side}"] = row.label if row else None
                rec[f"out_{side}"] = shape_text(row.out_shape) if row else None
            for k in COUNT_KEYS:
                rec.update({f"{k}_a": getattr(r.a, k) if r.a else None, f"{k}_b": getattr(r.b, k) if r.b else None})
                rec[f"{k}_delta"] = r.delta(k)
            for side, row in (("a", r.a), ("b", r.b)):
                cols = rf_columns(row.rf if row else None)
                rec.update({f"{k}_{side}": v for k, v in cols.items() if k in ("rf", "jump")})
            records.append(rec)
        return frame(records)

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
            "alignment": {"by": self.alignment, "text": self.alignment_text()},
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


def align(rows_a, rows_b, role: str = "") -> list[RowDiff]:
    """Pair two row sequences by their (type, fields) sequence; the rest in order (see the module docstring)."""
    key = lambda r: (r.type, r.label, r.index == "head")  # noqa: E731
    sm = difflib.SequenceMatcher(None, [key(r) for r in rows_a], [key(r) for r in rows_b], autojunk=False)
    out: list[RowDiff] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        a, b = list(rows_a[i1:i2]), list(rows_b[j1:j2])
        if tag == "equal":
            out += [RowDiff("same" if _same(x, y) else "changed", x, y, role) for x, y in zip(a, b)]
            continue
        n = min(len(a), len(b))
        out += [RowDiff("changed", x, y, role) for x, y in zip(a[:n], b[:n])]
        out += [RowDiff("removed", x, None, role) for x in a[n:]]
        out += [RowDiff("added", None, y, role) for y in b[n:]]
    return out


def roles(prof: Profile) -> list[str]:
    """The role of every row of ``prof`` (in row order): see the module docstring."""
    plan: Plan = prof.plan
    end = fmap_end(plan)
    end_row = plan.layer(end).row if plan.has(end) else None
    outputs = {plan.layer(n).row for n in plan.outputs if plan.has(n)}
    in_h = plan.input[1] if len(plan.input) == 3 else 1
    out, leading = [], True
    for r in prof.rows:
        leading = leading and r.type == "conv"
        if r.index == "head":
            role = "head"
        elif r.index == end_row and r.type == "conv" and not leading:
            role = "FMap-end"
        elif r.index in outputs and len(outputs) > 1:
            role = "outputs"
        elif leading:
            role = "stem"
        elif r.rf is not None:
            role = f"stage /{as_number(r.rf.jump[0])}"  # the output stride: the RF's jump, exact
        elif len(r.out_shape) == 3 and r.out_shape[1] > 0:
            role = f"stage /{max(1, round(in_h / r.out_shape[1]))}"
        else:
            role = "vector"
        out.append(role)
    return out


def _role_order(role: str) -> tuple:
    rank = {"stem": 0, "FMap-end": 2, "vector": 3, "outputs": 4, "head": 5}
    if role.startswith("stage /"):
        return (1, float(role.split("/")[1]))
    return (rank.get(role, 6), 0)


def align_by_role(a: Profile, b: Profile) -> list[RowDiff]:
    """Pair rows only within the same role; roles in network order (stem, stages by stride, FMap-end, head)."""
    groups: dict[str, tuple[list, list]] = {}
    for side, prof in enumerate((a, b)):
        for row, role in zip(prof.rows, roles(prof)):
            groups.setdefault(role, ([], []))[side].append(row)
    out: list[RowDiff] = []
    for role in sorted(groups, key=_role_order):
        rows_a, rows_b = groups[role]
        out += align(rows_a, rows_b, role)
    return out


def diff(a: Profile, b: Profile, name_a: str | None = None, name_b: str | None = None) -> Diff:
    """Row-by-row comparison; by table order for one table, by role for two (see the module docstring)."""
    by_role = a.model != b.model
    rows = align_by_role(a, b) if by_role else align(a.rows, b.rows)
    return Diff(
        _side(name_a or a.model, a),
        _side(name_b or b.model, b),
        tuple(rows),
        BY_ROLE if by_role else BY_TABLE,
    )
