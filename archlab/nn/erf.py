"""Effective receptive fields (Luo et al. 2016) by input gradients, and what each embedding head looks at.

The torch side of ``archlab rf`` (the study: :mod:`archlab.studies.rf`; its records:
:mod:`archlab.static.erf_records`):

* :func:`unit_erfs`: for FMap-end units (i, j), |d unit / d input| (``kind="abs"``) or (d unit / d input)^2
  (``kind="grad2"``, Luo et al.) summed over input channels (the unit: that position summed over channels),
  each sample normalised to mass 1, accumulated over samples, with each sample's share on given regions;
* :func:`head_importance`: the same map of d(u . e) / d input for the output vector e and a random unit vector u
  per sample (one backward pass per sample), and the weight the head gives each FMap-end position
  (:func:`position_weight`), per sample;
* weights: He-normal initialisation keyed by (seed, sample, parameter name), or a trained state_dict.

Everything runs in eval mode on the CPU; torch is imported inside the functions.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from archlab.ir.plan import Plan
from archlab.ir.structure import head_layers

IMAGE_NOISE = 0.1  # with a user image as input: Gaussian noise added per sample (SmoothGrad-style)
ERF_KINDS = ("abs", "grad2")


def gradient_map(gx, kind: str = "abs"):
    """(C, H, W) input gradient -> (H, W) float64 map: |g| or g^2 summed over channels."""
    if kind not in ERF_KINDS:
        raise ValueError(f"ERF kind must be one of {', '.join(ERF_KINDS)}, got {kind!r}")
    g = gx.double()
    return (g.abs() if kind == "abs" else g * g).sum(0).numpy()


def generator(*parts):
    """A torch generator seeded by the parts (same parts, same numbers, in any process)."""
    import torch

    return torch.Generator().manual_seed(zlib.crc32(":".join(map(str, parts)).encode()))


def init_weights(module, seed: int, sample: int) -> None:
    """He-normal (fan-in, ReLU gain) conv and linear weights, zero biases; BN and PReLU keep their defaults.
    Each parameter's values depend only on (seed, sample, its name), so a backbone gets the same weights in
    every network it is part of (the canvas body, each head variant)."""
    import torch
    import torch.nn as nn

    with torch.no_grad():
        for name, mod in module.named_modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(
                    mod.weight, mode="fan_in", nonlinearity="relu", generator=generator(seed, sample, name)
                )
                if mod.bias is not None:
                    mod.bias.zero_()


def frozen(module):
    """``module`` in eval mode with no parameter gradients (only input gradients are wanted)."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def for_input_gradients(module, plan: Plan):
    """A copy of an eval-mode network that is cheaper to differentiate w.r.t. its input and computes the same:
    BN folded into the conv before it (:func:`archlab.nn.fold.fold_bn`, the deploy rule), and PReLU with a
    backward that only computes the input gradient. Call after the weights are set."""
    from archlab.nn.fold import fold_bn
    from archlab.nn.modules import InputGradPReLU

    fast = fold_bn(module, plan)
    for layer in plan.layers:
        if layer.op == "act" and layer.kind == "prelu":
            parent, _, leaf = layer.name.rpartition(".")
            owner = fast.get_submodule(parent) if parent else fast
            setattr(owner, leaf, InputGradPReLU(getattr(owner, leaf).weight))
    return frozen(fast)


def parallel_map(fn, items, workers: int):
    """Yield (item, fn(item)) in order, computed by ``workers`` threads (torch ops release the GIL)."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield item, fn(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        yield from zip(items, pool.map(fn, items))


def sample_inputs(in_shape: tuple[int, ...], samples: int, seed: int, image=None, images=None) -> tuple[list, str]:
    """The N inputs every measurement shares: ``images`` (a list of (H, W, 3) arrays in [0, 1], one per sample,
    scaled to [-1, 1] as in training: 2 x - 1), or standard-normal images, or ``image`` ((H, W, 3) in [0, 1],
    scaled to [-1, 1]) plus Gaussian noise. Returns the tensors (C, H, W) and how they were made."""
    import torch

    in_c, hw = in_shape[0], tuple(in_shape[1:])
    if images is not None:
        xs = []
        for picture in images[:samples]:
            x = torch.from_numpy(picture * 2 - 1).float().permute(2, 0, 1)
            xs.append(x if x.shape[0] == in_c else x.mean(0, keepdim=True).expand(in_c, -1, -1).contiguous())
        return xs, f"{len(xs)} probe image(s), scaled to [-1, 1] (2 x - 1)"
    xs = []
    for n in range(samples):
        g = generator(seed, n, "input")
        if image is None:
            xs.append(torch.randn(in_c, *hw, generator=g))
            continue
        base = torch.from_numpy((image * 255 - 127.5) / 128).float().permute(2, 0, 1)
        if base.shape[0] != in_c:
            base = base.mean(0, keepdim=True).expand(in_c, -1, -1)
        xs.append(base + IMAGE_NOISE * torch.randn(in_c, *hw, generator=g))
    if image is None:
        return xs, f"{samples} standard-normal input(s)"
    return xs, f"the image (scaled to [-1, 1]) + Gaussian noise sigma {IMAGE_NOISE}, {samples} sample(s)"


class Weights:
    """How a network gets its weights for sample ``n``: random (He-normal per sample) or a trained state_dict
    (loaded once; the samples then differ only in their inputs). A head the checkpoint does not hold stays
    random on the trained backbone."""

    def __init__(self, state: dict | None, seed: int, label: str | None, *, own: bool = False) -> None:
        self.state, self.seed, self.label, self.own = state, seed, label, own

    @property
    def random(self) -> bool:
        return self.state is None

    @property
    def kind(self) -> str:
        """``random``, ``trained`` (a checkpoint given) or ``own`` (a torch module's own weights)."""
        return "random" if self.state is None else "own" if self.own else "trained"

    def apply(self, module, n: int, *, head_trained: bool) -> None:
        from archlab.nn.weights import load_strict

        if self.state is None:
            init_weights(module, self.seed, n)
        elif n == 0 and head_trained:
            load_strict(module, self.state, source=str(self.label), what="the network")
        elif n == 0:
            init_weights(module, self.seed, n)
            load_strict(module, self.state, source=str(self.label), what="the backbone", skip_prefix="head.")


def unit_erfs(
    network: Callable,
    canvas_hw,
    place,
    units,
    xs,
    *,
    offset,
    workers,
    tick: Callable[[str], None],
    kind: str = "abs",
    regions: Callable | None = None,
) -> tuple[dict, dict, dict]:
    """Accumulate each unit's ERF on the canvas over the samples.

    ``network(n)``: the canvas network (input -> FMap-end map) for sample ``n``; ``place``: (top, left) of the
    image on the canvas (the real network: the canvas is the image, place and offset (0, 0)); ``offset``:
    (oi, oj), the canvas grid position of image unit (0, 0); ``regions(n)``: {name: canvas-sized bool mask} of
    sample ``n``. ``tick(what)`` after each sample's network and forward pass and after each unit of it. Returns
    (sum of mass-1 maps, number of samples, {unit: {name: [share per sample]}})."""
    import numpy as np
    import torch

    top, left = place
    acc = {u: np.zeros(canvas_hw) for u in units}
    count = {u: 0 for u in units}
    shares: dict = {u: {} for u in units}
    for n, x in enumerate(xs):
        net = network(n)
        canvas = torch.zeros(1, x.shape[0], *canvas_hw)
        canvas[0, :, top : top + x.shape[1], left : left + x.shape[2]] = x
        canvas.requires_grad_(True)
        out = net(canvas)
        tick(f"sample {n + 1}: network and forward pass")

        def unit_erf(u, out=out, canvas=canvas):
            cot = torch.zeros_like(out)
            cot[0, :, u[0] + offset[0], u[1] + offset[1]] = 1
            (gx,) = torch.autograd.grad(out, canvas, cot, retain_graph=True)
            return gradient_map(gx[0], kind)

        masks = regions(n) if regions is not None else {}
        for u, e in parallel_map(unit_erf, units, workers):
            total = e.sum()
            if total > 0 and np.isfinite(total):
                acc[u] += e / total
                count[u] += 1
                for name, mask in masks.items():
                    shares[u].setdefault(name, []).append(float(e[mask].sum() / total))
            tick(f"unit {u[0]},{u[1]} sample {n + 1}")
        del out
    return acc, count, shares


def head_importance(
    netw,
    hplan: Plan,
    xs,
    weights: Weights,
    fmap_shape,
    *,
    head_trained: bool,
    seed: int,
    tick: Callable[[str], None],
    kind: str = "abs",
    face: Callable | None = None,
) -> tuple:
    """(importance sum of mass-1 maps, samples used, position weights summed, position weight per sample,
    share of the importance on the face region per sample) of one head variant; ``face(n)``: the (H, W) bool
    face region of sample ``n``."""
    import numpy as np
    import torch

    c, h, w = fmap_shape
    imp, pos, used = np.zeros(tuple(xs[0].shape[1:])), np.zeros((h, w)), 0
    per_sample, face_shares = [], []
    for n, x0 in enumerate(xs):
        weights.apply(netw, n, head_trained=head_trained)
        x = x0[None].clone().requires_grad_(True)
        e = netw(x).reshape(1, -1)
        u = torch.randn(e.shape[1], generator=generator(seed, n, "u", e.shape[1]))
        (gx,) = torch.autograd.grad((e[0] * (u / u.norm())).sum(), x)
        m = gradient_map(gx[0], kind)
        if m.sum() > 0 and np.isfinite(m.sum()):
            imp += m / m.sum()
            used += 1
            if face is not None:
                face_shares.append(float(m[face(n)].sum() / m.sum()))
        p = position_weight(netw, hplan, fmap_shape)
        pos += p / p.sum()
        per_sample.append(p / p.sum())
        tick(f"sample {n + 1}")
    return imp, used, pos, per_sample, face_shares


def position_weight(module, plan: Plan, fmap_shape: tuple[int, int, int]):
    """The weight a head gives each FMap-end position (h, w): GAP uniform; a global (depthwise) conv the mean
    |kernel| over channels; a linear layer reading the flattened map the mean |weight| per position."""
    import numpy as np

    c, h, w = fmap_shape
    for name in head_layers(plan):
        layer = plan.layer(name)
        if layer.op == "pool" and layer.kind == "global":
            break
        if layer.op == "conv" and layer.kernel == (h, w) and layer.in_shape[1:] == (h, w):
            wt = module.get_submodule(name).weight.detach().abs()
            return wt.mean(dim=(0, 1)).double().numpy()
        if layer.op == "linear" and layer.in_shape[0] == c * h * w and h * w > 1:
            wt = module.get_submodule(name).weight.detach().abs()
            return wt.reshape(wt.shape[0], c, h, w).mean(dim=(0, 1)).double().numpy()
    return np.ones((h, w))
