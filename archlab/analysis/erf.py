"""Effective receptive fields at FMap-end and the embedding-head study (GAP vs GDConv vs FC).

MobileFaceNets (Chen et al. 2018, Sec. 3.1) argue that global average pooling weighs every FMap-end unit
equally although a corner unit's receptive field is centred on the image corner, where its *effective*
receptive field (ERF; Luo et al. 2016) falls largely on zero padding. This module measures that:

* **unit grid**: for each FMap-end unit (i, j), its ERF = |d unit / d input| (the unit: that position summed
  over channels; the gradient summed over input channels), each sample normalised to mass 1 and averaged
  over N (input, initialisation) pairs. It is measured on an enlarged zero *canvas* with the image in it,
  large enough to hold every unit's theoretical RF, so the mass that falls outside the image (on what the
  real network sees as padding) is visible. Per unit: the share of mass on the image, the centre of mass,
  and the radii around it that hold 50% and 90% of the mass.
* **head importance**: the same backbone with each head; importance = |d(u . e) / d input| for the output
  vector e and a random unit vector u per sample (one backward pass per sample, not one per output
  dimension), normalised and averaged; plus the weight each head gives each FMap-end position.
* **head cost**: a head is everything after FMap-end up to the output vector (the table's ``head`` row).

Random weights (He-normal init, eval mode) show the architecture's geometry, not what a trained model
learned; ``weights=`` loads a trained state_dict (strictly) instead. Everything runs in eval mode on the CPU.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from archlab.analysis.receptive import RF, as_number, receptive_fields
from archlab.errors import ArchlabError, OptionError
from archlab.expand import Overrides, expand
from archlab.plan import INPUT, Plan
from archlab.rows.head import POOLS

HEADS = POOLS  # gdconv, gap, fc
IMAGE_NOISE = 0.1  # with a user image as input: Gaussian noise added per sample (SmoothGrad-style)
MASS_LEVELS = (0.5, 0.9)


# -- plan helpers ------------------------------------------------------------------------------------------
def head_row(plan: Plan):
    return next((r for r in plan.rows if r.index == "head"), None)


def fmap_end(plan: Plan) -> str:
    """The layer feeding the head (FMap-end); without a head, the output map."""
    head = head_row(plan)
    name = plan.layer(head.layers[0]).inputs[0] if head is not None and head.layers else plan.output
    shape = plan.input if name == INPUT else plan.layer(name).out_shape
    if name == INPUT or len(shape) != 3:
        raise OptionError(f"{plan.model}: no feature map before the head (FMap-end) to study")
    return name


def truncate(plan: Plan, name: str) -> Plan:
    """The plan of the sub-network that computes ``name`` (its ancestors only), with ``name`` as output."""
    by_name = {layer.name: layer for layer in plan.layers}
    needed, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in needed or n == INPUT:
            continue
        needed.add(n)
        todo.extend(by_name[n].inputs)
    return replace(plan, layers=tuple(l for l in plan.layers if l.name in needed), output=name, outputs=(name,),
                   rows=tuple(r for r in plan.rows if r.index != "head"))


def canvas_margins(rf: RF, grid_hw: tuple[int, int], image_hw: tuple[int, int], *,
                   round_end: bool = True) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zero margins around the image that hold every FMap-end unit's theoretical
    RF. Top and left are multiples of the jump, so the canvas network has the same grid; bottom and right
    too with ``round_end`` (then TensorFlow-SAME padding decisions stay the same), else just large enough."""
    out = []
    for ax in range(2):
        jump, half = rf.jump[ax], (rf.size[ax] - 1) / 2
        first = rf.start[ax] - half
        last = rf.start[ax] + (grid_hw[ax] - 1) * jump + half
        before = max(0.0, -first)
        after = max(0.0, last - (image_hw[ax] - 1))
        end = math.ceil(after / jump) * jump if round_end else math.ceil(after)
        out.append((int(math.ceil(before / jump) * jump), int(end)))
    (top, bottom), (left, right) = out
    return top, bottom, left, right


def _structure(plan: Plan) -> list:
    """Names, kernels, strides and padding of the layers (a global pool's kernel is its map: left out)."""
    return [(l.name, None if l.kind == "global" else l.kernel, l.stride, l.padding) for l in plan.layers]


def head_cost(plan: Plan) -> dict:
    """params, params_deployed, madds and other_ops of the head (everything after FMap-end). No torch."""
    head = head_row(plan)
    layers = [plan.layer(n) for n in head.layers] if head is not None else []
    keys = ("params", "params_deployed", "madds", "other_ops")
    return {k: sum(getattr(l, k) for l in layers) for k in keys}


def key_units(h: int, w: int) -> list[tuple[int, int]]:
    """The four corners, the edge midpoints and the centre of an h x w grid (at most 9 units)."""
    rows, cols = sorted({0, h // 2, h - 1}), sorted({0, w // 2, w - 1})
    return [(i, j) for i in rows for j in cols]


# -- statistics of a mass map ------------------------------------------------------------------------------
def mass_stats(m, y0: float = 0.0, x0: float = 0.0, levels=MASS_LEVELS) -> tuple[tuple[float, float], list[float]]:
    """Centre of mass (y, x) of a non-negative map and the radii around it holding each share of ``levels``.
    Pixel (r, c) of the map sits at image coordinates (r + y0, c + x0)."""
    import numpy as np

    m = np.asarray(m, dtype=float)
    total = m.sum()
    yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
    yy, xx = yy + y0, xx + x0
    cy, cx = float((m * yy).sum() / total), float((m * xx).sum() / total)
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2).ravel()
    order = np.argsort(d, kind="stable")
    cum = np.cumsum(m.ravel()[order]) / total
    radii = [float(d[order][min(np.searchsorted(cum, level), len(cum) - 1)]) for level in levels]
    return (cy, cx), radii


# -- results -----------------------------------------------------------------------------------------------
@dataclass
class UnitGrid:
    """Per FMap-end unit (i, j): theoretical and effective RF measures. Arrays are (h, w); NaN = not measured."""

    shape: tuple[int, int]
    centres: list  # [[(y, x)]]: RF centres in image coordinates
    rf_inside: list  # [[float]]: share of the theoretical RF box on the image
    erf_inside: object  # np.ndarray (h, w): share of ERF mass on the image
    com: object  # np.ndarray (h, w, 2): ERF centre of mass (y, x), image coordinates
    r50: object  # np.ndarray (h, w)
    r90: object  # np.ndarray (h, w)
    canvas: tuple[int, int, int, int]  # (top, left, height, width): image placement on the canvas
    maps: dict = field(default_factory=dict)  # (i, j) -> canvas-sized ERF (mass 1)
    samples: int = 0

    @property
    def units(self) -> list[tuple[int, int]]:
        return sorted(self.maps)


@dataclass
class HeadResult:
    """One head: its cost and what it looks at."""

    name: str
    params: int
    params_deployed: int
    madds: int
    other_ops: int
    out_dim: int
    layers: tuple[str, ...]
    importance: object = None  # np.ndarray (H, W), mass 1
    com: tuple[float, float] | None = None
    com_offset: float | None = None  # max over axes of |com - image centre| / image size
    r50: float | None = None
    r90: float | None = None
    position_weight: object = None  # np.ndarray (h, w), sums to 1
    weights: str = "random"  # random | trained | backbone (trained backbone, random head)

    @property
    def centre_corner_ratio(self) -> float | None:
        """Position weight of the central FMap-end unit over the mean of the four corners."""
        if self.position_weight is None:
            return None
        w = self.position_weight
        h_, w_ = w.shape
        corners = (w[0, 0] + w[0, -1] + w[-1, 0] + w[-1, -1]) / 4
        return float(w[h_ // 2, w_ // 2] / corners) if corners > 0 else None

    def to_dict(self) -> dict:
        out = {"params": self.params, "params_deployed": self.params_deployed, "madds": self.madds,
               "other_ops": self.other_ops, "out_dim": self.out_dim, "layers": list(self.layers),
               "weights": self.weights}
        if self.importance is not None:
            out.update({
                "importance_centre_of_mass": [round(v, 3) for v in self.com],
                "importance_com_offset": round(self.com_offset, 5),
                "importance_r50": round(self.r50, 3), "importance_r90": round(self.r90, 3),
                "position_weight": _grid(self.position_weight, 5),
                "position_centre_corner_ratio": _round(self.centre_corner_ratio, 4),
            })
        return out


@dataclass
class RFStudy:
    model: str
    options: dict
    image_hw: tuple[int, int]
    fmap: str
    fmap_shape: tuple[int, int, int]
    rf: RF
    grid: UnitGrid | None
    heads: dict  # name -> HeadResult
    samples: int
    seed: int
    weights: str | None
    inputs: str
    image: object  # np.ndarray (H, W, 3) in [0, 1]: the backdrop of the figures
    image_source: str
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        g = self.grid
        units = None
        if g is not None:
            units = {
                "rf_inside_fraction": _grid(g.rf_inside, 5),
                "erf_mass_inside": _grid(g.erf_inside, 5),
                "centre": [[[as_number(v) for v in c] for c in row] for row in g.centres],
                "erf_centre_of_mass": [[[_round(v, 3) for v in c] for c in row] for row in g.com.tolist()],
                "erf_r50": _grid(g.r50, 3), "erf_r90": _grid(g.r90, 3),
                "canvas": {"top": g.canvas[0], "left": g.canvas[1], "height": g.canvas[2], "width": g.canvas[3]},
            }
        return {
            "schema_version": 1, "model": self.model, "options": self.options, "input": list(self.image_hw),
            "fmap_end": {"layer": self.fmap, "shape": list(self.fmap_shape), "rf": self.rf.to_dict()},
            "samples": self.samples, "seed": self.seed, "weights": self.weights, "inputs": self.inputs,
            "image": self.image_source,
            "heads": {name: h.to_dict() for name, h in self.heads.items()},
            "units": units, "notes": list(self.notes),
        }


def _round(v, nd):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), nd)


def _grid(a, nd):
    rows = a.tolist() if hasattr(a, "tolist") else a
    return [[_round(v, nd) for v in row] for row in rows]


# -- torch helpers -----------------------------------------------------------------------------------------
def _generator(*parts):
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
                nn.init.kaiming_normal_(mod.weight, mode="fan_in", nonlinearity="relu",
                                        generator=_generator(seed, sample, name))
                if mod.bias is not None:
                    mod.bias.zero_()


def _prepare(module):
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def _fast_prelu():
    import torch
    import torch.nn as nn

    class _MaskMul(torch.autograd.Function):
        """x * s with s = 1 where x > 0 else the slope; the backward (input only) is one multiply by s."""

        @staticmethod
        def forward(ctx, x, slope):
            s = torch.where(x > 0, torch.ones((), dtype=x.dtype), slope.view(1, -1, *([1] * (x.dim() - 2))))
            ctx.save_for_backward(s)
            return x * s

        @staticmethod
        def backward(ctx, grad):
            (s,) = ctx.saved_tensors
            return grad * s, None

    class InputGradPReLU(nn.Module):
        def __init__(self, slope):
            super().__init__()
            self.register_buffer("slope", slope.detach().clone())

        def forward(self, x):
            return _MaskMul.apply(x, self.slope)

    return InputGradPReLU


def for_input_gradients(module, plan: Plan):
    """A copy of an eval-mode network that is cheaper to differentiate w.r.t. its input and computes the same:
    BN folded into the conv before it (``archlab.analysis.fold``, the deploy rule), and PReLU with a backward
    that only computes the input gradient. Call after the weights are set."""
    from archlab.analysis.fold import fold_bn

    fast = fold_bn(module, plan)
    fast_prelu = _fast_prelu()
    for layer in plan.layers:
        if layer.op == "act" and layer.kind == "prelu":
            parent, _, leaf = layer.name.rpartition(".")
            owner = fast.get_submodule(parent) if parent else fast
            setattr(owner, leaf, fast_prelu(getattr(owner, leaf).weight))
    return _prepare(fast)


def _parallel_map(fn, items, workers: int):
    """Yield (item, fn(item)) in order, computed by ``workers`` threads (torch ops release the GIL)."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield item, fn(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        yield from zip(items, pool.map(fn, items))


# -- the study ---------------------------------------------------------------------------------------------
Progress = Callable[[str], None]  # called once per finished step with a short description


def plan_steps(n_units: int, n_heads: int, samples: int) -> int:
    """How many progress steps :func:`rf_study` reports."""
    return samples * (n_units + n_heads)


def rf_study(
    net,
    *,
    heads=HEADS,
    samples: int = 8,
    seed: int = 0,
    weights=None,
    key_map=None,
    image=None,
    units=None,
    progress: Progress | None = None,
    **overrides,
) -> RFStudy:
    """Receptive fields at FMap-end and the embedding-head study.

    ``net``: a shipped name, a table path or a NetSpec; ``overrides``: as :func:`archlab.plan` (``head``
    there is the trained head, the one ``weights`` fit). ``heads``: the heads to compare (empty: none).
    ``weights``: a state_dict or a checkpoint path; ``key_map``: a :class:`archlab.weights.KeyMap` or a path.
    ``image``: a path or an (H, W, 3) array in [0, 1], the network input (plus noise) and the figures'
    backdrop; default: standard-normal inputs and a synthetic face backdrop. ``units``: FMap-end units to
    measure: ``"all"`` (default), ``"key"`` (corners, edge midpoints, centre), a list such as
    ``[(0, 0), (3, 3)]``, or ``[]`` for none.

    Runs on torch's intra-op thread count as that many single-threaded workers (units, heads in parallel):
    every core stays busy without the barrier waits of multi-threaded kernels, which cost the most on a
    busy machine.
    """
    import torch

    workers = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _rf_study(net, heads=heads, samples=samples, seed=seed, weights=weights, key_map=key_map,
                         image=image, units=units, progress=progress, workers=workers, **overrides)
    finally:
        torch.set_num_threads(workers)


def _rf_study(net, *, heads, samples, seed, weights, key_map, image, units, progress, workers, **overrides):
    import numpy as np
    import torch

    from archlab.api import load_table
    from archlab.build import build_plan
    from archlab.render.face import read_image, synthetic_face
    from archlab.table import NetSpec
    from archlab.weights import KeyMap, load_strict, read_key_map, read_state_dict

    if samples < 1:
        raise OptionError(f"--samples must be >= 1, got {samples}")
    heads = tuple(heads)
    for h in heads:
        if h not in HEADS:
            raise OptionError(f"--head must be one of {', '.join(HEADS)} or all, got {h!r}")
    spec = net if isinstance(net, NetSpec) else load_table(net)
    base_ov = Overrides.from_kwargs(**overrides)
    plan = expand(spec, base_ov)
    if len(plan.outputs) > 1:
        raise OptionError(f"{plan.model} has {len(plan.outputs)} outputs; archlab rf studies one FMap-end and its "
                          "head")
    fmap = fmap_end(plan)
    base_head = head_row(plan)
    if heads and base_head is None:
        raise OptionError(f"{plan.model} has no head to compare (its table has no `head:`); use --head none for "
                          "the unit grid alone")
    c, h, w = plan.layer(fmap).out_shape
    image_hw = plan.input[1:]
    rf = receptive_fields(plan.layers)[fmap]
    notes: list[str] = []

    # inputs that can fail go first: weights, key map, image
    state, weights_label = None, None
    if weights is not None:
        weights_label = str(weights) if isinstance(weights, (str, Path)) else "state_dict"
        state = read_state_dict(weights) if isinstance(weights, (str, Path)) else dict(weights)
        if key_map is not None:
            km = key_map if isinstance(key_map, KeyMap) else read_key_map(key_map)
            state = km.apply(state)
        trained_net = build_plan(plan)
        load_strict(trained_net, state, source=weights_label,
                    what=f"{plan.model} ({base_head.label if base_head else 'no head'}"
                         f"{', ' + ', '.join(f'{k}={v}' for k, v in plan.options.items()) if plan.options else ''})")
        del trained_net
    elif key_map is not None:
        raise OptionError("--key-map renames the keys of --weights; give --weights too")
    image_source = "synthetic face (drawn by archlab)"
    if image is None:
        backdrop = synthetic_face(*image_hw)
        user_image = None
    else:
        if isinstance(image, (str, Path)):
            backdrop, note = read_image(image, *image_hw)
            image_source = str(image)
            if note:
                notes.append(note)
        else:
            backdrop = np.asarray(image, dtype=float)
            image_source = "array"
        user_image = backdrop

    # the N inputs, shared by the unit grid and every head
    in_c = plan.input[0]
    xs = []
    for n in range(samples):
        g = _generator(seed, n, "input")
        if user_image is None:
            xs.append(torch.randn(in_c, *image_hw, generator=g))
        else:
            base = torch.from_numpy((user_image * 255 - 127.5) / 128).float().permute(2, 0, 1)
            if base.shape[0] != in_c:
                base = base.mean(0, keepdim=True).expand(in_c, -1, -1)
            xs.append(base + IMAGE_NOISE * torch.randn(in_c, *image_hw, generator=g))
    inputs = (f"{samples} standard-normal input(s)" if user_image is None
              else f"the image (scaled to [-1, 1]) + Gaussian noise sigma {IMAGE_NOISE}, {samples} sample(s)")

    def set_weights(module, n, *, head_trained):
        if state is not None and n > 0:
            return  # trained weights: loaded once, the N samples differ only in their inputs
        if state is None:
            init_weights(module, seed, n)
            return
        if head_trained:
            load_strict(module, state, source=weights_label, what="the network")
        else:
            init_weights(module, seed, n)  # the head (and anything else not in the checkpoint) stays random
            load_strict(module, state, source=weights_label, what="the backbone", skip_prefix="head.")

    if units is None or units == "all":
        todo = [(i, j) for i in range(h) for j in range(w)]
    elif units == "key":
        todo = key_units(h, w)
    else:
        todo = [tuple(u) for u in units]
    for u in todo:
        if not (0 <= u[0] < h and 0 <= u[1] < w):
            raise OptionError(f"unit {u} is outside the {h}x{w} FMap-end grid")

    def tick(what: str):
        if progress is not None:
            progress(what)

    # -- unit grid on the canvas ---------------------------------------------------------------------------
    grid = None
    if todo:
        body_plan = truncate(plan, fmap)
        for round_end in (False, True):  # the smallest canvas whose network has the same layers and padding
            top, bottom, left, right = canvas_margins(rf, (h, w), image_hw, round_end=round_end)
            ch, cw = image_hw[0] + top + bottom, image_hw[1] + left + right
            cbody_plan = truncate(expand(spec, replace(base_ov, input=(ch, cw))), fmap)
            oi, oj = top // rf.jump[0], left // rf.jump[1]
            _, gh, gw = cbody_plan.layer(fmap).out_shape
            if _structure(cbody_plan) == _structure(body_plan) and gh >= oi + h and gw >= oj + w:
                break
        else:
            raise ArchlabError(f"{plan.model}: a {ch}x{cw} measuring canvas changes the network's padding; "
                               "the unit grid cannot be measured for this table")
        acc = {u: np.zeros((ch, cw)) for u in todo}
        count = {u: 0 for u in todo}
        body = None
        for n in range(samples):
            if body is None or state is None:  # random weights: a fresh network per sample (BN gets folded)
                body = _prepare(build_plan(cbody_plan))
                set_weights(body, 0 if state is not None else n, head_trained=False)
                body = for_input_gradients(body, cbody_plan)
            canvas = torch.zeros(1, in_c, ch, cw)
            canvas[0, :, top:top + image_hw[0], left:left + image_hw[1]] = xs[n]
            canvas.requires_grad_(True)
            out = body(canvas)

            def unit_erf(u, out=out, canvas=canvas):
                cot = torch.zeros_like(out)
                cot[0, :, u[0] + oi, u[1] + oj] = 1
                (gx,) = torch.autograd.grad(out, canvas, cot, retain_graph=True)
                return gx[0].abs().sum(0).double().numpy()

            for u, e in _parallel_map(unit_erf, todo, workers):
                total = e.sum()
                if total > 0 and np.isfinite(total):
                    acc[u] += e / total
                    count[u] += 1
                tick(f"unit {u[0]},{u[1]} sample {n + 1}")
            del out
        erf_inside = np.full((h, w), np.nan)
        com = np.full((h, w, 2), np.nan)
        r50 = np.full((h, w), np.nan)
        r90 = np.full((h, w), np.nan)
        maps = {}
        for u in todo:
            if not count[u]:
                continue
            m = acc[u] / count[u]
            maps[u] = m.astype(np.float32)
            erf_inside[u] = m[top:top + image_hw[0], left:left + image_hw[1]].sum() / m.sum()
            (cy, cx), (a, b) = mass_stats(m, -top, -left)
            com[u] = (cy, cx)
            r50[u], r90[u] = a, b
        silent = [u for u in todo if not count[u]]
        if silent:
            notes.append(f"{len(silent)} unit(s) had zero gradient in every sample (e.g. {silent[0]}): their RF "
                         "lies in padding")
        grid = UnitGrid(
            shape=(h, w), centres=[[rf.centre(i, j) for j in range(w)] for i in range(h)],
            rf_inside=[[rf.inside_fraction(i, j, image_hw) for j in range(w)] for i in range(h)],
            erf_inside=erf_inside, com=com, r50=r50, r90=r90, canvas=(top, left, ch, cw), maps=maps,
            samples=samples)

    # -- heads ---------------------------------------------------------------------------------------------
    base_pool = _pool_of(base_head)

    def run_head(name: str) -> HeadResult:
        hplan = expand(spec, replace(base_ov, head=name))
        res = HeadResult(name=name, out_dim=int(np.prod(hplan.layer(hplan.output).out_shape)),
                         layers=tuple(head_row(hplan).layers), **head_cost(hplan))
        netw = _prepare(build_plan(hplan))
        trained = state is not None and name == base_pool
        res.weights = "random" if state is None else ("trained" if trained else "backbone")
        imp, pos, used = np.zeros(image_hw), np.zeros((h, w)), 0
        for n in range(samples):
            set_weights(netw, n, head_trained=trained)
            x = xs[n][None].clone().requires_grad_(True)
            e = netw(x).reshape(1, -1)
            u = torch.randn(e.shape[1], generator=_generator(seed, n, "u", e.shape[1]))
            (gx,) = torch.autograd.grad((e[0] * (u / u.norm())).sum(), x)
            m = gx[0].abs().sum(0).double().numpy()
            if m.sum() > 0 and np.isfinite(m.sum()):
                imp += m / m.sum()
                used += 1
            p = position_weight(netw, hplan, (c, h, w))
            pos += p / p.sum()
            tick(f"head {name} sample {n + 1}")
        if used:
            res.importance = imp / used
            res.com, (res.r50, res.r90) = mass_stats(res.importance)
            res.com_offset = max(abs(res.com[ax] - (image_hw[ax] - 1) / 2) / image_hw[ax] for ax in range(2))
        res.position_weight = pos / samples
        return res

    results = dict(_parallel_map(run_head, heads, workers))

    if state is None:
        notes.insert(0, "random weights (He-normal init, eval mode): the maps show the architecture's geometry, "
                        "not what a trained model learned; --weights FILE loads a trained state_dict")
    else:
        back = [n for n, r in results.items() if r.weights == "backbone"]
        if back:
            notes.append(f"heads {', '.join(back)}: trained backbone, random head (the checkpoint holds the "
                         f"{base_pool} head)")
    if grid is not None and rf.global_context:
        notes.append("squeeze-and-excitation gates pool the whole map: on the measuring canvas they see the zero "
                     "margin too, so the unit grid describes the network on the enlarged canvas")
    if grid is not None:
        covers = all(abs(f - grid.rf_inside[0][0]) < 1e-12 for row in grid.rf_inside for f in row)
        if covers and rf.size[0] >= 2 * image_hw[0] - 1 and rf.size[1] >= 2 * image_hw[1] - 1:
            notes.append(f"theoretical RF {rf.label()} px (jump {rf.label('jump')}): every FMap-end unit's RF covers "
                         "the whole image, so it cannot tell units apart; the effective RF does")
    return RFStudy(model=plan.model, options=dict(plan.options), image_hw=tuple(image_hw), fmap=fmap,
                   fmap_shape=(c, h, w), rf=rf, grid=grid, heads=results, samples=samples, seed=seed,
                   weights=weights_label, inputs=inputs, image=backdrop, image_source=image_source, notes=notes)


def _pool_of(row) -> str | None:
    """The pool of a head row from its layer names (``head.gdconv.dw`` -> ``gdconv``)."""
    if row is None or not row.layers:
        return None
    return row.layers[0].split(".")[1]


def position_weight(module, plan: Plan, fmap_shape: tuple[int, int, int]):
    """The weight a head gives each FMap-end position (h, w): GAP uniform; a global (depthwise) conv the mean
    |kernel| over channels; a linear layer reading the flattened map the mean |weight| per position."""
    import numpy as np

    c, h, w = fmap_shape
    head = head_row(plan)
    for name in head.layers:
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
