"""The deploy path: BatchNorm folded into the conv/linear before it, on a copy of a built network.

The rule is the plan's (:func:`archlab.ir.plan.fold_pairs`, by which ``params_deployed`` counts): a BN folds when
its only input is a conv or linear layer that nothing else reads and that is not a network output. For such a
pair, with BN statistics mean ``mu``, variance ``var``, scale ``gamma``, shift ``beta`` and ``eps``::

    s  = gamma / sqrt(var + eps)            (one factor per output channel)
    W' = W * s                              (scales output channel k of the weight, any groups)
    b' = (b - mu) * s + beta                (b = 0 when the layer had no bias)

The folded BN disappears from the graph (its node is removed, its readers read the conv), so the folded
module's parameter count is the plan's ``params_deployed``: weights, one bias per folded channel, PReLU
slopes, and the gamma/beta of any BN that could not fold. Folding uses the running statistics, i.e. the
network's eval-mode behaviour; the result is returned in eval mode.

torch is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from archlab.ir.plan import Plan
from archlab.nn.outputs import as_list


def fold_bn(module, plan: Plan | None = None):
    """A copy of ``module`` (built by :func:`archlab.nn.build.build_plan`) with every foldable BN folded.

    The original is left untouched. The copy is in eval mode and carries ``folded`` (the
    :class:`archlab.ir.plan.FoldPair` records) and ``plan`` (the original plan). Works on channels-last modules.
    """
    import copy

    import torch
    import torch.nn as nn

    plan = plan if plan is not None else getattr(module, "plan", None)
    if plan is None:
        raise ValueError("fold_bn needs the plan (pass it, or a module made by archlab.build)")
    folded = copy.deepcopy(module).eval()
    nodes = {n.target: n for n in folded.graph.nodes if n.op == "call_module"}
    pairs = plan.fold_pairs()
    done = []
    for pair in pairs:
        bn = folded.get_submodule(pair.bn)
        layer = folded.get_submodule(pair.into)
        bn_node, layer_node = nodes.get(pair.bn), nodes.get(pair.into)
        if bn_node is None or layer_node is None or len(layer_node.users) != 1:
            continue  # the module was changed after building: leave this pair alone
        if not isinstance(bn, (nn.BatchNorm1d, nn.BatchNorm2d)) or not isinstance(layer, (nn.Conv2d, nn.Linear)):
            continue
        _fold_into(layer, bn, torch)
        bn_node.replace_all_uses_with(layer_node)
        folded.graph.erase_node(bn_node)
        parent_path, _, leaf = pair.bn.rpartition(".")
        parent = folded.get_submodule(parent_path) if parent_path else folded
        delattr(parent, leaf)
        done.append(pair)
    folded.graph.lint()
    folded.recompile()
    folded.plan = plan
    folded.folded = tuple(done)
    return folded


def _fold_into(layer, bn, torch) -> None:
    with torch.no_grad():
        w = layer.weight
        scale = (
            bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            if bn.affine
            else 1.0 / torch.sqrt(bn.running_var + bn.eps)
        )
        shift = bn.bias.detach() if bn.affine else torch.zeros_like(bn.running_mean)
        shape = (-1,) + (1,) * (w.dim() - 1)
        new_w = w * scale.reshape(shape).to(w.dtype)
        b = layer.bias.detach() if layer.bias is not None else torch.zeros_like(bn.running_mean)
        new_b = (b - bn.running_mean) * scale + shift
        fmt = (
            torch.channels_last
            if w.dim() == 4 and w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
            else torch.contiguous_format
        )
        layer.weight = torch.nn.Parameter(new_w.contiguous(memory_format=fmt), requires_grad=w.requires_grad)
        layer.bias = torch.nn.Parameter(new_b.to(w.dtype).contiguous(), requires_grad=w.requires_grad)


def param_count(module) -> int:
    """Parameters of a module (what ``params`` / ``params_deployed`` count: BN running statistics excluded)."""
    return sum(p.numel() for p in module.parameters())


def randomize_bn(module, seed: int = 0) -> None:
    """Give every BN non-trivial statistics and affine parameters (in place), so a fold check means something.

    A freshly built network has mean 0, variance 1, gamma 1, beta 0, for which folding is nearly the identity.
    """
    import torch
    import torch.nn as nn

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.running_mean is not None:
                assert m.running_var is not None
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.25)
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=g) * 1.5 + 0.25)
                    m.bias.copy_(torch.randn(c, generator=g) * 0.5)


@dataclass(frozen=True)
class FoldCheck:
    """Folded vs unfolded outputs on one input (eval mode)."""

    max_abs_diff: float
    ref_max_abs: float
    params: int  # of the unfolded module
    params_folded: int  # of the folded module
    params_deployed: int  # the plan's figure
    folded: int  # BNs folded
    bns: int  # BNs in the plan

    @property
    def params_match(self) -> bool:
        return self.params_folded == self.params_deployed

    def to_dict(self) -> dict:
        return {
            "max_abs_diff": self.max_abs_diff,
            "ref_max_abs": self.ref_max_abs,
            "params": self.params,
            "params_folded": self.params_folded,
            "params_deployed": self.params_deployed,
            "params_match": self.params_match,
            "bn_folded": self.folded,
            "bn_total": self.bns,
        }


def check_fold(module, folded, x) -> FoldCheck:
    """Run both modules on ``x`` (eval mode, no grad) and compare: max |folded - unfolded| over all outputs."""
    import torch

    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            ref = as_list(module(x))
            out = as_list(folded(x))
    finally:
        module.train(was_training)
    diff = max((float((a.float() - b.float()).abs().max()) if a.numel() else 0.0) for a, b in zip(out, ref))
    scale = max((float(b.abs().max()) if b.numel() else 0.0) for b in ref)
    plan = folded.plan
    return FoldCheck(
        diff,
        scale,
        param_count(module),
        param_count(folded),
        plan.totals()["params_deployed"],
        len(folded.folded),
        sum(1 for layer in plan.layers if layer.op == "bn"),
    )
