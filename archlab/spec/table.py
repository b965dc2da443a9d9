"""Reading layer tables: YAML with line numbers, ``extends:`` and ``edit:``, validated into a NetSpec.

Parsing is kept apart from composition: :mod:`archlab.spec.yaml_reader` only reads a file (with line numbers on
every mapping), :mod:`archlab.spec.compose` resolves ``extends``/``edit``, and :func:`load_table` validates fields
into typed records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from archlab.errors import ArchlabError, TableError
from archlab.spec.bulk import paused_gc
from archlab.spec.compose import compose
from archlab.spec.fields import ACTS, NORMS, Field, parse_fields, suggest
from archlab.spec.limits import MAX_BLOCKS, MAX_CHANNELS, MAX_CLASSES, MAX_INPUT_SIDE
from archlab.spec.registry import resolve
from archlab.spec.reprs import bounded_repr
from archlab.spec.rounding import parse_round_rule
from archlab.spec.rows import ROW_TYPES
from archlab.spec.rows.head import HeadSpec, parse_head

DEFAULT_FIELDS = (
    Field("norm", "choice", "norm after convs", "bn", choices=NORMS),
    Field("act", "act", "activation", "relu", choices=ACTS),
    Field("round", "str", "width rounding rule: int, round or divisibleN", "int"),
    Field(
        "padding",
        "choice",
        "conv padding when a row gives none: auto (PyTorch, k//2) or same (TensorFlow SAME)",
        "auto",
        choices=("auto", "same"),
    ),
    Field(
        "bn_eps",
        "float",
        "eps of every BN (torch: 1e-5; torchvision's MobileNetV3: 0.001)",
        1e-5,
        min=0,
        exclusive_min=True,
    ),
    Field(
        "bn_momentum",
        "float",
        "momentum of every BN's running statistics (torch: 0.1; a TensorFlow decay d is 1 - d)",
        0.1,
        min=0,
    ),
)
PUBLISHED_KEYS = ("madds", "params", "params_deployed", "note")


@dataclass(frozen=True)
class RowSpec:
    index: int
    type: str
    values: dict  # validated fields, defaults applied
    file: str
    line: int | None

    def where(self) -> dict:
        return {"file": self.file, "line": self.line, "row": self.index, "row_type": self.type}

    def label(self) -> str:
        """The row's fields as ``key=value``, leaving out type, id and fields at their default (c, k, s shown)."""
        try:
            key = (self.type, tuple(self.values.items()))
            hash(key)
        except TypeError:  # a list value (``from: [a, b]``): no memo
            return _label(self.type, self.values)
        if key not in _LABELS:
            if len(_LABELS) > 10_000:
                _LABELS.clear()
            _LABELS[key] = _label(self.type, self.values)
        return _LABELS[key]


_LABELS: dict[tuple, str] = {}  # (type, values) -> label: tables repeat rows (and a 20,000-row one very often)
_DEFAULTS: dict[str, dict] = {}
_NOT_LABELLED = {"type", "id", "bn_eps", "bn_momentum", "lint"}  # settings, not the architecture


def _label(row_type: str, values: dict) -> str:
    if row_type not in _DEFAULTS:  # fields a label leaves out at their default (c, k and s are always shown)
        fields = ROW_TYPES[row_type].all_fields
        _DEFAULTS[row_type] = {f.name: f.default for f in fields if f.name not in ("c", "k", "s")}
    defaults = _DEFAULTS[row_type]
    shown = []
    for key, value in values.items():
        if value is None or key in _NOT_LABELLED or (key in defaults and value == defaults[key]):
            continue
        shown.append(f"{key}={_fmt(value)}")
    return " ".join(shown)


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass(frozen=True)
class NetSpec:
    name: str
    description: str
    source: dict
    published: dict
    input: tuple[int, int]
    in_channels: int
    defaults: dict
    rows: tuple[RowSpec, ...]
    head: HeadSpec | None
    file: str
    head_line: int | None = None
    classes: int | None = None  # top-level classes for detection heads (ssdlite rows)
    extends: tuple[str, ...] = field(default_factory=tuple)


# -- validation into typed records -------------------------------------------------------------------


def _positive_pair(value, file, field_name) -> tuple[int, int]:
    if isinstance(value, str) and "x" in value:
        parts = value.lower().split("x")
        if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
            value = [int(p) for p in parts]
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        if max(value) > MAX_INPUT_SIDE:
            raise TableError(
                f"at most {MAX_INPUT_SIDE:,} pixels a side (archlab's limit), got {bounded_repr(value)}",
                file=file,
                field=field_name,
            )
        return int(value[0]), int(value[1])
    raise TableError(
        f"expected [H, W] or HxW with positive integers, got {bounded_repr(value)}", file=file, field=field_name
    )


def _count(value, name: str, ceiling: int) -> int:
    """A positive integer of at most ``ceiling`` (archlab's limit, :mod:`archlab.spec.limits`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TableError(f"expected a positive integer, got {bounded_repr(value)}", field=name)
    if value > ceiling:
        raise TableError(f"must be <= {ceiling:,} (archlab's limit), got {bounded_repr(value)}", field=name)
    return value


def load_table(path: str | Path) -> NetSpec:
    """Read, compose and validate a table: a shipped network name or a table file. Every error names file, row
    (with line) and field.

    Raises the first error; :func:`table_errors` lists them all.
    """
    errors: list[ArchlabError] = []
    with paused_gc():  # a large table is hundreds of thousands of values, none in a reference cycle
        spec = _load(resolve(str(path)), errors)
    if errors or spec is None:
        raise errors[0]
    return spec


def table_errors(path: str | Path) -> list[ArchlabError]:
    """Every error in a table at once (syntax and file errors stop the reading: then there is one)."""
    return checked_table(path)[1]


def checked_table(path: str | Path) -> tuple[NetSpec | None, list[ArchlabError]]:
    """The table and every error in it, from one reading: (the NetSpec, []) or (None, the errors)."""
    errors: list[ArchlabError] = []
    spec = None
    try:
        with paused_gc():
            spec = _load(resolve(str(path)), errors)
    except ArchlabError as e:
        errors.append(e)
    return (spec if not errors else None), errors


def _load(path: Path, errors: list) -> NetSpec | None:
    """Validate everything that can be validated independently, appending errors; None if any."""
    raw, raw_rows, chain = compose(path)  # file, syntax and composition errors are fatal: raised
    here = str(path)

    def check(fn, *args, **where):
        try:
            return fn(*args)
        except ArchlabError as e:
            errors.append(e.located(**where))
            return None

    top = {"file": here, "line": getattr(raw, "line", None)}
    name = check(_name, raw, **top)
    description = check(_description, raw, **top)
    hw = check(_input, raw, here, **top)
    in_channels = check(_in_channels, raw, **top)
    defaults = check(_defaults, raw, file=here, line=getattr(raw.get("defaults"), "line", None))
    published = check(_published, raw, file=here, line=getattr(raw.get("published"), "line", None))
    classes = check(_classes, raw, **top)
    if not raw_rows:
        errors.append(TableError("a network needs at least one row", file=here, field="rows"))
    rows = [check(_row, i, r, f, file=f, line=getattr(r, "line", None), row=i) for i, (r, f) in enumerate(raw_rows)]
    parsed = [row for row in rows if row is not None]
    if parsed:
        check(_whole_rows, parsed)  # duplicate ids are found beside the rows' own errors
    head_raw = raw.get("head")
    head = None
    if head_raw is not None:
        head = check(_head, head_raw, file=here, line=getattr(head_raw, "line", None))
    if errors:
        return None
    rows, head = _with_bn_defaults(rows, head, defaults)
    return NetSpec(
        name=name,
        description=description,
        source=dict(raw.get("source") or {}),
        published=published,
        input=hw,
        in_channels=in_channels,
        defaults=defaults,
        rows=tuple(rows),
        head=head,
        file=here,
        head_line=getattr(head_raw, "line", None),
        extends=chain,
        classes=classes,
    )


def _with_bn_defaults(rows: list, head: HeadSpec | None, defaults: dict) -> tuple[list, HeadSpec | None]:
    """Every row and the head with their BN eps/momentum resolved: their own, else ``defaults.bn_eps/bn_momentum``."""
    keys = ("bn_eps", "bn_momentum")

    def resolved(values: dict) -> dict:
        return {**values, **{k: defaults[k] for k in keys if values.get(k) is None}}

    rows = [replace(r, values=resolved(r.values)) for r in rows]
    if head is not None:
        head = replace(head, **resolved({k: getattr(head, k) for k in keys}))
    return rows, head


# -- the parts of a table, each validated on its own (errors name the field; _load adds file and line) --------


def _name(raw: dict) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise TableError(f"missing value (a non-empty string), got {bounded_repr(name)}", field="name")
    return name


def _description(raw: dict) -> str:
    value = raw.get("description")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TableError(f"expected a string, got {bounded_repr(value)}", field="description")
    return value


def _input(raw: dict, here: str) -> tuple[int, int]:
    if "input" not in raw:
        raise TableError("missing value", field="input")
    return _positive_pair(raw["input"], here, "input")


def _in_channels(raw: dict) -> int:
    return _count(raw.get("in_channels", 3), "in_channels", MAX_CHANNELS)


def _classes(raw: dict) -> int | None:
    value = raw.get("classes")
    return None if value is None else _count(value, "classes", MAX_CLASSES)


def _defaults(raw: dict) -> dict:
    given = raw.get("defaults") or {}
    if not isinstance(given, dict):
        raise TableError(f"expected a mapping like {{act: relu}}, got {bounded_repr(given)}", field="defaults")
    try:
        values = parse_fields(given, DEFAULT_FIELDS, what="defaults")
        parse_round_rule(values["round"])
    except TableError as e:
        e.field = f"defaults.{e.field}" if e.field else "defaults"
        raise
    return values


def _published(raw: dict) -> dict:
    for key in ("source", "published"):
        if raw.get(key) is not None and not isinstance(raw.get(key), dict):
            raise TableError(f"expected a mapping, got {bounded_repr(raw.get(key))}", field=key)
    published = dict(raw.get("published") or {})
    for key, value in published.items():
        where = f"published.{str(key)[:40]}"
        if key not in PUBLISHED_KEYS:
            raise TableError(
                f"unknown key{suggest(str(key), PUBLISHED_KEYS)}; allowed: {', '.join(PUBLISHED_KEYS)}", field=where
            )
        if key == "note":
            if not isinstance(value, str):
                raise TableError(f"expected a string, got {bounded_repr(value)}", field=where)
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise TableError(f"expected a positive finite number, got {bounded_repr(value)}", field=where)
    return published


def _row(i: int, r, rfile: str) -> RowSpec:
    if not isinstance(r, dict):
        raise TableError(f"a row must be a mapping like {{type: conv, c: 32, k: 3, s: 2}}, got {bounded_repr(r)}")
    rtype = r.get("type")
    if rtype is None:
        raise TableError("missing value", field="type")
    if not isinstance(rtype, str) or rtype not in ROW_TYPES:
        raise TableError(
            f"unknown row type {bounded_repr(rtype)}{suggest(str(rtype), ROW_TYPES) if isinstance(rtype, str) else ''}"
            f"; known: {', '.join(ROW_TYPES)}",
            field="type",
        )
    try:
        return RowSpec(i, rtype, ROW_TYPES[rtype].parse(r), rfile, getattr(r, "line", None))
    except TableError as e:
        raise e.located(row_type=rtype) from None


def _whole_rows(rows: list[RowSpec]) -> None:
    """What no single row can tell: ids are unique, and the table has at most MAX_BLOCKS blocks."""
    first: dict[str, RowSpec] = {}
    for row in rows:
        rid = row.values.get("id")
        if rid is None:
            continue
        if rid in first:
            other = first[rid]
            raise TableError(
                f"duplicate id {bounded_repr(rid)}: row {other.index} (line {other.line}) has it too; "
                "`from:` and `edit:` need each id once",
                **row.where(),
                field="id",
            )
        first[rid] = row
    blocks = sum(row.values.get("n", 1) for row in rows)
    if blocks > MAX_BLOCKS:
        raise TableError(
            f"{blocks:,} blocks in {len(rows):,} rows (the sum of n); archlab's limit is {MAX_BLOCKS:,}",
            file=rows[0].file,
            field="rows",
        )


def _head(head_raw) -> HeadSpec:
    if not isinstance(head_raw, dict):
        raise TableError(
            f"head must be a mapping like {{pool: gap, classifier: {{classes: 1000}}}}, got {bounded_repr(head_raw)}",
            field="head",
        )
    for key in ("embedding", "classifier"):
        value = head_raw.get(key)
        if value is not None and not isinstance(value, dict):
            raise TableError(f"expected a mapping, got {bounded_repr(value)}", field=f"head.{key}")
    return parse_head(head_raw)
