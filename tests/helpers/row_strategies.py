"""Hypothesis strategies for whole layer tables, derived from the registries (no hand-kept list of rows or fields).

Every row type of ``archlab.spec.rows.ROW_TYPES`` is drawn, each with values for its declared fields
(``RowType.all_fields``) chosen by the field's kind, range and choices; the defaults and the head come from
``DEFAULT_FIELDS`` and the head's field declarations the same way. A new row type or field is drawn the day it
is declared. Many draws are not valid networks (a kernel larger than its map, groups that do not divide): the
property tests discard those (``ShapeError``/``TableError``) and check the rest.
"""

from __future__ import annotations

from hypothesis import strategies as st

from archlab.errors import TableError
from archlab.spec.fields import Field
from archlab.spec.rows import ROW_TYPES
from archlab.spec.rows.head import CLASSIFIER_FIELDS, EMBEDDING_FIELDS, HEAD_FIELDS
from archlab.spec.table import DEFAULT_FIELDS

ROW_NAMES = tuple(sorted(ROW_TYPES))
# small values that divide each other often (channels, groups, kernels, strides, repeats)
INTS = (1, 2, 3, 4, 6, 8)
FLOATS = (0.001, 0.1, 0.25, 0.5, 1.0, 2.0)
ROUND_RULES = ("int", "round", "divisible4", "divisible8")  # defaults.round is free text: a few valid rules


def _allowed(f: Field, v: float) -> bool:
    if f.min is None:
        return True
    return v > f.min if f.exclusive_min else v >= f.min


def finite_values(f: Field) -> list | None:
    """The values drawn for a field of a finite kind (numbers, flags, choices, padding), None for the others."""
    kind = f.kind
    if kind == "int":
        return [v for v in INTS if _allowed(f, v)]
    if kind == "float":
        return [v for v in FLOATS if _allowed(f, v)]
    if kind in ("bool", "switch"):
        return [False, True]
    if kind in ("choice", "act"):
        return list(f.choices)
    if kind == "padding":
        return ["auto", "same", "valid", 0, 1]
    return None


def field_values(f: Field) -> st.SearchStrategy:
    """Values for one declared field, from its kind, range and choices."""
    kind = f.kind
    values = finite_values(f)
    if kind == "switch":
        return st.one_of(st.booleans(), mapping(f.fields))
    if values is not None:
        return st.sampled_from(values)
    if kind == "ref":  # earlier rows counted back, the input, or several of them
        one = st.one_of(st.integers(-3, -1), st.just("input"))
        return st.one_of(one, st.lists(one, min_size=2, max_size=3))
    if kind == "strings":
        return st.lists(st.sampled_from(["a", "b", "c", "uneven-stride"]), min_size=1, max_size=3, unique=True)
    if kind == "pair":  # an integer or [h, w]
        return st.one_of(st.sampled_from([1, 2, 3]), st.lists(st.sampled_from([1, 2, 3]), min_size=2, max_size=2))
    if kind == "ints":
        return st.lists(st.sampled_from([0, 1, 2]), min_size=4, max_size=4)
    if kind == "str":
        return st.sampled_from(["x", "y"])
    if kind == "mapping":
        return mapping(f.fields) if f.fields else st.just({})
    raise AssertionError(f"no strategy for field kind {kind!r} ({f.name}): add one here")


def mapping(fields: tuple[Field, ...], *, skip: tuple[str, ...] = ()) -> st.SearchStrategy:
    """A mapping of declared fields: required ones always, the others sometimes (omitted = the default)."""
    required = {f.name: field_values(f) for f in fields if f.required and f.name not in skip}
    optional = {f.name: field_values(f) for f in fields if not f.required and f.name not in skip}
    return st.fixed_dictionaries(required, optional=optional)


def _parses(name: str, raw: dict) -> bool:
    """The row passes its type's own checks (fields and cross-field rules such as "t or e")."""
    try:
        ROW_TYPES[name].parse(raw)
    except TableError:
        return False
    return True


def layer_row() -> st.SearchStrategy:
    """A primitive ``layer`` row: an op of the op table with the fields that apply to it (its ``APPLIES``)."""
    from archlab.ir.ops import ACTIVATIONS, POOL_KINDS
    from archlab.spec.rows.layer import APPLIES, FIELDS

    by_name = {f.name: f for f in FIELDS}
    kinds = {"act": sorted(ACTIVATIONS), "pool": list(POOL_KINDS)}
    simple = ("conv", "bn", "act", "pool", "dropout", "shuffle", "pad")

    def for_op(op: str) -> st.SearchStrategy:
        values = {n: (st.sampled_from(kinds[op]) if n == "kind" else field_values(by_name[n])) for n in APPLIES[op]}
        required = {"kind": values.pop("kind")} if op in kinds else {}
        if op in ("conv",):
            required["c"] = values.pop("c")
        if op == "pad":
            required["pads"] = values.pop("pads")
        return st.fixed_dictionaries({"type": st.just("layer"), "op": st.just(op), **required}, optional=values)

    return st.sampled_from(simple).flatmap(for_op).filter(lambda r: _parses("layer", r))


def row(name: str) -> st.SearchStrategy:
    """A row of type ``name`` that its type accepts (``id`` left out: ids must be unique); a row that reads
    several tensors (``RowType.reads``) gets a ``from:`` list of that many."""
    if name == "layer":  # its fields depend on its op: drawn per op
        return layer_row()
    rt = ROW_TYPES[name]
    low, high = rt.reads
    fields = tuple(f for f in rt.all_fields if f.name not in ("type", "id"))
    if low < 2:
        rows = mapping(fields).map(lambda values: {"type": name, **values})
    else:
        one = st.one_of(st.integers(-3, -1), st.just("input"))
        refs = st.lists(one, min_size=low, max_size=high or low + 1)
        rows = st.tuples(mapping(fields, skip=("from",)), refs).map(lambda v: {"type": name, **v[0], "from": v[1]})
    return rows.filter(lambda r: _parses(name, r))


def any_row() -> st.SearchStrategy:
    return st.sampled_from(ROW_NAMES).flatmap(row)


def defaults() -> st.SearchStrategy:
    fields = tuple(f for f in DEFAULT_FIELDS if f.name != "round")
    return st.tuples(mapping(fields), st.sampled_from(ROUND_RULES)).map(lambda d: {**d[0], "round": d[1]})


def head() -> st.SearchStrategy:
    """No head, or a head from the head's declared fields (an embedding or a classifier)."""
    pool = field_values(next(f for f in HEAD_FIELDS if f.name == "pool"))
    return st.one_of(
        st.none(),
        st.fixed_dictionaries({"pool": pool, "embedding": mapping(EMBEDDING_FIELDS)}),
        st.fixed_dictionaries({"pool": pool, "classifier": mapping(CLASSIFIER_FIELDS)}),
    )


def _earlier(rows: list[dict]) -> list[dict]:
    """Point every ``from`` at something that exists: a count back of k from row i becomes at most i rows back,
    and the first row reads the input (the ref strategy does not know where its row will sit)."""

    def fix(ref, i):
        if isinstance(ref, list):
            return [fix(r, i) for r in ref]
        if isinstance(ref, int):
            return max(ref, -i) if i else "input"
        return ref

    return [{**r, "from": fix(r["from"], i)} if "from" in r else r for i, r in enumerate(rows)]


def tables(rows: st.SearchStrategy | None = None, *, featured: str | None = None) -> st.SearchStrategy:
    """Whole tables: 1-5 rows drawn from every row type (``featured``: one row of that type among them)."""
    body = st.lists(rows or any_row(), min_size=0 if featured else 1, max_size=3)
    if featured is not None:
        body = st.tuples(body, row(featured), st.integers(0, 4)).map(lambda t: [*t[0][: t[2]], t[1], *t[0][t[2] :]])
    return st.fixed_dictionaries(
        {
            "name": st.just("random"),
            "input": st.tuples(st.integers(6, 24), st.integers(6, 24)).map(list),
            "in_channels": st.sampled_from([1, 2, 4]),
            "defaults": defaults(),
            "rows": body.map(_earlier),
            "classes": st.sampled_from([1, 3]),  # for detection heads (ssdlite rows)
        },
        optional={"head": head()},
    ).map(lambda t: {k: v for k, v in t.items() if v is not None})


# -- the same values, enumerated: one field changed at a time ----------------------------------------------------

STEM = {"type": "conv", "c": 8, "k": 3, "s": 2}  # 8 channels at half the input size, for the row under test


LAYER_VARIANTS = [
    {"type": "layer", **fields}
    for fields in (
        {"op": "conv", "c": 4, "k": 3},
        {"op": "bn"},
        {"op": "act", "kind": "relu"},
        {"op": "pool", "kind": "max", "k": 3, "s": 2, "padding": 1},
        {"op": "dropout", "p": 0.1},
        {"op": "shuffle", "groups": 2},
        {"op": "pad", "pads": [0, 1, 1, 0]},
    )
]


def single_field_variants(name: str) -> list[dict]:
    """Rows of type ``name`` with one finite field set to each of its values (required fields at their first
    value), those its type accepts: every choice of every field, deterministically."""
    if name == "layer":  # its fields depend on its op: one row per op it can write
        return [r for r in LAYER_VARIANTS if _parses(name, r)]
    rt = ROW_TYPES[name]
    base: dict = {"type": name}
    for f in rt.all_fields:
        values = finite_values(f)
        if f.required and f.name != "type" and values:
            base[f.name] = values[0] if f.kind != "int" else max(values[0], 4)
    if rt.reads[0] > 1:
        base["from"] = [-1] * rt.reads[0]
    rows = [base]
    for f in rt.all_fields:
        for v in finite_values(f) or ():
            rows.append({**base, f.name: v})
    return [r for r in rows if _parses(name, r)]


def enumerated_tables() -> list[dict]:
    """Tables around :data:`STEM` (16x16 input) covering every row variant, every default and every head field
    value: what the op-coverage test expands."""
    rows = [r for name in ROW_NAMES for r in single_field_variants(name)]
    table = {"name": "enumerated", "input": [16, 16], "in_channels": 4, "classes": 3}
    out = [{**table, "rows": [STEM, r]} for r in rows]
    for f in DEFAULT_FIELDS:
        for v in finite_values(f) or ():
            out.append({**table, "defaults": {f.name: v}, "rows": [STEM]})
    heads = [("embedding", f) for f in EMBEDDING_FIELDS] + [("classifier", f) for f in CLASSIFIER_FIELDS]
    pools = next(f for f in HEAD_FIELDS if f.name == "pool").choices
    for pool in pools:
        for part, f in heads:
            required = {"size": 8} if part == "embedding" else {"classes": 3}
            for v in finite_values(f) or ():
                out.append({**table, "rows": [STEM], "head": {"pool": pool, part: {**required, f.name: v}}})
    return out
