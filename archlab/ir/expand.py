"""NetSpec + overrides -> Plan. The one code path for CLI options and API keywords."""

from __future__ import annotations

from dataclasses import replace

from archlab.errors import ArchlabError, OptionError, TableError
from archlab.ir.builder import PlanBuilder
from archlab.ir.context import RowContext
from archlab.ir.layer import INPUT
from archlab.ir.overrides import Overrides
from archlab.ir.plan import Plan, RowInfo, deploy_in_place
from archlab.spec.bulk import paused_gc
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
            kept = head.embedding or {"layer": "linear"}  # the table's embedding (layer, bias): only its size changes
            head = replace(head, embedding={**kept, "size": ov.embedding}, classifier=None)
        if ov.classes is not None and (head.classifier is not None or spec.classes is None):
            if head.classifier is None:
                raise OptionError(f"{spec.name} has no classifier to resize; use --embedding for its output size")
            head = replace(head, classifier={**head.classifier, "classes": ov.classes})
    return rows, head


class _Expansion:
    """The state of one expansion: the builder, the rows' outputs so far, the network outputs, the row records."""

    def __init__(self, spec: NetSpec, ov: Overrides, rows: list[RowSpec]) -> None:
        self.spec = spec
        self.hw = ov.input or spec.input
        self.builder = PlanBuilder((spec.in_channels, *self.hw))
        self.width = 1.0 if ov.width is None else ov.width
        self.classes = ov.classes if (ov.classes is not None and spec.classes is not None) else spec.classes
        self.x = INPUT
        self.infos: list[RowInfo] = []
        self.row_outputs: list[str] = []
        self.outputs: list[str] = []
        self.ids = {row.values["id"]: row.index for row in rows if row.values.get("id")}

    def context(self, index: int | str, sources: list[str], norm: str, act: str) -> RowContext:
        d = self.spec.defaults
        return RowContext(
            self.builder,
            index,
            sources[0],
            self.width,
            d["round"],
            norm,
            act,
            d["padding"],
            self.classes,
            tuple(sources),
        )

    def record(self, index, row_type: str, label: str, start: int, in_shape, file: str, line) -> None:
        layers = tuple(layer.name for layer in self.builder.layers[start:])
        self.infos.append(RowInfo(index, row_type, label, layers, in_shape, self.builder.shape(self.x), file, line))

    def row(self, row: RowSpec) -> None:
        self.builder.row = row.index
        start = len(self.builder.layers)
        try:
            sources = resolve_from(row.values.get("from"), row.index, self.row_outputs, self.ids, self.builder, self.x)
            d = self.spec.defaults
            ctx = self.context(
                row.index, sources, row.values.get("norm") or d["norm"], row.values.get("act") or d["act"]
            )
            in_shape = self.builder.shape(sources[0])
            ROW_TYPES[row.type].expand(row.values, ctx)
        except ArchlabError as e:
            raise e.located(**row.where()) from None
        self.x = ctx.x
        self.row_outputs.append(self.x)
        is_output = row.values.get("output")
        if is_output or (is_output is None and row.type == "ssdlite"):
            self.outputs.append(self.x)
        self.record(row.index, row.type, row.label(), start, in_shape, row.file, row.line)

    def head(self, head: HeadSpec) -> None:
        spec = self.spec
        self.builder.row = "head"
        start = len(self.builder.layers)
        ctx = self.context("head", [self.x], spec.defaults["norm"], spec.defaults["act"])
        in_shape = self.builder.shape(self.x)
        try:
            expand_head(head, ctx)
        except ArchlabError as e:
            raise e.located(file=spec.file, line=spec.head_line, row="head") from None
        self.x = ctx.x
        self.outputs.append(self.x)
        self.record("head", "head", head.describe(), start, in_shape, spec.file, spec.head_line)


def expand(spec: NetSpec, overrides: Overrides | None = None) -> Plan:
    """The plan of ``spec`` under ``overrides``: every row's recipe, then the head, through one builder."""
    ov = overrides or Overrides()
    rows, head = apply_overrides(spec, ov)
    with paused_gc():  # a large table makes hundreds of thousands of layers, none in a reference cycle
        run = _Expansion(spec, ov, rows)
        for row in rows:
            run.row(row)
        if head is not None:
            run.head(head)
        outputs = run.outputs or [run.x]
        layers = deploy_in_place(run.builder.layers, tuple(outputs))  # the builder's layers are not shared yet
        return Plan(
            model=spec.name,
            input=(spec.in_channels, *run.hw),
            layers=layers,
            output=outputs[-1],
            rows=tuple(run.infos),
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


def plan_of(net, **overrides) -> Plan:
    """The plan of a shipped network name, a table path or a NetSpec under API keyword overrides."""
    from archlab.spec.table import load_table

    spec = net if isinstance(net, NetSpec) else load_table(net)
    return expand(spec, Overrides.from_kwargs(**overrides))
