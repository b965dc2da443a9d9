"""Cross-check archlab's analytic counts against fvcore and thop, layer by layer, with the rule for each difference.

The network is built from the plan (eval mode) and profiled by
  - fvcore: ``FlopCountAnalysis`` (its "flops" are multiply-adds for conv/linear), ``ActivationCountAnalysis``,
    ``parameter_count``;
  - thop (the ``ultralytics-thop`` distribution or the original ``thop``; both install the module ``thop``):
    ``profile(..., ret_layer_info=True)``.
Their per-module results are joined to plan layers by name (module path == layer name).

Conv/linear multiply-adds, activations and parameters must agree exactly: a disagreement is a bug in
archlab's counts (or the build) and makes the check fail. Every other difference must be the tool's stated
rule (``FVCORE_RULES``/``THOP_RULES`` below); a difference no rule explains also fails the check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from archlab.plan import Layer, Plan, numel

MADD_OPS = ("conv", "linear")

# what each tool does with each plan layer kind (op, kind): (rule text, short label); used in README/--help
FVCORE_RULES = {
    "conv/linear": "multiply-adds, bias not counted (same rule as archlab)",
    "bn": "2 per element in eval mode with affine (aten::batch_norm; 1 without affine, 5 in training)",
    "relu": "ignored (aten::relu is on fvcore's ignore list), not reported",
    "relu6/prelu/hardswish/hardsigmoid": "unsupported, not counted, listed (aten::hardtanh, aten::prelu, ...)",
    "add/mul": "unsupported, not counted, listed (aten::add, aten::mul)",
    "max/avg pool": "unsupported, not counted, listed (aten::max_pool2d, aten::avg_pool2d)",
    "global pool": "1 per input element (aten::adaptive_avg_pool2d), same as archlab",
    "flatten/dropout/concat": "ignored",
}
THOP_RULES = {
    "conv/linear": "multiply-adds, bias not counted (same rule as archlab)",
    "bn": "4 per element with affine, 2 without (count_normalization)",
    "prelu": "1 per element in eval mode (count_prelu)",
    "relu/relu6": "0 (zero_ops)",
    "add/mul": "0: archlab's Add/Mul modules have no thop rule",
    "max pool": "0 (zero_ops)",
    "avg pool": "1 per input element of each window (padding included) + 1 per output element",
    "global pool": "1 per input element + 1 per output element (count_adap_avgpool)",
    "flatten/dropout/concat/pad": "0",
}


@dataclass(frozen=True)
class Rule:
    expected: int  # what the tool should report for this layer under its rule
    short: str  # label shown in tables: e.g. "BN 2/elt"
    unsupported: tuple[str, ...] | None = ()  # fvcore: aten ops it lists as unsupported (None: not checked)


def _elements(layer: Layer, batch: int) -> tuple[int, int]:
    return numel(layer.in_shape) * batch, numel(layer.out_shape) * batch


def fvcore_rule(layer: Layer, batch: int = 1) -> Rule:
    """fvcore's count for a plan layer, by its own rules (fvcore 0.1.5)."""
    e_in, e_out = _elements(layer, batch)
    op, kind = layer.op, layer.kind
    if op in MADD_OPS:
        return Rule(layer.madds * batch, "")
    if op == "bn":
        return Rule(2 * e_out, "BN 2/elt")
    if op == "act":
        if kind == "relu":
            return Rule(0, "ReLU ignored")
        aten = {"relu6": "hardtanh", "prelu": "prelu", "hardswish": "hardswish", "hardsigmoid": "hardsigmoid"}
        if kind in aten:
            return Rule(0, f"{_act_name(kind)} unsupported", (f"aten::{aten[kind]}",))
    if op in ("add", "mul"):
        return Rule(0, f"{op} unsupported", (f"aten::{op}",))
    if op == "pool":
        if kind == "global":
            return Rule(e_in, "GAP 1/in")
        if kind in ("max", "avg"):
            return Rule(0, f"{kind}-pool unsupported", (f"aten::{kind}_pool2d",))
    if op in ("flatten", "dropout", "concat"):
        return Rule(0, "")
    if op == "pad":
        return Rule(0, "pad not counted", None)
    return Rule(0, f"no stated rule for {op}", None)


def thop_rule(layer: Layer, batch: int = 1) -> Rule:
    """thop's count for a plan layer, by its own rules (ultralytics-thop 2.x)."""
    e_in, e_out = _elements(layer, batch)
    op, kind = layer.op, layer.kind
    if op in MADD_OPS:
        return Rule(layer.madds * batch, "")
    if op == "bn":
        return Rule(4 * e_out, "BN 4/elt")
    if op == "act":
        if kind == "prelu":
            return Rule(e_out, "PReLU 1/elt")
        return Rule(0, f"{_act_name(kind)} 0")
    if op in ("add", "mul"):
        return Rule(0, f"{op} 0 (no rule)")
    if op == "pool":
        if kind == "global":
            return Rule(e_in + e_out, "GAP in+out")
        if kind == "max":
            return Rule(0, "max-pool 0")
        if kind == "avg":
            return Rule(thop_avgpool_ops(layer) * batch, "avg-pool windows+out")
    if op in ("flatten", "dropout", "concat", "pad"):
        return Rule(0, "")
    return Rule(0, f"no stated rule for {op}")


def thop_avgpool_ops(layer: Layer) -> int:
    """thop's count_avgpool for nn.AvgPool2d (count_include_pad=True): inputs summed by every window + outputs."""
    c = layer.in_shape[0]
    windows = 1
    for size, out, k, s, p in zip(layer.in_shape[1:], layer.out_shape[1:], layer.kernel, layer.stride,
                                  layer.padding):
        lower, upper = -p, size + p
        windows *= sum(max(min(i * s - p + k, upper) - max(i * s - p, lower), 0) for i in range(out))
    return c * windows + numel(layer.out_shape)


def _act_name(kind: str) -> str:
    return {"relu": "ReLU", "relu6": "ReLU6", "prelu": "PReLU", "hardswish": "hard-swish",
            "hardsigmoid": "hard-sigmoid"}.get(kind, kind)


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
    fvcore_rule: Rule
    thop_rule: Rule
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
            "name": self.name, "op": self.op, "kind": self.kind, "row": self.row, "status": self.status,
            "archlab": {"madds": self.madds, "other_ops": self.other_ops, "activations": self.activations,
                        "params": self.params},
            "fvcore": {"flops": self.fvcore, "activations": self.fvcore_activations, "params": self.fvcore_params,
                       "unsupported": dict(self.fvcore_unsupported), "rule": self.fvcore_rule.short,
                       "expected": self.fvcore_rule.expected},
            "thop": {"ops": self.thop, "params": self.thop_params, "rule": self.thop_rule.short,
                     "expected": self.thop_rule.expected},
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
        return {"index": self.index, "type": self.type, "label": self.label, "status": self.status,
                "madds": self.total("madds"), "other_ops": self.total("other_ops"),
                "fvcore": self.total("fvcore"), "thop": self.total("thop"),
                "fvcore_rules": self.rules("fvcore"), "thop_rules": self.rules("thop")}


@dataclass(frozen=True)
class CheckReport:
    model: str
    input: tuple[int, int, int]
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
            "ok": self.ok, "batch": self.batch, "tools": dict(self.tools),
            "units": "counts as each tool reports them (multiply-adds for conv/linear), per batch",
            "totals": dict(self.totals), "breakdown": self.breakdown, "fvcore_unsupported": dict(self.unsupported),
            "not_counted_by_either": self.not_counted, "rules": {"fvcore": FVCORE_RULES, "thop": THOP_RULES},
            "memory": self.memory, "failures": self.failures,
            "rows": [r.to_dict() for r in self.rows], "layers": [lc.to_dict() for lc in self.layers],
        }


def tool_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("fvcore", "ultralytics-thop", "thop", "torch"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def _leaf_thop(info: dict, prefix: str = "") -> dict[str, tuple[float, float]]:
    out = {}
    for name, (ops, params, sub) in info.items():
        full = f"{prefix}{name}"
        if sub:
            out.update(_leaf_thop(sub, full + "."))
        else:
            out[full] = (ops, params)
    return out


def _int(v) -> int:
    return int(round(float(v)))


def run_tools(module, plan: Plan, batch: int = 1) -> dict:
    """Run fvcore and thop on a built network; per-module results keyed by module path."""
    import logging
    import warnings

    import torch

    with warnings.catch_warnings():  # fvcore's import touches torch.jit.script, deprecated in recent torch
        warnings.simplefilter("ignore", DeprecationWarning)
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis, parameter_count
    from thop import profile as thop_profile

    module.eval()
    x = torch.zeros(batch, *plan.input)
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        fa = FlopCountAnalysis(module, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        fa.tracer_warnings("none")
        flops = fa.by_module()
        unsupported = {layer.name: dict(fa.unsupported_ops(layer.name)) for layer in plan.layers}
        aa = ActivationCountAnalysis(module, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        aa.tracer_warnings("none")
        acts = aa.by_module()
        params = parameter_count(module)
        ops, total_params, info = thop_profile(module, (x,), verbose=False, ret_layer_info=True)
    return {
        "fvcore": {"flops": {k: int(v) for k, v in flops.items()}, "activations": {k: int(v) for k, v in acts.items()},
                   "params": dict(params), "unsupported": unsupported, "unsupported_total": dict(fa.unsupported_ops()),
                   "total": int(fa.total()), "activations_total": int(aa.total())},
        "thop": {"layers": {k: (_int(o), _int(p)) for k, (o, p) in _leaf_thop(info).items()}, "total": _int(ops),
                 "params": _int(total_params)},
    }


def compare(plan: Plan, results: dict, batch: int = 1, tools: dict | None = None) -> CheckReport:
    """Join tool results to plan layers by name and explain every difference (pure Python)."""
    fv, th = results["fvcore"], results["thop"]
    checks = []
    for layer in plan.layers:
        n = layer.name
        fr, tr = fvcore_rule(layer, batch), thop_rule(layer, batch)
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
        if layer.op in MADD_OPS:
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
            unexplained.append(f"fvcore lists unsupported {dict(uns) or 'nothing'}; expected "
                               f"{dict(Counter(fr.unsupported)) or 'nothing'}")
        _, e_out = _elements(layer, batch)
        checks.append(LayerCheck(n, layer.op, layer.kind, layer.row, e_out, madds, layer.other_ops * batch, acts,
                                 layer.params, f_ops, f_act, f_par, uns, t_ops, t_par, fr, tr, tuple(disagree),
                                 tuple(unexplained)))
    by_name = {c.name: c for c in checks}
    rows = tuple(RowCheck(info.index, info.type, info.label, tuple(by_name[n] for n in info.layers))
                 for info in plan.rows)

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
        "bn_elements": bn, "prelu_elements": prelu, "global_pool_input_elements": gap_in,
        "fvcore": {"conv_linear_madds": madds, "bn (2/elt)": 2 * bn, "global_pool (1/input elt)": gap_in},
        "thop": {"conv_linear_madds": madds, "bn (4/elt)": 4 * bn, "prelu (1/elt)": prelu,
                 "pools (avg: windows+out, global: in+out, max: 0)": thop_pools},
    }
    adds = [c for c in checks if c.op == "add"]
    not_counted = {"residual_adds": len(adds), "elements": sum(c.out_elements for c in adds),
                   "archlab_other_ops": sum(c.other_ops for c in adds)}
    totals = {
        "archlab": {"madds": madds, "other_ops": tot("other_ops"), "activations": tot("activations"),
                    "params": tot("params")},
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
    return CheckReport(plan.model, plan.input, batch, dict(tools or {}), tuple(checks), rows, totals, breakdown,
                       dict(fv["unsupported_total"]), not_counted, tuple(problems))


def crosscheck(plan: Plan, batch: int = 1, *, memory: bool = True, threads: int | None = 1) -> CheckReport:
    """Build the plan's network, run fvcore and thop on it, and compare (see the module docstring).

    With ``memory``, also measure the live-tensor peak in PyTorch and compare it with the plan's rule.
    ``threads``: torch intra-op threads while the tools run (restored after; None keeps the current setting).
    """
    from dataclasses import replace

    import torch

    from archlab.analysis.memory import measure_peak, memory as plan_memory
    from archlab.build import build_plan

    # Counting needs shapes, not speed: one intra-op thread avoids oversubscription, which on a busy 2-core
    # machine made the tools' forward passes several times slower (benchmarks/bench_check.py).
    threads = torch.get_num_threads() if threads is None else threads
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        module = build_plan(plan).eval()
        report = compare(plan, run_tools(module, plan, batch), batch, tool_versions())
        if not memory:
            return report
        predicted = plan_memory(plan, batch, keep_input=True).peak_bytes
        measured = measure_peak(module, plan, batch)
    finally:
        torch.set_num_threads(previous)
    mem = {"plan_peak_bytes_input_held": predicted, "torch_peak_bytes": measured, "agree": predicted == measured,
           "rule": "torch: bytes of the input and of layer outputs still referenced, at each layer's forward hook"}
    problems = report.problems
    if predicted != measured:
        problems = (*problems, f"memory: plan peak {predicted:,} B (input held) != PyTorch live peak {measured:,} B")
    return replace(report, memory=mem, problems=problems)
