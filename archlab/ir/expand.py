"""NetSpec + overrides -> Plan. The one code path for CLI options and API keywords."""

from __future__ import annotations

from dataclasses import replace

from archlab.errors import ArchlabError, OptionError, TableError
from archlab.ir.builder import PlanBuilder
from archlab.ir.context import RowContext
from archlab.ir.layer import INPUT
from archlab.ir.overrides import Overrides
from archlab.ir.plan import Plan, RowInfo
from archlab.spec.fields import suggest
from archlab.spec.rows import ROW_TYPES
from archlab.spec.rows.head import HeadSpec, expand_head
from archlab.spec.table import NetSpec, RowSpec


def apply_overrides(spec: NetSpec, ov: Overrides) -> tuple[list[RowSpec], HeadSpec | None]:
    rows = list(spec.rows)
    if ov.stem_stride is not None or ov.stem_pool:
        first = rows[0]
        if first.type != "conv":
            raise OptionError(
                f"--stem-stride/--stem-pool change the first row, which must be a conv row "
                f"(row 0 of {spec.file} is {first.type})"
            )
        values = dict(first.values)
        values["s"] = 1 if ov.stem_pool else ov.stem_stride
        values["pool"] = bool(ov.stem_pool) or values["pool"]
        rows[0] = replace(first, values=values)
    head = spec.head
    if ov.head or ov.embedding is not None or (ov.classes is not None and spec.classes is None):
        if head is None:
            raise OptionError(f"{spec.name} has no head to change (--head/--embedding/--classes)")
        if ov.head:
            head = replace(head, pool=ov.head)
        if ov.embedding is not None:
            layer = head.embedding["layer"] if head.embedding else "linear"
            head = replace(head, embedding={"size": ov.embedding, "layer": layer}, classifier=None)
        if ov.classes is not None and (head.classifier is not None or spec.classes is None):
            if head.classifier is None:
                raise OptionError(f"{spec.name} has no classifier to resize; use --embedding for its output size")
            head = replace(head, classifier={**head.classifier, "classes": ov.classes})
    return rows, head


def expand(spec: NetSpec, overrides: Overrides | None = None) -> Plan:
    ov = overrides or Overrides()
    rows, head = apply_overrides(spec, ov)
    hw = ov.input or spec.input
    builder = PlanBuilder((spec.in_channels, *hw))
    width = 1.0 if ov.width is None else ov.width
    classes = ov.classes if (ov.classes is not None and spec.classes is not None) else spec.classes
    x = INPUT
    infos = []
    row_outputs: list[str] = []
    ids = {row.values["id"]: row.index for row in rows if row.values.get("id")}
    outputs: list[str] = []
    for row in rows:
        builder.row = row.index
        try:
            sources = resolve_from(row.values.get("from"), row.index, row_outputs, ids, builder, x)
            ctx = RowContext(
                builder,
                row.index,
                sources[0],
                width,
                spec.defaults["round"],
                row.values.get("norm") or spec.defaults["norm"],
                row.values.get("act") or spec.defaults["act"],
                spec.defaults["padding"],
                classes,
                tuple(sources),
            )
            start = len(builder.layers)
            in_shape = builder.shape(sources[0])
            ROW_TYPES[row.type].expand(row.values, ctx)
        except ArchlabError as e:
            raise e.located(**row.where()) from None
        x = ctx.x
        row_outputs.append(x)
        is_output = row.values.get("output")
        if is_output or (is_output is None and row.type == "ssdlite"):
            outputs.append(x)
        infos.append(
            RowInfo(
                row.index,
                row.type,
                row.label(),
                tuple(l.name for l in builder.layers[start:]),
                in_shape,
                builder.shape(x),
                row.file,
                row.line,
            )
        )
    if head is not None:
        builder.row = "head"
        ctx = RowContext(
            builder,
            "head",
            x,
            width,
            spec.defaults["round"],
            spec.defaults["norm"],
            spec.defaults["act"],
            spec.defaults["padding"],
        )
        start = len(builder.layers)
        in_shape = builder.shape(x)
        try:
            expand_head(head, ctx)
        except ArchlabError as e:
            raise e.located(file=spec.file, line=spec.head_line, row="head") from None
        x = ctx.x
        outputs.append(x)
        infos.append(
            RowInfo(
                "head",
                "head",
                head.describe(),
                tuple(l.name for l in builder.layers[start:]),
                in_shape,
                builder.shape(x),
                spec.file,
                spec.head_line,
            )
        )
    outputs = outputs or [x]
    return Plan(
        model=spec.name,
        input=(spec.in_channels, *hw),
        layers=tuple(builder.layers),
        output=outputs[-1],
        rows=tuple(infos),
        options=ov.as_dict(),
        outputs=tuple(outputs),
    )


def resolve_from(ref, index: int, row_outputs: list[str], ids: dict, builder, previous: str) -> list[str]:
    """A row's ``from`` -> the tensors it reads. Without ``from``: the previous row's output."""
    if ref is None:
        return [previous]
    out = []
    for item in ref if isinstance(ref, list) else [ref]:
        if isinstance(item, int):
            target = item if item >= 0 else index + item
            if not 0 <= target < index:
                raise TableError(f"row {item} is not an earlier row (this is row {index})", field="from")
            out.append(row_outputs[target])
        elif item in ids:
            if ids[item] >= index:
                raise TableError(f"row id {item!r} is not an earlier row", field="from")
            out.append(row_outputs[ids[item]])
        elif item in builder.shapes and item != INPUT:
            out.append(item)  # a tap on a layer inside an earlier block
        elif item == INPUT:
            out.append(INPUT)
        else:
            known = list(ids) + [l.name for l in builder.layers]
            raise TableError(f"unknown row id or layer name {item!r}{suggest(item, known)}", field="from")
    return out
