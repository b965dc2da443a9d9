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
from archlab.ir.ops import MADD_OPS, OPS, ToolRule, op_of
from archlab.ir.plan import Plan
from archlab.static.display import Display


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
    breakdown: dict  # tool -> {terms: {label: count}, zero: [labels]}: its total by the op table's rules
    unsupported: dict  # fvcore: aten op -> count over the model
    not_counted: dict  # what neither tool counts: residual adds
    problems: tuple[str, ...]  # model-level problems (attribution, memory) besides the layers'
    memory: dict = field(default_factory=dict)
    uncounted: dict = field(default_factory=dict)  # ops archlab has no rule for: not compared, listed

    @property
    def failures(self) -> list[str]:
        out = [f"{lc.name}: {p}" for lc in self.layers for p in (*lc.disagree, *lc.unexplained)]
        return out + list(self.problems)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __repr__(self) -> str:
        fv, th = self.totals["fvcore"]["flops"], self.totals["thop"]["ops"]
        return (
            f"<CheckReport {self.model}: {'ok' if self.ok else f'FAILED ({len(self.failures)} problems)'}, "
            f"{len(self.layers)} layers; archlab MAdds {self.totals['archlab']['madds']:,}, fvcore {fv:,}, "
            f"thop {th:,} (batch {self.batch})>"
        )

    def _repr_html_(self) -> str | None:
        return Display.html_of(self)

    def to_frame(self, depth: str = "layer"):
        """A pandas DataFrame per layer (``depth='layer'``) or per table row (``'row'``): archlab's counts, each
        tool's, their difference from archlab's MAdds and the rule that explains it, and the status."""
        from archlab.static.frames import frame

        if depth == "row":
            records = [
                {
                    "row": r.index,
                    "type": r.type,
                    "madds": r.total("madds"),
                    "other_ops": r.total("other_ops"),
                    "fvcore": r.total("fvcore"),
                    "fvcore_minus_madds": r.total("fvcore") - r.total("madds"),
                    "fvcore_rules": r.rules("fvcore"),
                    "thop": r.total("thop"),
                    "thop_minus_madds": r.total("thop") - r.total("madds"),
                    "thop_rules": r.rules("thop"),
                    "status": r.status,
                }
                for r in self.rows
            ]
            return frame(records)
        records = [
            {
                "name": lc.name,
                "op": lc.op,
                "kind": lc.kind,
                "row": lc.row,
                "madds": lc.madds,
                "other_ops": lc.other_ops,
                "fvcore": lc.fvcore,
                "fvcore_minus_madds": lc.fvcore - lc.madds,
                "fvcore_rule": lc.fvcore_rule.short,
                "thop": lc.thop,
                "thop_minus_madds": lc.thop - lc.madds,
                "thop_rule": lc.thop_rule.short,
                "status": lc.status,
            }
            for lc in self.layers
        ]
        return frame(records)

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
            "uncounted": dict(self.uncounted),
            "failures": self.failures,
            "rows": [r.to_dict() for r in self.rows],
            "layers": [lc.to_dict() for lc in self.layers],
        }


def check_layer(layer: Layer, fv: dict, th: dict, batch: int = 1) -> LayerCheck:
    """One layer against both tools: conv/linear counts must agree exactly; any other difference must be the
    tool's rule from the op table."""
    n = layer.name
    entry = op_of(layer.op, layer.kind)
    fr, tr = entry.fvcore(layer, batch), entry.thop(layer, batch)
    madds, acts = layer.madds * batch, layer.activations * batch
    got = {"fvcore": fv["flops"].get(n), "thop": th["layers"].get(n, (None, None))[0]}
    missing = [tool for tool, v in got.items() if v is None]
    f_ops, t_ops = got["fvcore"] or 0, got["thop"] or 0
    f_act, f_par = fv["activations"].get(n) or 0, fv["params"].get(n) or 0
    t_par = th["layers"].get(n, (0, 0))[1] or 0
    uns = fv["unsupported"].get(n, {})
    disagree, unexplained = [], []
    if missing:
        disagree.append(f"no module {n!r} in the {' and '.join(missing)} results (module path != layer name)")
    for tool, ops, rule in (("fvcore", f_ops, fr), ("thop", t_ops, tr)):
        if layer.op == "opaque":
            continue  # archlab has no rule for it: listed as uncounted, not compared
        if entry.weighted and ops != madds:
            disagree.append(f"MAdds: archlab {madds:,}, {tool} {ops:,}")
        elif not entry.weighted and ops != rule.expected:
            unexplained.append(f"{tool} counts {ops:,}; its rule ({rule.short or layer.op}) gives {rule.expected:,}")
    if not missing:
        exact = (
            ("activations", acts, f_act, "fvcore"),
            ("params", layer.params, f_par, "fvcore"),
            ("params", layer.params, t_par, "thop"),
        )
        disagree += [
            f"{what}: archlab {mine:,}, {tool} {theirs:,}" for what, mine, theirs, tool in exact if mine != theirs
        ]
    if fr.unsupported is not None and Counter(uns) != Counter(fr.unsupported):
        unexplained.append(
            f"fvcore lists unsupported {dict(uns) or 'nothing'}; expected {dict(Counter(fr.unsupported)) or 'nothing'}"
        )
    return LayerCheck(
        n,
        layer.op,
        layer.kind,
        layer.row,
        numel(layer.out_shape) * batch,
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


def explain(plan: Plan, results: dict, batch: int = 1, tools: dict | None = None) -> CheckReport:
    """Join tool results to plan layers by name and explain every difference (pure Python)."""
    fv, th = results["fvcore"], results["thop"]
    checks = [check_layer(layer, fv, th, batch) for layer in plan.layers]
    by_name = {c.name: c for c in checks}
    rows = tuple(
        RowCheck(info.index, info.type, info.label, tuple(by_name[n] for n in info.layers)) for info in plan.rows
    )
    totals = {
        "archlab": {k: sum(getattr(c, k) for c in checks) for k in ("madds", "other_ops", "activations", "params")},
        "fvcore": {"flops": fv["total"], "activations": fv["activations_total"], "params": fv["params"].get("", 0)},
        "thop": {"ops": th["total"], "params": th["params"]},
    }
    adds = [c for c in checks if c.op == "add"]
    not_counted = {
        "residual_adds": len(adds),
        "elements": sum(c.out_elements for c in adds),
        "archlab_other_ops": sum(c.other_ops for c in adds),
    }
    return CheckReport(
        plan.model,
        plan.input,
        batch,
        dict(tools or {}),
        tuple(checks),
        rows,
        totals,
        _breakdown(checks),
        dict(fv["unsupported_total"]),
        not_counted,
        tuple(_total_problems(checks, totals)),
        uncounted=plan.uncounted(),
    )


def _breakdown(checks: list[LayerCheck]) -> dict:
    """Each tool's total as the op table's rules give it, term by term: ``{tool: {"terms": {label: count},
    "zero": [labels]}}``. A term sums the layers whose rule carries that label (the rule's ``short``, or the op's
    name; the weighted ops' multiply-adds are one term, first); rules that count 0 are named under ``zero``."""
    madds = f"{'/'.join(MADD_OPS)} MAdds"
    out = {}
    for tool in ("fvcore", "thop"):
        terms: dict[str, int] = {madds: 0}
        zero: list[str] = []
        for c in checks:
            entry, rule = op_of(c.op, c.kind), getattr(c, f"{tool}_rule")
            label = madds if entry.weighted else (rule.short or c.op)
            if rule.expected or entry.weighted:
                terms[label] = terms.get(label, 0) + rule.expected
            elif c.op != "opaque" and label not in zero:  # opaque: not compared, listed as uncounted
                zero.append(label)
        out[tool] = {"terms": terms, "zero": [z for z in zero if z not in terms]}
    return out


def _total_problems(checks: list[LayerCheck], totals: dict) -> list[str]:
    """The tools' totals must be the sums over the plan's layers (else something went unattributed)."""
    mine = totals["archlab"]
    problems = []
    for tool, key, total in (("fvcore", "fvcore", totals["fvcore"]["flops"]), ("thop", "thop", totals["thop"]["ops"])):
        summed = sum(getattr(c, key) for c in checks)
        if summed != total:
            problems.append(f"{tool} total {total:,} is not the sum over plan layers {summed:,}")
    if totals["fvcore"]["activations"] != mine["activations"]:
        problems.append(f"fvcore activations {totals['fvcore']['activations']:,} != archlab {mine['activations']:,}")
    for tool, p in (("fvcore", totals["fvcore"]["params"]), ("thop", totals["thop"]["params"])):
        if p != mine["params"]:
            problems.append(f"{tool} params {p:,} != archlab {mine['params']:,}")
    return problems
