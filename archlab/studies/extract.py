"""``archlab extract``: a torch module rewritten as a layer table.

The module is traced (:func:`archlab.nn.trace.trace`), then its layers are read front to back: at each
position every row type that may fit is proposed (:mod:`archlab.studies.extract_rows`: bottleneck, Xception
block, depthwise-separable, conv [+ max-pool], pool, concat; the ``head:`` for the layers at the end), expanded
by the table's own recipe and kept only when it makes exactly the next traced layers (same ops, shapes,
fields, counts, and inputs); a row that repeats the one before becomes its ``n``. Where nothing fits, the
layer is written as a primitive ``layer`` row (:mod:`archlab.spec.rows.layer`), so the table is always complete.
Rows read the previous row's output; ``from:`` names an earlier row (its index), a layer inside one (a tap)
or ``input`` where the graph branches.

The table is written as YAML and read back by :func:`archlab.spec.table.load_table`, and its plan is checked
against the trace layer by layer (the round trip is exact: same layers, params, MAdds, shapes).
``archlab.build(table, weights=module, key_map="auto")`` then loads the module's weights
(:mod:`archlab.nn.key_map`).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from archlab.errors import ArchlabError
from archlab.ir.builder import PlanBuilder
from archlab.ir.context import RowContext
from archlab.ir.expand import expand
from archlab.ir.layer import INPUT, STRUCTURE_FIELDS, Layer
from archlab.ir.plan import Plan
from archlab.spec.fields import ACTS
from archlab.spec.rows import ROW_TYPES
from archlab.spec.rows.head import expand_head, parse_head
from archlab.spec.table import NetSpec, load_table
from archlab.storage.files import check_writable, write_atomic
from archlab.studies import extract_rows as proposals

# the round trip's check: the traced layer exactly, its counts too
SIGNATURE = (*STRUCTURE_FIELDS, "p", "eps", "momentum", "args", "params", "madds", "other_ops", "activations")
PROPOSERS = (
    proposals.bottleneck_row,
    proposals.xception_row,
    proposals.dwsep_row,
    proposals.conv_row,
    proposals.pool_row,
    proposals.upsample_row,
    proposals.concat_row,
)
DEFAULTS = {"norm": "bn", "round": "int", "padding": "auto"}
REPEATS = ("bottleneck", "dwsep", "xception")  # row types with n blocks


def signature(layer: Layer) -> tuple:
    return tuple(getattr(layer, f) for f in SIGNATURE)


class Extraction:
    """The rows found so far and, for every traced tensor, its name in the table's expansion."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.cur = proposals.Cursor(plan.layers)
        self.ext: dict[str, str] = {INPUT: INPUT}
        self.rows: list[dict] = []
        self.row_out: list[str] = []  # each row's output, as the table names it
        self.starts: list[int] = []  # each row's first traced layer
        self.head: dict | None = None
        acts = Counter(layer.kind for layer in plan.layers if layer.op == "act" and layer.kind in ACTS)
        self.act = acts.most_common(1)[0][0] if acts else "relu"

    # -- the pass --------------------------------------------------------------------------------------------
    def run(self) -> None:
        i, n = 0, len(self.plan.layers)
        while i < n:
            if self.rows and self._head(i):
                return
            for propose in PROPOSERS:
                raw = _try(propose, self.cur, i)
                span = self._row(i, raw) if raw is not None else 0
                if span:
                    break
            else:
                span = self._row(i, proposals.layer_row(self.plan.layers[i]))
                if not span:
                    raise ArchlabError(f"extract: the layer {self.plan.layers[i].name} cannot be written as a row")
            i += span

    def _row(self, i: int, raw: dict) -> int:
        """Keep the row if it makes exactly the traced layers from ``i`` (with as many blocks as repeat, and
        merged into the row before when it continues it); how many layers it spans, 0 if it does not fit."""
        many = raw["type"] in ("layer", "concat")
        sources = list(self.plan.layers[i].inputs) if many else [self.plan.layers[i].inputs[0]]
        raw = self._located(raw, sources)
        found = self._verify(raw, i, len(self.rows), sources)
        if found is None:
            return 0
        while raw["type"] in REPEATS:  # more blocks of the same kind: n
            bigger = self._verify({**raw, "n": raw.get("n", 1) + 1}, i, len(self.rows), sources)
            if bigger is None:
                break
            raw, found = {**raw, "n": raw.get("n", 1) + 1}, bigger
        merged = self._merge(i, raw)
        if merged:
            return merged
        self._commit(raw, i, *found)
        return len(found[0])

    def _verify(self, raw: dict, start: int, index: int, sources: list[str]):
        """(generated -> traced names, the row's output) when ``raw`` as row ``index`` makes exactly the traced
        layers from ``start``; None otherwise."""
        made = self._expand(raw, index, [self.ext[s] for s in sources])
        mapping = self._match(made[0], start) if made is not None else None
        return (mapping, made[1]) if mapping is not None and made is not None else None

    def _merge(self, i: int, raw: dict) -> int:
        """Merge ``raw`` (found at ``i``) into the row before when it continues it: the same fields, stride 1."""
        last = self.rows[-1] if self.rows else None
        if last is None or last["type"] not in REPEATS or "from" in raw or raw.get("s", 1) != 1:
            return 0
        if {k: v for k, v in raw.items() if k not in ("s", "n")} != {
            k: v for k, v in last.items() if k not in ("s", "n", "from")
        }:
            return 0
        start = self.starts[-1]
        grown = {**last, "n": last.get("n", 1) + raw.get("n", 1)}
        sources = [self.plan.layers[start].inputs[0]]
        found = self._verify(grown, start, len(self.rows) - 1, sources)
        if found is None or len(found[0]) <= i - start:
            return 0
        self.rows.pop(), self.row_out.pop(), self.starts.pop()
        self._commit(grown, start, *found)
        return start + len(found[0]) - i

    def _located(self, raw: dict, sources: list[str]) -> dict:
        """The row with ``from`` where it does not read the previous row's output, and without fields that
        are the table's defaults."""
        out = {k: v for k, v in raw.items() if not (k in ("norm", "act") and v == {"norm": "bn", "act": self.act}[k])}
        refs = [self._ref(s) for s in sources]
        previous = self.row_out[-1] if self.row_out else INPUT
        if raw["type"] in ("layer", "concat") and (len(refs) > 1 or raw["type"] == "concat"):
            out["from"] = refs
        elif self.ext[sources[0]] != previous:
            out["from"] = refs[0]
        return out

    def _ref(self, traced: str):
        name = self.ext[traced]
        if name == INPUT:
            return "input"
        return self.row_out.index(name) if name in self.row_out else name

    # -- expanding and matching ----------------------------------------------------------------------------
    def _context(self, index, sources: list[str], shapes: list, norm: str, act: str) -> RowContext:
        b = PlanBuilder((1,))
        b.row = index
        for name, shape in zip(sources, shapes):
            b.shapes[name] = shape
        return RowContext(
            b, index, sources[0], 1.0, DEFAULTS["round"], norm, act, DEFAULTS["padding"], None, tuple(sources)
        )

    def _expand(self, raw: dict, index, sources: list[str]):
        """(the layers ``raw`` makes as row ``index`` reading ``sources``, its output) or None."""
        traced = {v: k for k, v in self.ext.items()}
        shapes = [self.plan.shape_of(traced[s]) for s in sources]
        try:
            values = ROW_TYPES[raw["type"]].parse({k: v for k, v in raw.items() if k != "from"} | {"from": None})
            ctx = self._context(index, sources, shapes, values.get("norm") or "bn", values.get("act") or self.act)
            ROW_TYPES[raw["type"]].expand(values, ctx)
        except (ArchlabError, KeyError, IndexError, TypeError, ValueError):
            return None
        return ctx.builder.layers, ctx.x

    def _match(self, made: list[Layer], start: int) -> dict[str, str] | None:
        """Generated layer -> traced layer, when ``made`` are exactly the traced layers from ``start`` (in any
        order that respects their inputs); None otherwise."""
        window = self.plan.layers[start : start + len(made)]
        if len(window) != len(made):
            return None
        back = {v: k for k, v in self.ext.items()}
        mapping: dict[str, str] = {}
        for g in made:
            want = [back.get(s, s) if s not in mapping else mapping[s] for s in g.inputs]
            hit = next(
                (
                    t
                    for t in window
                    if t.name not in mapping.values()
                    and signature(t) == signature(g)
                    and (sorted(t.inputs) == sorted(want) if g.op == "add" else list(t.inputs) == want)
                ),
                None,
            )
            if hit is None:
                return None
            mapping[g.name] = hit.name
        outputs = set(self.plan.outputs)
        last = mapping[made[-1].name] if made else None
        if any(t.name in outputs and t.name != last for t in window):
            return None  # a network output inside the row: it must end a row
        return mapping if self._aligned(start, start + len(made)) else None

    def _aligned(self, start: int, end: int) -> bool:
        """Rows follow the module's blocks: a row lies inside one block, or begins and ends where blocks do
        (so a block is never cut in two by a row that also covers the block before it)."""
        layers = self.plan.layers
        first, last = layers[start].row, layers[end - 1].row
        if first == last:
            return True
        begins = start == 0 or layers[start - 1].row != first
        ends = end == len(layers) or layers[end].row != last
        return begins and ends

    def _commit(self, raw: dict, start: int, mapping: dict[str, str], out: str) -> None:
        """Keep ``raw`` as the next row: its layers' names in the table, its output, where it starts."""
        for gen, traced in mapping.items():
            self.ext[traced] = gen
        self.rows.append(raw)
        self.row_out.append(out)
        self.starts.append(start)

    def _head(self, i: int) -> bool:
        layer = self.plan.layers[i]
        if self.ext.get(layer.inputs[0]) != self.row_out[-1]:
            return False
        for raw in proposals.head_proposals(self.cur, i):
            try:
                spec = parse_head(raw)
                shape = self.plan.shape_of(layer.inputs[0])
                ctx = self._context("head", [self.row_out[-1]], [shape], DEFAULTS["norm"], self.act)
                expand_head(spec, ctx)
            except (ArchlabError, KeyError, TypeError, ValueError):
                continue
            mapping = self._match(ctx.builder.layers, i)
            if mapping is not None and len(mapping) == len(self.plan.layers) - i:
                for gen, traced in mapping.items():
                    self.ext[traced] = gen
                self.head = {k: v for k, v in raw.items() if not (k == "norm" and v == "bn")}
                return True
        return False

    # -- the table -----------------------------------------------------------------------------------------
    def table(self, name: str, module_name: str) -> dict:
        outputs = [self.ext[o] for o in self.plan.outputs]
        rows = [dict(r) for r in self.rows]
        if self.head is None and (len(outputs) > 1 or outputs[-1] != self.row_out[-1]):
            for k, out in enumerate(self.row_out):
                if out in outputs:
                    rows[k]["output"] = True
        table: dict = {
            "name": name,
            "description": f"extracted from the torch module {module_name} by archlab extract",
            "source": {"extracted_from": module_name, "traced": "; ".join(self.plan.notes)},
            "input": list(self.plan.input[1:]),
        }
        if self.plan.input[0] != 3:
            table["in_channels"] = self.plan.input[0]
        table["defaults"] = {"norm": "bn", "act": self.act, "round": "int"}
        table["rows"] = rows
        if self.head is not None:
            table["head"] = self.head
        return table


def _try(propose, cur, i):
    try:
        return propose(cur, i)
    except (IndexError, KeyError, TypeError, ValueError, AttributeError):
        return None


def table_yaml(table: dict) -> str:
    """The table as YAML: top-level keys in block style, one row per line (flow style)."""
    import yaml

    def flow(value) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
        return text.removesuffix("...").strip()  # a scalar's document-end marker

    lines = ["# extracted by archlab extract: the module's layers as rows; `layer` rows are primitive ops"]
    for key, value in table.items():
        if key == "rows":
            lines.append("rows:")
            lines += [f"  - {flow(row)}" for row in value]
        elif isinstance(value, dict) and key == "head":
            lines.append("head:")
            lines += [f"  {k}: {flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {flow(value)}")
    return "\n".join(lines) + "\n"


def extract(
    module, input=None, *, out: str | Path | TextIO | None = None, name: str | None = None, strict: bool = False
) -> NetSpec:
    """The table of ``module`` at ``input`` (module docstring), checked against the trace before it is written:
    to ``out`` when given (a path, written atomically; or a text stream, e.g. ``sys.stdout``). ``strict``: ops
    archlab has no counting rule for are refused (the trace lists them)."""
    from archlab.nn.trace import trace

    path = check_writable(out) if isinstance(out, (str, Path)) else None  # before any work
    plan = trace(module, input, name=name, strict=strict)
    run = Extraction(plan)
    run.run()
    text = table_yaml(run.table(_table_name(name or plan.model), type(module).__name__))
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "extracted.yaml"
        scratch.write_text(text, encoding="utf-8")
        spec = replace(load_table(scratch), file=f"<extracted from {type(module).__name__}>")
    check_round_trip(spec, plan)
    if path is not None:
        write_atomic(path, text)
        spec = load_table(path)
    elif out is not None:
        out.write(text)  # type: ignore[union-attr]
    return spec


def _table_name(model: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in model).strip("-").lower() or "extracted"


def check_round_trip(spec: NetSpec, plan: Plan) -> None:
    """The table's plan has the trace's layers (as multisets of signatures), totals and output shapes."""
    mine = expand(spec)
    if Counter(map(signature, mine.layers)) != Counter(map(signature, plan.layers)) or mine.totals() != plan.totals():
        raise ArchlabError(f"extract: the table of {plan.model} does not make the traced layers (a bug in archlab)")
    if [mine.shape_of(o) for o in mine.outputs] != [plan.shape_of(o) for o in plan.outputs]:
        raise ArchlabError(f"extract: the table of {plan.model} has other outputs than the module (a bug in archlab)")
