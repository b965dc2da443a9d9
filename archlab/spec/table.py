"""Reading layer tables: YAML with line numbers, ``extends:`` and ``edit:``, validated into a NetSpec.

Parsing is kept apart from composition: :mod:`archlab.spec.yaml_reader` only reads a file (with line numbers on
every mapping), :mod:`archlab.spec.compose` resolves ``extends``/``edit``, and :func:`load_table` validates fields
into typed records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from archlab.errors import ArchlabError, TableError
from archlab.spec.compose import compose
from archlab.spec.fields import ACTS, NORMS, Field, parse_fields, suggest
from archlab.spec.registry import resolve
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
        skip = {"type", "id", "norm", "act", "bn_eps", "bn_momentum", "lint"}  # settings, not the architecture
        shown = []
        fields = {f.name: f for f in ROW_TYPES[self.type].all_fields}
        for key, value in self.values.items():
            if key in skip and not (key in ("norm", "act") and value is not None):
                continue
            if key in fields and value == fields[key].default and key not in ("c", "k", "s"):
                continue
            if value is None:
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
        return int(value[0]), int(value[1])
    raise TableError(f"expected [H, W] or HxW with positive integers, got {value!r}", file=file, field=field_name)


def load_table(path: str | Path) -> NetSpec:
    """Read, compose and validate a table: a shipped network name or a table file. Every error names file, row
    (with line) and field.

    Raises the first error; :func:`table_errors` lists them all.
    """
    errors: list[ArchlabError] = []
    spec = _load(resolve(str(path)), errors)
    if errors or spec is None:
        raise errors[0]
    return spec


def table_errors(path: str | Path) -> list[ArchlabError]:
    """Every error in a table at once (syntax and file errors stop the reading: then there is one)."""
    errors: list[ArchlabError] = []
    try:
        _load(resolve(str(path)), errors)
    except ArchlabError as e:
        errors.append(e)
    return errors


def _load(path: Path, errors: list) -> NetSpec | None:
    """Validate everything that can be validated independently, appending errors; None if any."""
    raw, raw_rows, chain = compose(path)  # file, syntax and composition errors are fatal: raised
    here = str(path)

    def check(fn, **where):
        try:
            return fn()
        except ArchlabError as e:
            errors.append(e.located(**where))
            return None

    def name_():
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise TableError("missing value (a non-empty string)", field="name")
        return name

    def input_():
        if "input" not in raw:
            raise TableError("missing value", field="input")
        return _positive_pair(raw["input"], here, "input")

    def in_channels_():
        value = raw.get("in_channels", 3)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TableError(f"expected a positive integer, got {value!r}", field="in_channels")
        return value

    def defaults_():
        try:
            values = parse_fields(raw.get("defaults") or {}, DEFAULT_FIELDS, what="defaults")
            parse_round_rule(values["round"])
        except TableError as e:
            e.field = f"defaults.{e.field}" if e.field else "defaults"
            raise
        return values

    def published_():
        for key in ("source", "published"):
            if raw.get(key) is not None and not isinstance(raw.get(key), dict):
                raise TableError("expected a mapping", field=key)
        published = dict(raw.get("published") or {})
        for key, value in published.items():
            if key not in PUBLISHED_KEYS:
                raise TableError(
                    f"unknown key{suggest(key, PUBLISHED_KEYS)}; allowed: {', '.join(PUBLISHED_KEYS)}",
                    field=f"published.{key}",
                )
            if key != "note" and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise TableError(f"expected a positive number, got {value!r}", field=f"published.{key}")
        return published

    def classes_():
        value = raw.get("classes")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise TableError(f"expected a positive integer, got {value!r}", field="classes")
        return value

    def row_(i, r, rfile):
        if not isinstance(r, dict):
            raise TableError(f"a row must be a mapping like {{type: conv, c: 32, k: 3, s: 2}}, got {r!r}")
        rtype = r.get("type")
        if rtype is None:
            raise TableError("missing value", field="type")
        if rtype not in ROW_TYPES:
            raise TableError(
                f"unknown row type {rtype!r}{suggest(str(rtype), ROW_TYPES)}; known: {', '.join(ROW_TYPES)}",
                field="type",
            )
        try:
            return RowSpec(i, rtype, ROW_TYPES[rtype].parse(r), rfile, getattr(r, "line", None))
        except TableError as e:
            raise e.located(row_type=rtype) from None

    top = {"file": here, "line": getattr(raw, "line", None)}
    name = check(name_, **top)
    hw = check(input_, **top)
    in_channels = check(in_channels_, **top)
    defaults = check(defaults_, file=here, line=getattr(raw.get("defaults"), "line", None))
    published = check(published_, file=here, line=getattr(raw.get("published"), "line", None))
    classes = check(classes_, **top)
    if not raw_rows:
        errors.append(TableError("a network needs at least one row", file=here, field="rows"))
    rows = [
        check(lambda i=i, r=r, f=f: row_(i, r, f), file=f, line=getattr(r, "line", None), row=i)
        for i, (r, f) in enumerate(raw_rows)
    ]
    head_raw = raw.get("head")
    head = None
    if head_raw is not None:
        head = check(lambda: parse_head(head_raw), file=here, line=getattr(head_raw, "line", None))
    if errors:
        return None
    rows, head = _with_bn_defaults(rows, head, defaults)
    return NetSpec(
        name=name,
        description=str(raw.get("description", "")),
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
