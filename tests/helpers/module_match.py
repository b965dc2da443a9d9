"""Compare a network archlab builds with a reference module: the leaves with parameters, in order.

A reference (torchvision style) reuses its parameter-free modules (ResNet's one ``relu`` per block) and computes
some ops without modules (``x + identity``, ``x.mean([2, 3])``); archlab writes one module per plan layer. What
both must agree on is the sequence of weighted leaves: the same module types with the same parameter shapes, in
registration order, and for BN the same eps and momentum.
"""

from __future__ import annotations


def weighted_leaves(module) -> list[tuple]:
    """(class name, parameter shapes[, eps, momentum]) of every leaf module that has parameters, in order."""
    import torch.nn as nn

    out = []
    for _, m in module.named_modules():
        if list(m.children()):
            continue
        shapes = tuple(tuple(p.shape) for p in m.parameters(recurse=False))
        if not shapes:
            continue
        entry: tuple = (type(m).__name__, shapes)
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            entry += (m.eps, round(m.momentum, 12))
        out.append(entry)
    return out


def activation_types(module) -> set[str]:
    """The classes of the parameter-free activation leaves (ReLU, SiLU, Hardswish, ...)."""
    import torch.nn as nn

    acts = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.GELU, nn.LeakyReLU, nn.Tanh)
    return {type(m).__name__ for m in module.modules() if isinstance(m, acts)}


def copy_weights(reference, built) -> None:
    """Copy the reference's parameters and BN statistics into ``built``, leaf by leaf in order (the weighted
    leaves must match: :func:`weighted_leaves`)."""
    import torch

    def leaves(module):
        return [m for _, m in module.named_modules() if not list(m.children()) and list(m.parameters(recurse=False))]

    with torch.no_grad():
        for src, dst in zip(leaves(reference), leaves(built), strict=True):
            for (_, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items(), strict=True):
                b.copy_(a)
