"""Cross-check archlab's analytic counts against fvcore and thop, layer by layer, with the rule for each difference.

The network is built from the plan (eval mode) and profiled by
  - fvcore: ``FlopCountAnalysis`` (its "flops" are multiply-adds for conv/linear), ``ActivationCountAnalysis``,
    ``parameter_count``;
  - thop (the ``ultralytics-thop`` distribution or the original ``thop``; both install the module ``thop``):
    ``profile(..., ret_layer_info=True)``.
Their per-module results are joined to plan layers by name (module path == layer name).

Conv/linear multiply-adds, activations and parameters must agree exactly: a disagreement is a bug in
archlab's counts (or the build) and makes the check fail. Every other difference must be the tool's stated
rule (each op's ``fvcore``/``thop`` entry in :mod:`archlab.ir.ops`); a difference no rule explains also fails the
check. This module joins and explains (pure Python); :mod:`archlab.nn.tools` runs the tools.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from archlab.ir.layer import Layer, numel
from archlab.ir.ops import OPS, ToolRule, op_of
from archlab.ir.plan import Plan


def _rule_texts(tool: str) -> dict[str, str]:
    """Each op's rule for ``tool`` as the op table states it (README, ``--help`` and the check's JSON)."""
    return {name: getattr(op, f"{tool}_text") for name, op in OPS.items()}


FVCORE_RULES = _rule_texts("fvcore")
THOP_RULES = _rule_texts("thop")


def _elements(layer: Layer, batch: int) -> tuple[int, int]:
    return numel(layer.in_shape) * batch, numel(layer.out_shape) * batch


@dataclass(frozen=True)
class LayerCheck:
    name: str
    op: str
    kind: str
    row: int | str
    out_elements: int  # per batch
    madds: int  # archlab, per batch
    other_ops: int
    activations: int
    params: int
    fvcore: int  # FlopCountAnalysis for this module
    fvcore_activations: int
    fvcore_params: int
    fvcore_unsupported: dict  # aten op -> count
    thop: int  # total_ops for this module
    thop_params: int
    fvcore_rule: ToolRule
    thop_rule: ToolRule
    disagree: tuple[str, ...]  # conv/linear MAdds, activations or params differ: a bug
    unexplained: tuple[str, ...]  # a tool differs from archlab and no stated rule explains it

    @property
    def status(self) -> str:
        if self.disagree:
            return "DISAGREE"
        if self.unexplained:
            return "UNEXPLAINED"
        if self.fvcore != self.madds or self.thop != self.madds or self.fvcore_unsupported:
            return "explained"
        return "agree"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "op": self.op,
            "kind": self.kind,
            "row": self.row,
            "status": self.status,
            "archlab": {
                "madds": self.madds,
                "other_ops": self.other_ops,
                "activations": self.activations,
                "params": self.params,
            },
            "fvcore": {
                "flops": self.fvcore,
                "activations": self.fvcore_activations,
                "params": self.fvcore_params,
                "unsupported": dict(self.fvcore_unsupported),
                "rule": self.fvcore_rule.short,
                "expected": self.fvcore_rule.expected,
            },
            "thop": {
                "ops": self.thop,
                "params": self.thop_params,
                "rule": self.thop_rule.short,
                "expected": self.thop_rule.expected,
            },
            "problems": [*self.disagree, *self.unexplained],
        }


@dataclass(frozen=True)
class RowCheck:
    index: int | str
    type: str
    label: str
    layers: tuple[LayerCheck, ...]

    def total(self, key: str) -> int:
        return sum(getattr(lc, key) for lc in self.layers)

    @property
    def status(self) -> str:
        states = {lc.status for lc in self.layers}
        for s in ("DISAGREE", "UNEXPLAINED", "explained"):
            if s in states:
                return s
        return "agree"

    def rules(self, tool: str) -> str:
        """The distinct rules that explain this row's difference for ``tool``, with how many layers use each."""
        count = Counter(getattr(lc, f"{tool}_rule").short for lc in self.layers)
        return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in count.items() if k)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "type": self.type,
            "label": self.label,
            "status": self.status,
            "madds": self.total("madds"),
            "other_ops": self.total("other_ops"),
            "fvcore": self.total("fvcore"),
            "thop": self.total("thop"),
            "fvcore_rules": self.rules("fvcore"),
            "thop_rules": self.rules("thop"),
        }


@dataclass(frozen=True)
class CheckReport:
    model: str
    input: tuple[int, ...]
    batch: int
    tools: dict  # distribution -> version
    layers: tuple[LayerCheck, ...]
    rows: tuple[RowCheck, ...]
    totals: dict  # archlab/fvcore/thop totals as the tools report them
    breakdown: dict  # tool -> {term: amount}: the tool's total explained term by term
    unsupported: dict  # fvcore: aten op -> count over the model
    not_counted: dict  # what neither tool counts: residual adds
    problems: tuple[str, ...]  # model-level problems (attribution, memory) besides the layers'
    memory: dict = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        out = [f"{lc.name}: {p}" for lc in self.layers for p in (*lc.disagree, *lc.unexplained)]
        return out + list(self.problems)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "batch": self.batch,
            "tools": dict(self.tools),
            "units": "counts as each tool reports them (multiply-adds for conv/linear), per batch",
            "totals": dict(self.totals),
            "breakdown": self.breakdown,
            "fvcore_unsupported": dict(self.unsupported),
            "not_counted_by_either": self.not_counted,
            "rules": {"fvcore": FVCORE_RULES, "thop": THOP_RULES},
            "memory": self.memory,
            "failures": self.failures,
            "rows": [r.to_dict() for r in self.rows],
            "layers": [lc.to_dict() for lc in self.layers],
        }


def explain(plan: Plan, results: dict, batch: int = 1, tools: dict | None = None) -> CheckReport:
    """Join tool results to plan layers by name and explain every difference (pure Python)."""
    fv, th = results["fvcore"], results["thop"]
    checks = []
    for layer in plan.layers:
        n = layer.name
        entry = op_of(layer.op, layer.kind)
        fr, tr = entry.fvcore(layer, batch), entry.thop(layer, batch)
        madds, acts = layer.madds * batch, layer.activations * batch
        f_ops, f_act = fv["flops"].get(n), fv["activations"].get(n)
        f_par = fv["params"].get(n)
        t_ops, t_par = th["layers"].get(n, (None, None))
        uns = fv["unsupported"].get(n, {})
        disagree, unexplained = [], []
        missing = [tool for tool, v in (("fvcore", f_ops), ("thop", t_ops)) if v is None]
        if missing:
            disagree.append(f"no module {n!r} in the {' and '.join(missing)} results (module path != layer name)")
        f_ops, f_act, f_par = f_ops or 0, f_act or 0, f_par or 0
        t_ops, t_par = t_ops or 0, t_par or 0
        if entry.weighted:
            if f_ops != madds:
                disagree.append(f"MAdds: archlab {madds:,}, fvcore {f_ops:,}")
            if t_ops != madds:
                disagree.append(f"MAdds: archlab {madds:,}, thop {t_ops:,}")
        else:
            if f_ops != fr.expected:
                unexplained.append(f"fvcore counts {f_ops:,}; its rule ({fr.short or layer.op}) gives {fr.expected:,}")
            if t_ops != tr.expected:
                unexplained.append(f"thop counts {t_ops:,}; its rule ({tr.short or layer.op}) gives {tr.expected:,}")
        if not missing and f_act != acts:
            disagree.append(f"activations: archlab {acts:,}, fvcore {f_act:,}")
        if not missing and f_par != layer.params:
            disagree.append(f"params: archlab {layer.params:,}, fvcore {f_par:,}")
        if not missing and t_par != layer.params:
            disagree.append(f"params: archlab {layer.params:,}, thop {t_par:,}")
        if fr.unsupported is not None and Counter(uns) != Counter(fr.unsupported):
            unexplained.append(
                f"fvcore lists unsupported {dict(uns) or 'nothing'}; expected "
                f"{dict(Counter(fr.unsupported)) or 'nothing'}"
            )
        _, e_out = _elements(layer, batch)
        checks.append(
            LayerCheck(
                n,
                layer.op,
                layer.kind,
                layer.row,
                e_out,
                madds,
                layer.other_ops * batch,
                acts,
                layer.params,
                f_ops,
                f_act,
                f_par,
                uns,
                t_ops,
                t_par,
                fr,
                tr,
                tuple(disagree),
                tuple(unexplained),
            )
        )
    by_name = {c.name: c for c in checks}
    rows = tuple(
        RowCheck(info.index, info.type, info.label, tuple(by_name[n] for n in info.layers)) for info in plan.rows
    )

    def tot(key):
        return sum(getattr(c, key) for c in checks)

    def elements(pred):
        return sum(c.out_elements for c in checks if pred(c))

    def inputs(pred):
        return sum(numel(plan.layer(c.name).in_shape) * batch for c in checks if pred(c))

    bn = elements(lambda c: c.op == "bn")
    prelu = elements(lambda c: c.op == "act" and c.kind == "prelu")
    gap_in = inputs(lambda c: c.op == "pool" and c.kind == "global")
    thop_pools = sum(c.thop_rule.expected for c in checks if c.op == "pool")
    madds = tot("madds")
    breakdown = {
        "bn_elements": bn,
        "prelu_elements": prelu,
        "global_pool_input_elements": gap_in,
        "fvcore": {"conv_linear_madds": madds, "bn (2/elt)": 2 * bn, "global_pool (1/input elt)": gap_in},
        "thop": {
            "conv_linear_madds": madds,
            "bn (4/elt)": 4 * bn,
            "prelu (1/elt)": prelu,
            "pools (avg: windows+out, global: in+out, max: 0)": thop_pools,
        },
    }
    adds = [c for c in checks if c.op == "add"]
    not_counted = {
        "residual_adds": len(adds),
        "elements": sum(c.out_elements for c in adds),
        "archlab_other_ops": sum(c.other_ops for c in adds),
    }
    totals = {
        "archlab": {
            "madds": madds,
            "other_ops": tot("other_ops"),
            "activations": tot("activations"),
            "params": tot("params"),
        },
        "fvcore": {"flops": fv["total"], "activations": fv["activations_total"], "params": fv["params"].get("", 0)},
        "thop": {"ops": th["total"], "params": th["params"]},
    }
    problems = []
    if tot("fvcore") != fv["total"]:
        problems.append(f"fvcore total {fv['total']:,} is not the sum over plan layers {tot('fvcore'):,}")
    if tot("thop") != th["total"]:
        problems.append(f"thop total {th['total']:,} is not the sum over plan layers {tot('thop'):,}")
    if fv["activations_total"] != tot("activations"):
        problems.append(f"fvcore activations {fv['activations_total']:,} != archlab {tot('activations'):,}")
    for tool, p in (("fvcore", totals["fvcore"]["params"]), ("thop", th["params"])):
        if p != tot("params"):
            problems.append(f"{tool} params {p:,} != archlab {tot('params'):,}")
    return CheckReport(
        plan.model,
        plan.input,
        batch,
        dict(tools or {}),
        tuple(checks),
        rows,
        totals,
        breakdown,
        dict(fv["unsupported_total"]),
        not_counted,
        tuple(problems),
    )
