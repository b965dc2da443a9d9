"""Reading layer tables: YAML with line numbers, ``extends:`` and ``edit:``, validated into a NetSpec.

Parsing is kept apart from composition: :func:`read_yaml` only reads a file (with line numbers on every
mapping), :func:`load_table` resolves ``extends``/``edit`` and validates fields into typed records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from archlab.errors import ArchlabError, TableError
from archlab.rows import ROW_TYPES
from archlab.rows.base import ACTS, NORMS, Field, parse_fields, suggest
from archlab.rows.context import parse_round_rule
from archlab.rows.head import HeadSpec, parse_head

TOP_FIELDS = (
    "name", "description", "source", "published", "input", "in_channels", "classes", "defaults", "rows", "head",
    "extends", "edit",
)
DEFAULT_FIELDS = (
    Field("norm", "choice", "norm after convs", "bn", choices=NORMS),
    Field("act", "choice", "activation", "relu", choices=ACTS),
    Field("round", "str", "width rounding rule: int, round or divisibleN", "int"),
    Field("padding", "choice", "conv padding when a row gives none: auto (PyTorch, k//2) or same (TensorFlow SAME)",
          "auto", choices=("auto", "same")),
)
PUBLISHED_KEYS = ("madds", "params", "params_deployed", "note")


class LineDict(dict):
    """A mapping read from YAML that remembers the line it starts on."""

    line: int | None = None


def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node):
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                raise TableError(f"duplicate key {key!r}", line=key_node.start_mark.line + 1, field=str(key))
            seen.add(key)
        d = LineDict(loader.construct_mapping(node, deep=True))
        d.line = node.start_mark.line + 1
        return d

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def read_yaml(path: Path) -> LineDict:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ArchlabError(f"cannot read table file: {e.strerror or e}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ArchlabError("not a UTF-8 text file", file=str(path)) from None
    try:
        data = yaml.load(text, Loader=_loader())
    except TableError as e:
        raise e.located(file=str(path)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise TableError(f"YAML syntax error: {problem}", file=str(path),
                         line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise TableError("a table file must be a mapping with at least `name` and `rows`", file=str(path))
    return data


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
        skip = {"type", "id", "norm", "act"}
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


# -- composition -----------------------------------------------------------------------------------

def _merge(base: dict, child: dict) -> dict:
    """Child keys override; nested mappings merge; a null value removes the key."""
    out = LineDict(base)
    out.line = getattr(child, "line", None) or getattr(base, "line", None)
    for key, value in child.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _compose(path: Path, stack: tuple[Path, ...] = ()) -> tuple[LineDict, list[tuple[dict, str]], tuple[str, ...]]:
    """Resolve ``extends`` recursively. Returns the merged mapping and its rows paired with their files."""
    from archlab import registry

    raw = read_yaml(path)
    here = str(path)
    for key in raw:
        if key not in TOP_FIELDS:
            raise TableError(f"unknown top-level key{suggest(str(key), TOP_FIELDS)}; allowed: {', '.join(TOP_FIELDS)}",
                             file=here, field=str(key))
    rows = raw.get("rows")
    if rows is not None and not isinstance(rows, list):
        raise TableError("rows must be a list of mappings, one per line", file=here, line=raw.line, field="rows")
    own_rows = [(r, here) for r in rows] if rows is not None else None
    parent = raw.get("extends")
    if parent is None:
        if own_rows is None:
            raise TableError("missing value", file=here, field="rows")
        if "edit" in raw:
            raise TableError("edit needs extends", file=here, field="edit")
        return raw, own_rows, ()
    if not isinstance(parent, str):
        raise TableError(f"expected a network name or a path, got {parent!r}", file=here, field="extends")
    try:
        ppath = registry.resolve(parent, relative_to=path.parent)
    except ArchlabError as e:
        raise e.located(file=here, field="extends") from None
    if ppath.resolve() in {p.resolve() for p in stack + (path,)}:
        raise TableError(f"extends forms a cycle through {ppath}", file=here, field="extends")
    base, base_rows, chain = _compose(ppath, stack + (path,))
    merged = _merge(base, {k: v for k, v in raw.items() if k not in ("rows", "extends", "edit")})
    merged_rows = own_rows if own_rows is not None else list(base_rows)
    if "edit" in raw:
        merged_rows = _apply_edits(raw["edit"], merged_rows, here)
    return merged, merged_rows, (str(ppath),) + chain


def _apply_edits(edits, rows: list[tuple[dict, str]], file: str) -> list[tuple[dict, str]]:
    """``edit:`` a list of {row: index|id, set: {...}} / {row, remove: true} / {row, insert_before|insert_after: {...}}."""
    if not isinstance(edits, list):
        raise TableError("edit must be a list of mappings", file=file, field="edit")
    rows = list(rows)
    for k, e in enumerate(edits):
        line = getattr(e, "line", None)
        where = {"file": file, "line": line, "field": f"edit[{k}]"}
        if not isinstance(e, dict) or "row" not in e:
            raise TableError("each edit is a mapping with `row` (index or id) and one action", **where)
        actions = [a for a in ("set", "remove", "insert_before", "insert_after") if a in e]
        unknown = set(e) - {"row", "set", "remove", "insert_before", "insert_after"}
        if unknown or len(actions) != 1:
            raise TableError("use exactly one of set, remove, insert_before, insert_after", **where)
        target = e["row"]
        pos = None
        for i, (r, _) in enumerate(rows):
            if (isinstance(target, int) and not isinstance(target, bool) and i == target) or (
                isinstance(target, str) and isinstance(r, dict) and r.get("id") == target
            ):
                pos = i
        if pos is None:
            raise TableError(f"no row {target!r} to edit (rows 0..{len(rows) - 1}, or an id)", **where)
        action = actions[0]
        if action == "set":
            if not isinstance(e["set"], dict):
                raise TableError("set takes a mapping of fields", **where)
            new = LineDict(rows[pos][0])
            new.update(e["set"])
            new.line = line
            rows[pos] = (new, file)
        elif action == "remove":
            if e["remove"] is not True:
                raise TableError("remove takes true", **where)
            del rows[pos]
        else:
            new_row = e[action]
            rows.insert(pos if action == "insert_before" else pos + 1, (new_row, file))
    return rows


# -- validation into typed records -------------------------------------------------------------------

def _positive_pair(value, file, field_name) -> tuple[int, int]:
    if isinstance(value, str) and "x" in value:
        parts = value.lower().split("x")
        if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
            value = [int(p) for p in parts]
    if (
        isinstance(value, list) and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return int(value[0]), int(value[1])
    raise TableError(f"expected [H, W] or HxW with positive integers, got {value!r}", file=file, field=field_name)


def load_table(path: str | Path) -> NetSpec:
    """Read, compose and validate a table file. Every error names file, row (with line) and field.

    Raises the first error; :func:`table_errors` lists them all.
    """
    errors: list[ArchlabError] = []
    spec = _load(Path(path), errors)
    if errors:
        raise errors[0]
    return spec


def table_errors(path: str | Path) -> list[ArchlabError]:
    """Every error in a table at once (syntax and file errors stop the reading: then there is one)."""
    errors: list[ArchlabError] = []
    try:
        _load(Path(path), errors)
    except ArchlabError as e:
        errors.append(e)
    return errors


def _load(path: Path, errors: list) -> NetSpec | None:
    """Validate everything that can be validated independently, appending errors; None if any."""
    raw, raw_rows, chain = _compose(path)  # file, syntax and composition errors are fatal: raised
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
                raise TableError(f"unknown key{suggest(key, PUBLISHED_KEYS)}; allowed: {', '.join(PUBLISHED_KEYS)}",
                                 field=f"published.{key}")
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
                field="type")
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
    rows = [check(lambda i=i, r=r, f=f: row_(i, r, f), file=f, line=getattr(r, "line", None), row=i)
            for i, (r, f) in enumerate(raw_rows)]
    head_raw = raw.get("head")
    head = None
    if head_raw is not None:
        head = check(lambda: parse_head(head_raw), file=here, line=getattr(head_raw, "line", None))
    if errors:
        return None
    return NetSpec(
        name=name, description=str(raw.get("description", "")), source=dict(raw.get("source") or {}),
        published=published, input=hw, in_channels=in_channels, defaults=defaults, rows=tuple(rows),
        head=head, file=here, head_line=getattr(head_raw, "line", None), extends=chain, classes=classes,
    )
