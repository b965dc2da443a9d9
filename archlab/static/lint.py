"""Lint: architecture smells found from the plan alone. Each finding names its table row.

Rules
- ``global-dw-coverage``: a depthwise conv meant as a global one (1x1 output from a larger map) whose kernel
  does not cover the map: it sees only some positions (e.g. a 3x3 stride-7 conv on 7x7 sees 9 of 49).
- ``small-fmap-end``: a face-embedding network whose last feature map (FMap-end) is smaller than 7x7 (the
  MobileFaceNets paper runs MobileNetV2 at stride 1 on 112x112 faces because stride 2 gives 4x4 and poor
  accuracy).
- ``rf-coverage``: the final receptive field does not cover the input (FMap-end for a classifier or an
  embedding; the coarsest output map for a detector).
- ``rf-misaligned``: a residual add or concat joins branches whose receptive fields have different jumps or
  centres.
- ``uneven-stride``: a strided layer whose input size is not divisible by its stride (the last row/column is
  handled differently from the rest).
- ``stride-exceeds-kernel``: a conv or pool whose stride exceeds its (dilated) kernel: the rows and columns
  between its windows are never read (a 1x1 stride-2 conv reads one pixel in four).

Waivers: a row's ``lint: {ignore: [rule, ...], why: "..."}`` accepts those findings on the row's layers. They are
not findings any more (:func:`lint`), but :func:`waived` lists them with the reason; a waiver naming an unknown
rule is an error (file, line, row, field ``lint.ignore``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from archlab.errors import TableError
from archlab.ir.layer import Layer
from archlab.ir.plan import Plan
from archlab.spec.fields import suggest
from archlab.static.receptive import misaligned, receptive_fields

RULES = (
    "global-dw-coverage",
    "small-fmap-end",
    "rf-coverage",
    "rf-misaligned",
    "uneven-stride",
    "stride-exceeds-kernel",
)


@dataclass(frozen=True)
class Finding:
    rule: str
    row: int | str
    layer: str
    message: str
    file: str | None = None
    line: int | None = None
    waived: str | None = None  # the reason of the row's waiver for this rule, if any

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        row = f"row {self.row}" if self.row != "head" else "head"
        waived = f" (waived: {self.waived})" if self.waived else ""
        return f"{where}{row} ({self.layer}): {self.rule}: {self.message}{waived}"


def _seen(n: int, k: int, pad: int) -> int:
    """Input positions along one axis that output position 0 reads (zero padding excluded)."""
    return max(0, min(n, k - pad) - max(0, -pad))


def _global_dw(layer: Layer) -> str | None:
    if layer.op != "conv" or layer.groups == 1 or layer.groups != layer.in_shape[0]:
        return None
    if layer.kernel is None or layer.dilation is None or layer.padding is None or layer.stride is None:
        return None
    _, h, w = layer.in_shape
    if layer.out_shape[1:] != (1, 1) or (h, w) == (1, 1):
        return None
    dh, dw = layer.dilation
    kh, kw = dh * (layer.kernel[0] - 1) + 1, dw * (layer.kernel[1] - 1) + 1
    seen = _seen(h, kh, layer.padding[0]) * _seen(w, kw, layer.padding[1])
    if seen >= h * w:
        return None
    return (
        f"a 'global' depthwise {layer.kernel[0]}x{layer.kernel[1]} stride-{layer.stride[0]} conv on a "
        f"{h}x{w} map sees {seen} of {h * w} positions; use a kernel equal to the map (GDConv)"
    )


def _skipping(layer: Layer) -> str | None:
    """``stride-exceeds-kernel``: the message when the layer's stride exceeds its dilated kernel on an axis."""
    if layer.op not in ("conv", "pool") or layer.kind == "global" or len(layer.in_shape) != 3:
        return None
    if layer.kernel is None or layer.stride is None or layer.out_shape[1:] == (1, 1):
        return None
    dil = layer.dilation or (1, 1)
    keff = [d * (k - 1) + 1 for d, k in zip(dil, layer.kernel)]
    axes = [(k, s) for k, s, n in zip(keff, layer.stride, layer.in_shape[1:]) if s > k and n > 1]
    if not axes:
        return None
    read, every = 1, 1
    for k, s in axes:
        read, every = read * k, every * s
    kh, kw = layer.kernel
    sh, sw = layer.stride
    return (
        f"a {kh}x{kw} stride-{sh if sh == sw else f'{sh}x{sw}'} {layer.op} reads {read} of every {every} input "
        f"pixels: the rows/columns between its windows are never read (a kernel >= the stride reads them all)"
    )


def _uneven(layer: Layer, src: Layer | None) -> str | None:
    """``uneven-stride``: the message when a strided conv/pool's input size is not a multiple of its stride."""
    if layer.op not in ("conv", "pool") or not layer.stride or len(layer.in_shape) != 3 or layer.kind == "global":
        return None
    # TensorFlow SAME padding adds a pad layer: judge the size before it
    _, h, w = src.in_shape if src is not None and src.op == "pad" else layer.in_shape
    sh, sw = layer.stride
    bad = [f"{n} by {s}" for n, s in ((h, sh), (w, sw)) if s > 1 and n % s and n > 1]
    if not bad:
        return None
    return (
        f"input {h}x{w} does not divide evenly ({', '.join(bad)}): the last "
        f"row/column is treated differently; prefer input sizes divisible by the total stride"
    )


def _waivers(plan: Plan) -> dict[str, dict[str, str]]:
    """{layer name: {rule: why}} from the rows' ``lint`` waivers (unknown rules are an error)."""
    rows = {info.index: info for info in plan.rows}
    out: dict[str, dict[str, str]] = {}
    for layer in plan.layers:
        for rule, why in layer.waivers:
            if rule not in RULES:
                info = rows.get(layer.row)
                raise TableError(
                    f"unknown lint rule {rule!r} in a waiver{suggest(rule, RULES)}; known: {', '.join(RULES)}",
                    file=info.file if info else None,
                    line=info.line if info else None,
                    row=layer.row,
                    row_type=info.type if info else None,
                    field="lint.ignore",
                )
            out.setdefault(layer.name, {})[rule] = why
    return out


def findings(plan: Plan, fields: dict | None = None) -> list[Finding]:
    """Every finding for a plan, waived ones marked (``Finding.waived``). ``fields``: {layer name: RF}
    (:mod:`archlab.static.receptive`) for the RF rules."""
    rows = {info.index: info for info in plan.rows}
    waivers = _waivers(plan)
    out: list[Finding] = []

    def add(rule, layer: Layer, message):
        info = rows.get(layer.row)
        why = waivers.get(layer.name, {}).get(rule)
        file, line = (info.file, info.line) if info else (None, None)
        out.append(Finding(rule, layer.row, layer.name, message, file, line, why))

    by_name = {layer.name: layer for layer in plan.layers}
    uneven_rows = set()
    for layer in plan.layers:
        msg = _global_dw(layer)
        if msg:
            add("global-dw-coverage", layer, msg)
        skipping = _skipping(layer)
        if skipping and not msg:
            add("stride-exceeds-kernel", layer, skipping)
        uneven = _uneven(layer, by_name.get(layer.inputs[0]))
        if uneven and layer.row not in uneven_rows and not msg:
            uneven_rows.add(layer.row)
            add("uneven-stride", layer, uneven)
    head = rows.get("head")
    is_embedding = any(layer.name.startswith("head.embedding.") for layer in plan.layers)
    if head is not None and len(head.in_shape) == 3 and is_embedding:
        _, h, w = head.in_shape
        if h < 7 or w < 7:
            first = next(l for l in plan.layers if l.name == head.layers[0])
            add(
                "small-fmap-end",
                first,
                f"FMap-end is {h}x{w}, smaller than 7x7 for a face embedding; "
                "try --stem-stride 1 or a larger input (MobileFaceNets Sec. 3.1)",
            )
    if fields:
        _, ih, iw = plan.input
        if head is not None:  # a classifier or embedding: one FMap-end unit should see the whole input
            first = by_name[head.layers[0]]
            checked = [by_name[first.inputs[0]]] if first.inputs[0] in by_name else []
        else:  # a detector: its coarsest output map should
            maps = [plan.layer(o) for o in plan.outputs]
            checked = [max(maps, key=lambda l: fields[l.name].size)] if maps else []
        for layer in checked:
            size = fields[layer.name].size
            if size[0] < ih or size[1] < iw:
                add(
                    "rf-coverage",
                    layer,
                    f"the receptive field here is {fields[layer.name].label()}, smaller than "
                    f"the {ih}x{iw} input: no unit of this map sees the whole image",
                )
        for name in misaligned(fields, plan.layers):
            add(
                "rf-misaligned",
                by_name[name],
                "branches with different jump or centre meet here: their receptive fields are not aligned",
            )
    return out


def lint(plan: Plan, fields: dict | None = None) -> list[Finding]:
    """The findings no waiver accepts (``archlab lint`` exits 1 when there are any)."""
    return [f for f in findings(plan, fields) if not f.waived]


def waived(plan: Plan) -> list[Finding]:
    """The findings the table's waivers accept, each with its reason (every rule, RF ones included)."""
    return [f for f in findings(plan, receptive_fields(plan.layers)) if f.waived]


def lint_plan(plan: Plan) -> list[Finding]:
    """Every rule, the receptive-field ones fed from the analytic receptive fields; waived findings left out."""
    return lint(plan, receptive_fields(plan.layers))
