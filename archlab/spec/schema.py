"""A JSON Schema of the layer-table format, generated from the declared fields (for editors and CI)."""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rows import ROW_TYPES
from archlab.spec.rows.head import CLASSIFIER_FIELDS, EMBEDDING_FIELDS, HEAD_FIELDS
from archlab.spec.table import DEFAULT_FIELDS, PUBLISHED_KEYS

SCHEMA_ID = "https://archlab.invalid/schema/table-v1.json"

_REF_ITEM = {"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1}]}


def field_schema(f: Field) -> dict:
    if f.kind == "int":
        s: dict = {"type": "integer"}
    elif f.kind == "float":
        s = {"type": "number"}
    elif f.kind == "bool":
        s = {"type": "boolean"}
    elif f.kind == "str":
        s = {"type": "string", "minLength": 1}
    elif f.kind in ("choice", "act"):
        s = {"enum": list(f.choices)}
    elif f.kind == "padding":
        s = {"oneOf": [{"enum": ["auto", "same", "valid"]}, {"type": "integer", "minimum": 0}]}
    elif f.kind == "ref":
        s = {"oneOf": [_REF_ITEM, {"type": "array", "items": _REF_ITEM, "minItems": 1}]}
    elif f.kind == "strings":
        s = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
    elif f.kind == "switch":  # true/false or a mapping of the preset's keys
        s = {"oneOf": [{"type": "boolean"}, object_schema(f.fields)]}
    elif f.fields:
        s = object_schema(f.fields)
    elif f.kind == "pair":
        nonneg = {"type": "integer", "minimum": 0}
        s = {"oneOf": [nonneg, {"type": "array", "items": nonneg, "minItems": 1, "maxItems": 2}]}
    elif f.kind == "ints":
        s = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    else:
        s = {"type": "object"}
    if f.min is not None and f.kind in ("int", "float"):
        s["exclusiveMinimum" if f.exclusive_min else "minimum"] = f.min
    if not f.required and f.default is None and "type" in s:
        s["type"] = [s["type"], "null"]
    elif not f.required and f.default is None and "oneOf" in s:
        s["oneOf"] = [*s["oneOf"], {"type": "null"}]
    s["description"] = f.help
    if not f.required and f.default is not None:
        s["default"] = f.default
    return s


def object_schema(fields, *, required=None, extra: dict | None = None) -> dict:
    props = {f.name: field_schema(f) for f in fields}
    props.update(extra or {})
    req = required if required is not None else [f.name for f in fields if f.required]
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if req:
        out["required"] = req
    return out


def row_schema(name: str) -> dict:
    rt = ROW_TYPES[name]
    s = object_schema(rt.all_fields)
    s["properties"]["type"] = {"const": name, "description": rt.help}
    s["title"] = f"{name} row"
    return s


def table_schema() -> dict:
    head = object_schema(
        [f for f in HEAD_FIELDS if f.kind != "mapping"],
        required=[],  # pool may come from an extended file
        extra={
            "embedding": {"oneOf": [object_schema(EMBEDDING_FIELDS), {"type": "null"}]},
            "classifier": {"oneOf": [object_schema(CLASSIFIER_FIELDS), {"type": "null"}]},
        },
    )
    rows = {"type": "array", "items": {"oneOf": [row_schema(n) for n in ROW_TYPES]}}
    edit_action = {
        "type": "object",
        "properties": {
            "row": _REF_ITEM,
            "set": {"type": "object"},
            "remove": {"const": True},
            "insert_before": {"type": "object"},
            "insert_after": {"type": "object"},
        },
        "required": ["row"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "archlab layer table",
        "description": "A network as rows of a table (see configs/README.md).",
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "source": {"type": "object"},
            "published": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    k: ({"type": "string"} if k == "note" else {"type": ["number", "null"], "exclusiveMinimum": 0})
                    for k in PUBLISHED_KEYS
                },
            },
            "input": {
                "oneOf": [
                    {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2},
                    {"type": "string", "pattern": "^[0-9]+x[0-9]+$"},
                ]
            },
            "in_channels": {"type": "integer", "minimum": 1},
            "classes": {"type": "integer", "minimum": 1},
            "defaults": object_schema(DEFAULT_FIELDS, required=[]),
            "rows": rows,
            "head": {"oneOf": [head, {"type": "null"}]},
            "extends": {"type": "string", "minLength": 1},
            "edit": {"type": "array", "items": edit_action},
        },
        "required": ["name"],
        "anyOf": [{"required": ["rows", "input"]}, {"required": ["extends"]}],
        "additionalProperties": False,
    }
