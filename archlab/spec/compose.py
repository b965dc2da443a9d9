"""Composition of table files: ``extends:`` (mappings merge, ``null`` removes) and ``edit:`` of rows."""

from __future__ import annotations

from pathlib import Path

from archlab.errors import ArchlabError, TableError
from archlab.spec.fields import suggest
from archlab.spec.reprs import bounded_repr
from archlab.spec.yaml_reader import LineDict, read_yaml

TOP_FIELDS = (
    "name",
    "description",
    "source",
    "published",
    "input",
    "in_channels",
    "classes",
    "defaults",
    "rows",
    "head",
    "extends",
    "edit",
)


def _merge(base: dict, child: dict) -> LineDict:
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


def compose(path: Path, stack: tuple[Path, ...] = ()) -> tuple[LineDict, list[tuple[dict, str]], tuple[str, ...]]:
    """Resolve ``extends`` recursively. Returns the merged mapping and its rows paired with their files."""
    from archlab.spec import registry

    raw = read_yaml(path)
    here = str(path)
    for key in raw:
        if key not in TOP_FIELDS:
            raise TableError(
                f"unknown top-level key{suggest(str(key), TOP_FIELDS)}; allowed: {', '.join(TOP_FIELDS)}",
                file=here,
                field=str(key),
            )
    rows = raw.get("rows")
    if rows is not None and not isinstance(rows, list):
        raise TableError("rows must be a list of mappings, one per line", file=here, line=raw.line, field="rows")
    own_rows: list[tuple[dict, str]] | None = [(r, here) for r in rows] if rows is not None else None
    parent = raw.get("extends")
    if parent is None:
        if own_rows is None:
            raise TableError("missing value", file=here, field="rows")
        if "edit" in raw:
            raise TableError("edit needs extends", file=here, field="edit")
        return raw, own_rows, ()
    if not isinstance(parent, str):
        raise TableError(f"expected a network name or a path, got {bounded_repr(parent)}", file=here, field="extends")
    try:
        ppath = registry.resolve(parent, relative_to=path.parent)
    except ArchlabError as e:
        raise e.located(file=here, field="extends") from None
    if ppath.resolve() in {p.resolve() for p in stack + (path,)}:
        raise TableError(f"extends forms a cycle through {ppath}", file=here, field="extends")
    base, base_rows, chain = compose(ppath, stack + (path,))
    merged = _merge(base, {k: v for k, v in raw.items() if k not in ("rows", "extends", "edit")})
    merged_rows = own_rows if own_rows is not None else list(base_rows)
    if "edit" in raw:
        merged_rows = _apply_edits(raw["edit"], merged_rows, here)
    return merged, merged_rows, (str(ppath),) + chain


def _apply_edits(edits, rows: list[tuple[dict, str]], file: str) -> list[tuple[dict, str]]:
    """``edit:`` a list of {row: index|id, set: {...}} / {row, remove: true} / {row, insert_before|after: {...}}."""
    if not isinstance(edits, list):
        raise TableError("edit must be a list of mappings", file=file, field="edit")
    rows = list(rows)
    for k, e in enumerate(edits):
        line = getattr(e, "line", None)
        where: dict = {"file": file, "line": line, "field": f"edit[{k}]"}
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
            raise TableError(f"no row {bounded_repr(target)} to edit (rows 0..{len(rows) - 1}, or an id)", **where)
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
