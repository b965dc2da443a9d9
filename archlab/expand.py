"""NetSpec + overrides -> Plan. The one code path for CLI options and API keywords."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from archlab.errors import ArchlabError, OptionError, TableError
from archlab.rows.base import suggest
from archlab.plan import INPUT, Plan, PlanBuilder
from archlab.rows import ROW_TYPES
from archlab.rows.context import RowContext
from archlab.rows.head import POOLS, HeadSpec, expand_head
from archlab.table import NetSpec, RowSpec


@dataclass(frozen=True)
class Overrides:
    """Changes to a table that do not need a new file. ``None`` means: as the table says."""

    input: tuple[int, int] | None = None  # (H, W)
    width: float | None = None
    stem_stride: int | None = None
    stem_pool: bool = False
    head: str | None = None  # gdconv | gap | fc
    embedding: int | None = None
    classes: int | None = None

    @classmethod
    def from_kwargs(cls, **kw) -> "Overrides":
        names = {f.name for f in fields(cls)}
        for key in kw:
            if key not in names:
                raise OptionError(f"unknown option {key!r}; known: {', '.join(sorted(names))}")
        if kw.get("input") is not None:
            kw["input"] = parse_hw(kw["input"])
        ov = cls(**kw)
        ov.check()
        return ov

    def check(self) -> None:
        if self.width is not None and not self.width > 0:
            raise OptionError(f"--width must be > 0, got {self.width}")
        if self.stem_stride is not None and self.stem_stride not in (1, 2):
            raise OptionError(f"--stem-stride must be 1 or 2, got {self.stem_stride}")
        if self.stem_pool and self.stem_stride == 2:
            raise OptionError("--stem-pool sets the first layer to stride 1 and adds a max-pool; "
                              "it cannot be combined with --stem-stride 2")
        if self.head is not None and self.head not in POOLS:
            raise OptionError(f"--head must be one of {', '.join(POOLS)}, got {self.head!r}")
        if self.embedding is not None and self.embedding <= 0:
            raise OptionError(f"--embedding must be > 0, got {self.embedding}")
        if self.classes is not None and self.classes <= 0:
            raise OptionError(f"--classes must be > 0, got {self.classes}")
        if self.embedding is not None and self.classes is not None:
            raise OptionError("--embedding replaces the classifier; give --embedding or --classes, not both")

    def as_dict(self) -> dict:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None and v is not False:
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


def parse_hw(value) -> tuple[int, int]:
    """``112x96``, ``112`` (square), or a pair."""
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").split("x")
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise OptionError(f"--input must look like 112x96 (HxW), got {value!r}")
        value = (int(parts[0]), int(parts[1]))
    if isinstance(value, int):
        value = (value, value)
    h, w = value
    if h <= 0 or w <= 0:
        raise OptionError(f"--input sizes must be positive, got {h}x{w}")
    return int(h), int(w)


@dataclass(frozen=True)
class RowInfo:
    """A table row after expansion: which layers it became, its shapes and its resolved fields."""

    index: int | str
    type: str
    label: str
    layers: tuple[str, ...]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    file: str
    line: int | None


def apply_overrides(spec: NetSpec, ov: Overrides) -> tuple[list[RowSpec], HeadSpec | None]:
    rows = list(spec.rows)
    if ov.stem_stride is not None or ov.stem_pool:
        first = rows[0]
        if first.type != "conv":
            raise OptionError(
                f"--stem-stride/--stem-pool change the first row, which must be a conv row "
                f"(row 0 of {spec.file} is {first.type})")
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
            ctx = RowContext(builder, row.index, sources[0], width, spec.defaults["round"],
                             row.values.get("norm") or spec.defaults["norm"],
                             row.values.get("act") or spec.defaults["act"], spec.defaults["padding"], classes,
                             tuple(sources))
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
        infos.append(RowInfo(row.index, row.type, row.label(), tuple(l.name for l in builder.layers[start:]),
                             in_shape, builder.shape(x), row.file, row.line))
    if head is not None:
        builder.row = "head"
        ctx = RowContext(builder, "head", x, width, spec.defaults["round"], spec.defaults["norm"],
                         spec.defaults["act"], spec.defaults["padding"])
        start = len(builder.layers)
        in_shape = builder.shape(x)
        try:
            expand_head(head, ctx)
        except ArchlabError as e:
            raise e.located(file=spec.file, line=spec.head_line, row="head") from None
        x = ctx.x
        outputs.append(x)
        infos.append(RowInfo("head", "head", head.describe(), tuple(l.name for l in builder.layers[start:]),
                             in_shape, builder.shape(x), spec.file, spec.head_line))
    outputs = outputs or [x]
    return Plan(model=spec.name, input=(spec.in_channels, *hw), layers=tuple(builder.layers), output=outputs[-1],
                rows=tuple(infos), options=ov.as_dict(), outputs=tuple(outputs))


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
