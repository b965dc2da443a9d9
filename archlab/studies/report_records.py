"""The records of the MobileFaceNets study (``archlab report``) and the pieces computed without timing: the
paper-style architecture table, the shipped variants of a table, the heads' cost, the environment."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archlab.errors import ArchlabError
from archlab.ir.expand import expand
from archlab.ir.overrides import Overrides
from archlab.ir.structure import head_row
from archlab.spec.table import load_table
from archlab.static.erf_records import RFStudy
from archlab.studies.compare import CompareRecord, LatencyRun
from archlab.timing.rounds import Result

if TYPE_CHECKING:
    from archlab.studies.heads import HeadsStudy

STEMS = (("2", "stride 2"), ("1", "stride 1"), ("1+pool", "stride 1 + max-pool"))


@dataclass(frozen=True)
class ArchRow:
    index: int | str
    input: tuple[int, ...]
    operator: str
    t: object
    c: int | None
    n: object
    s: object
    params: int
    madds: int
    rf: str
    fields: str

    def to_dict(self) -> dict:
        return {
            "row": self.index,
            "input": list(self.input),
            "operator": self.operator,
            "t": self.t,
            "c": self.c,
            "n": self.n,
            "s": self.s,
            "params": self.params,
            "madds": self.madds,
            "rf": self.rf,
            "fields": self.fields,
        }


@dataclass(frozen=True)
class HeadCost:
    head: str
    label: str
    params: int
    params_deployed: int
    madds: int
    other_ops: int
    out_dim: int
    total_params: int
    total_madds: int

    def to_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "head",
                "label",
                "params",
                "params_deployed",
                "madds",
                "other_ops",
                "out_dim",
                "total_params",
                "total_madds",
            )
        }


@dataclass
class Config:
    """One first-layer / width configuration and what was measured for it."""

    width: float
    stem: str
    record: CompareRecord
    result: Result | None = None  # when timed

    @property
    def stem_label(self) -> str:
        return dict(STEMS)[self.stem]

    @property
    def label(self) -> str:
        return f"width {self.width:g}, {self.stem_label}"


@dataclass
class Study:
    name: str
    model: str
    description: str
    source: dict
    file: str
    quick: bool
    generated: str
    base: CompareRecord
    arch: list[ArchRow]
    defaults: dict
    counts: list[CompareRecord]
    heads: list[HeadCost]
    rf: RFStudy | None
    rf_settings: dict
    stems: list[Config]
    widths: list[Config]
    latency: LatencyRun | None
    environment: dict
    notes: dict = field(default_factory=dict)  # section -> notes (what was skipped and why)
    sweep_rows: list = field(default_factory=list)  # the timed configurations as typed sweep rows
    table: str = ""  # the table as the report names it (configs/NAME.yaml for a shipped one)
    learned: HeadsStudy | None = None  # the learned head study (archlab heads), trained here or read back
    learned_rf: RFStudy | None = None  # the ERF of its trained GDConv network, random vs trained weights
    learned_source: str = ""  # how the learned study was obtained

    def to_dict(self) -> dict:
        from archlab.ir.ops import CONVENTIONS
        from archlab.static.memory import PEAK_RULE

        def cfg(c: Config) -> dict:
            d = {"width": c.width, "stem": c.stem, **c.record.to_dict()}
            return d

        return {
            "schema_version": 1,
            "report": "mobilefacenets-study",
            "name": self.name,
            "model": self.model,
            "generated": self.generated,
            "quick": self.quick,
            "description": self.description,
            "source": self.source,
            "architecture": [r.to_dict() for r in self.arch],
            "defaults": self.defaults,
            "counts": [r.to_dict() for r in self.counts],
            "heads": [h.to_dict() for h in self.heads],
            "rf": self.rf.to_dict() if self.rf is not None else None,
            "rf_settings": self.rf_settings,
            "first_layer": [cfg(c) for c in self.stems],
            "widths": [cfg(c) for c in self.widths],
            "latency": self.latency.to_dict() if self.latency else None,
            "learned": self.learned.to_dict() if self.learned is not None else None,
            "learned_rf": self.learned_rf.to_dict() if self.learned_rf is not None else None,
            "learned_source": self.learned_source,
            "environment": self.environment,
            "conventions": {**CONVENTIONS, "peak_bytes": PEAK_RULE},
            "notes": self.notes,
        }


def operator(row_type: str, values: dict) -> str:
    """The paper's operator column: ``conv3x3``, ``depthwise conv3x3``, ``bottleneck``, ..."""
    k = values.get("k")
    kk = f"{k}x{k}" if isinstance(k, int) else ""
    if row_type == "conv":
        op = ("depthwise " if values.get("depthwise") else "") + f"conv{kk}"
        return op + (" + max-pool" if values.get("pool") else "")
    if row_type == "bottleneck":
        return "bottleneck" + (" (SE)" if values.get("se") else "") + (f" {kk}" if k not in (None, 3) else "")
    if row_type == "dwsep":
        return f"depthwise-separable {kk}".strip()
    return row_type


def architecture(spec, plan) -> list[ArchRow]:
    """The table's rows as the paper prints them, with the plan's shapes, counts and receptive fields."""
    from archlab.static.receptive import receptive_fields

    rfs = receptive_fields(plan.layers)
    by_name = {layer.name: layer for layer in plan.layers}
    values = {r.index: r.values for r in spec.rows}
    out = []
    for info in plan.rows:
        members = [by_name[n] for n in info.layers]
        v = values.get(info.index, {})
        if info.index == "head":
            op, t, n, s = f"head: {info.label}", None, None, None
        else:
            op, t, n, s = operator(info.type, v), v.get("t"), v.get("n"), v.get("s")
            if t is None and v.get("e") is not None:
                t = f"e={v['e']}"  # MobileNetV3 tables give the expanded channels instead of t
        rf = rfs[info.layers[-1]].label() if info.layers else ""
        out.append(
            ArchRow(
                info.index,
                tuple(info.in_shape),
                op,
                t,
                info.out_shape[0] if info.out_shape else None,
                n,
                s,
                sum(m.params for m in members),
                sum(m.madds for m in members),
                rf,
                info.label,
            )
        )
    return out


def family(spec) -> list[str]:
    """Shipped tables that extend ``spec`` (directly or through another), by name."""
    from archlab.spec import registry

    mine = Path(spec.file).resolve()
    out = []
    for name in registry.names():
        if name == spec.name:
            continue
        try:
            other = load_table(name)
        except ArchlabError:
            continue
        if any(Path(p).resolve() == mine for p in other.extends):
            out.append(name)
    return out


def head_costs(spec) -> list[HeadCost]:
    """Cost of every head (everything after FMap-end) on the table's backbone. No torch."""
    from archlab.static.counts import head_cost
    from archlab.studies.rf import HEADS

    out = []
    for h in HEADS:
        plan = expand(spec, Overrides(head=h))
        row = head_row(plan)
        cost = head_cost(plan)
        out_dim = 1
        for v in plan.output_shape:
            out_dim *= v
        tot = plan.totals()
        out.append(
            HeadCost(
                h,
                row.label if row else h,
                cost["params"],
                cost["params_deployed"],
                cost["madds"],
                cost["other_ops"],
                out_dim,
                tot["params"],
                tot["madds"],
            )
        )
    return out


def environment() -> dict:
    """What produced the report (deterministic on one machine: no load average, no clock)."""
    import importlib.metadata as md

    from archlab.timing.machine import cpu_model
    from archlab.version import __version__

    def version(pkg):
        try:
            return md.version(pkg)
        except md.PackageNotFoundError:
            return None

    return {
        "archlab": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "torch": version("torch"),
        "numpy": version("numpy"),
        "matplotlib": version("matplotlib"),
    }


def table_source(name: str) -> str:
    """How the report names its table: ``configs/NAME.yaml`` for a shipped one, else as given."""
    from archlab.spec import registry

    try:
        shipped = registry.configs_dir() / f"{name}.yaml"
        if not registry.looks_like_path(name) and shipped.is_file():
            return f"configs/{name}.yaml"
    except ArchlabError:
        pass
    return name
