"""Counts per layer, per table row and in total, with the published figures beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

from archlab.ir.layer import Layer
from archlab.ir.ops import CONVENTIONS
from archlab.ir.overrides import Overrides
from archlab.ir.plan import COUNT_KEYS, Plan, uncounted_line
from archlab.ir.structure import head_layers
from archlab.spec.bulk import paused_gc
from archlab.static.display import Display, options_suffix, totals_text
from archlab.static.receptive import RF, receptive_fields

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RowSummary:
    index: int | str
    type: str
    label: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    layers: int
    params: int
    params_deployed: int
    madds: int
    other_ops: int
    activations: int
    rf: RF | None = field(default=None, compare=False)  # theoretical RF of the row's output

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "type": self.type,
            "label": self.label,
            "in": list(self.in_shape),
            "out": list(self.out_shape),
            "layers": self.layers,
            **{k: getattr(self, k) for k in COUNT_KEYS},
        }


def layer_dict(layer: Layer) -> dict:
    kernel, stride, padding, dilation = layer.kernel, layer.stride, layer.padding, layer.dilation
    return {  # written out (one dict per layer: a large table has hundreds of thousands); keys as COUNT_KEYS
        "name": layer.name,
        "op": layer.op,
        "kind": layer.kind,
        "row": layer.row,
        "inputs": list(layer.inputs),
        "in": list(layer.in_shape),
        "out": list(layer.out_shape),
        "kernel": None if kernel is None else list(kernel),
        "stride": None if stride is None else list(stride),
        "padding": None if padding is None else list(padding),
        "dilation": None if dilation is None else list(dilation),
        "groups": layer.groups,
        "bias": layer.bias,
        "params": layer.params,
        "params_deployed": layer.params_deployed,
        "madds": layer.madds,
        "other_ops": layer.other_ops,
        "activations": layer.activations,
    }


PUBLISHED_AT = "published_at"  # a table's `source.published_at`: the options the published figures hold at


def published_settings(spec) -> dict:
    """The options the table's published figures hold at (``source.published_at``; none: the table's defaults),
    as a plan's ``options``."""
    given = dict((spec.source or {}).get(PUBLISHED_AT) or {}) if spec is not None else {}
    return Overrides.from_kwargs(**{k.replace("-", "_"): v for k, v in given.items()}).as_dict()


def deviation(published: dict, totals: dict) -> dict:
    """Per published figure: the paper's value, archlab's, and the relative difference."""
    out = {}
    for key, value in published.items():
        if key == "note" or key not in totals:
            continue
        mine = totals[key]
        out[key] = {"published": value, "archlab": mine, "deviation": (mine - value) / value}
    return out


@dataclass(frozen=True)
class Profile:
    model: str
    input: tuple[int, ...]
    options: dict
    totals: dict
    published: dict
    rows: tuple[RowSummary, ...]
    layers: tuple[Layer, ...]
    output: tuple[int, ...]
    plan: Plan
    published_at: dict = field(default_factory=dict)  # the options the table's figures hold at, when not these

    @classmethod
    def from_plan(cls, plan: Plan, spec=None) -> Profile:
        with paused_gc():  # a record per row
            return cls._from_plan(plan, spec)

    @classmethod
    def _from_plan(cls, plan: Plan, spec=None) -> Profile:
        by_name = {layer.name: layer for layer in plan.layers}
        counts = attrgetter(*COUNT_KEYS)
        rfs = receptive_fields(plan.layers)
        rows = []
        for info in plan.rows:
            members = [by_name[n] for n in info.layers]
            sums = [sum(column) for column in zip(*map(counts, members))] or [0] * len(COUNT_KEYS)
            rows.append(
                RowSummary(
                    info.index,
                    info.type,
                    info.label,
                    info.in_shape,
                    info.out_shape,
                    len(members),
                    **dict(zip(COUNT_KEYS, sums, strict=True)),
                    rf=rfs[info.layers[-1]] if info.layers else None,
                )
            )
        at = published_settings(spec)
        figures = {k: v for k, v in (spec.published if spec is not None else {}).items() if k != "note"}
        applies = spec is not None and plan.options == at
        published = dict(spec.published) if applies else {}
        return cls(
            plan.model,
            plan.input,
            dict(plan.options),
            plan.totals(),
            published,
            tuple(rows),
            plan.layers,
            plan.output_shape,
            plan,
            at if figures and not applies and at else {},
        )

    @property
    def deviation(self) -> dict:
        return deviation(self.published, self.totals)

    @property
    def uncounted(self) -> dict[str, int]:
        """Ops archlab has no rule for (a traced module's), by name, with how often each is called."""
        return self.plan.uncounted()

    @property
    def notes(self) -> list[str]:
        """How the plan was made (a traced module) and what is not counted, as lines for every output."""
        line = uncounted_line(self.uncounted)
        return [*self.plan.notes, *([line] if line else [])]

    def receptive_fields(self) -> dict[str, RF]:
        """Theoretical receptive field of every layer, by name (``archlab.static.receptive``)."""
        return receptive_fields(self.layers)

    def to_dict(self) -> dict:
        """The JSON contract (``schema_version`` 1). Counts are integers."""
        with paused_gc():  # a dict per layer: hundreds of thousands for a large table, none in a cycle
            return self._to_dict()

    def _to_dict(self) -> dict:
        rfs = self.receptive_fields()
        return {
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "input": list(self.input),
            "output": list(self.output),
            "outputs": [{"name": n, "shape": list(self.plan.layer(n).out_shape)} for n in self.plan.outputs],
            "options": self.options,
            "totals": dict(self.totals),
            "published": {
                "figures": {k: v for k, v in self.published.items() if k != "note"},
                "note": self.published.get("note"),
                "deviation": self.deviation,
            },
            "conventions": dict(CONVENTIONS),
            "uncounted": dict(self.uncounted),
            "notes": self.notes,
            "rows": [r.to_dict() for r in self.rows],
            "layers": [{**layer_dict(layer), "rf": rfs[layer.name].to_dict()} for layer in self.layers],
        }

    def __repr__(self) -> str:
        return (
            f"<Profile {self.model}{options_suffix(self.options)}: input {'x'.join(map(str, self.input))}, "
            f"{totals_text(self.totals)}, {len(self.layers)} layers in {len(self.rows)} rows>"
        )

    def _repr_html_(self) -> str | None:
        return Display.html_of(self)

    def to_frame(self, depth: str = "layer"):
        """A pandas DataFrame, one record per layer (``depth='layer'``) or per table row (``'row'``), with the
        theoretical receptive field of each output (``rf``, ``jump``; :mod:`archlab.static.frames`)."""
        from archlab.static.frames import frame, rf_columns, shape_text

        if depth == "row":
            records = [
                {
                    "row": r.index,
                    "type": r.type,
                    "fields": r.label,
                    "in": shape_text(r.in_shape),
                    "out": shape_text(r.out_shape),
                    "layers": r.layers,
                    **{k: getattr(r, k) for k in COUNT_KEYS},
                    **rf_columns(r.rf),
                }
                for r in self.rows
            ]
            return frame(records)
        rfs = self.receptive_fields()
        records = [{**layer_dict(layer), **rf_columns(rfs[layer.name])} for layer in self.layers]
        for rec in records:
            rec["in"], rec["out"] = shape_text(rec["in"]), shape_text(rec["out"])
        return frame(records)


def head_cost(plan: Plan) -> dict:
    """params, params_deployed, madds and other_ops of the head (everything after FMap-end). No torch."""
    layers = [plan.layer(n) for n in head_layers(plan)]
    keys = ("params", "params_deployed", "madds", "other_ops")
    return {k: sum(getattr(l, k) for l in layers) for k in keys}


@dataclass(frozen=True)
class Stage:
    """Consecutive table rows at one output stride (input height / output height), or the head."""

    label: str  # "/2", "/4", ..., "head"
    stride: int | None  # None for the head
    rows: tuple
    out_shape: tuple[int, ...]
    params: int
    madds: int

    def to_dict(self) -> dict:
        return {
            "stage": self.label,
            "rows": list(self.rows),
            "out": list(self.out_shape),
            "params": self.params,
            "madds": self.madds,
        }


def stages(plan: Plan) -> tuple[Stage, ...]:
    """Rows grouped by output stride (input height / row output height), in order; the head last.

    Rows with the same stride are summed into one stage even when they are not adjacent (detection extras)."""
    by_name = {layer.name: layer for layer in plan.layers}
    groups: dict[str, dict] = {}
    in_h = plan.input[1]
    for info in plan.rows:
        members = [by_name[n] for n in info.layers]
        if info.index == "head":
            label, stride = "head", None
        elif len(info.out_shape) == 3 and info.out_shape[1] > 0:
            stride = max(1, round(in_h / info.out_shape[1]))
            label = f"/{stride}"
        else:
            label, stride = "vector", None
        g = groups.setdefault(label, {"stride": stride, "rows": [], "out": info.out_shape, "params": 0, "madds": 0})
        g["rows"].append(info.index)
        g["out"] = info.out_shape
        g["params"] += sum(m.params for m in members)
        g["madds"] += sum(m.madds for m in members)
    return tuple(
        Stage(k, g["stride"], tuple(g["rows"]), tuple(g["out"]), g["params"], g["madds"]) for k, g in groups.items()
    )
