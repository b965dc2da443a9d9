"""The FMap-end unit grid of ``archlab rf``: each unit's effective receptive field, measured

* ``real`` (the default): on the network as it runs: the input is the image, and every layer zero-pads its
  own input, so all of a unit's ERF mass lies on the image; what tells units apart is *where* on the image
  it lies: its share on the face region;
* ``canvas``: on an enlarged zero canvas holding every unit's theoretical RF, the image in its middle. The mass
  off the image belongs to a hypothetical network (the real one has no such margin: its padding is added
  inside each layer), and it depends on what fills the margin: in a bias-free random network the zero margin
  keeps activations at 0, where PReLU passes its slope 0.25, which pulls the ERF inwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archlab.errors import ArchlabError
from archlab.ir.overrides import Overrides
from archlab.ir.plan import Plan
from archlab.ir.structure import truncate
from archlab.spec.table import NetSpec
from archlab.static.erf_records import UnitGrid, mass_stats
from archlab.static.receptive import RF, canvas_margins
from archlab.studies.rf_probes import Probes

if TYPE_CHECKING:
    from archlab.nn.erf import Weights


@dataclass
class Setup:
    """What every part of one study shares."""

    spec: NetSpec | None  # None for a traced module (it has no head to vary)
    overrides: Overrides
    replan: Callable[[tuple[int, int]], Plan]  # the plan at another input (the canvas): expanded or traced
    plan: Plan
    fmap: str
    rf: RF
    xs: list
    weights: Weights
    workers: int
    tick: Callable[[str], None]
    probes: Probes
    method: str = "real"
    erf: str = "abs"

    @property
    def fmap_shape(self) -> tuple[int, int, int]:
        c, h, w = self.plan.layer(self.fmap).out_shape
        return c, h, w

    @property
    def image_hw(self) -> tuple[int, int]:
        return self.plan.input[1], self.plan.input[2]


METHODS = ("real", "canvas")
CANVAS_CAVEAT = (
    "canvas method: the ERF of a hypothetical network that sees the image inside a zero margin; the real "
    "network zero-pads inside every layer, so its 'padding' share is 0. The share off the image depends on "
    "what fills the margin (in a bias-free random net the zero margin keeps activations at 0, where PReLU "
    "passes slope 0.25 and pulls the ERF inwards; noise in the margin or PReLU slope 1 change it)"
)
REAL_NOTE = (
    "real network (zero padding inside every layer, as it runs): every unit's ERF lies on the image (share 1 "
    "by construction); the face share says where on the image it lies"
)


def _structure(plan: Plan) -> list:
    """Names, kernels, strides and padding of the layers (a global pool's kernel is its map: left out)."""
    return [(l.name, None if l.kind == "global" else l.kernel, l.stride, l.padding) for l in plan.layers]


def canvas_plan(setup: Setup) -> tuple[Plan, tuple[int, int, int, int], tuple[int, int]]:
    """The smallest measuring canvas whose network has the same layers and padding as the real one:
    (its FMap-end sub-plan, margins (top, bottom, left, right), grid offset of image unit (0, 0))."""
    body = truncate(setup.plan, setup.fmap)
    _, h, w = setup.fmap_shape
    for round_end in (False, True):
        top, bottom, left, right = canvas_margins(setup.rf, (h, w), setup.image_hw, round_end=round_end)
        ch, cw = setup.image_hw[0] + top + bottom, setup.image_hw[1] + left + right
        cbody = truncate(setup.replan((ch, cw)), setup.fmap)
        offset = (top // int(setup.rf.jump[0]), left // int(setup.rf.jump[1]))
        _, gh, gw = cbody.layer(setup.fmap).out_shape
        if _structure(cbody) == _structure(body) and gh >= offset[0] + h and gw >= offset[1] + w:
            return cbody, (top, bottom, left, right), offset
    raise ArchlabError(
        f"{setup.plan.model}: a {ch}x{cw} measuring canvas changes the network's padding; "
        "the unit grid cannot be measured for this table (use the real network: leave out --canvas)"
    )


def _regions(setup: Setup, margins, canvas_hw):
    """Per sample: {"face": the face region on the canvas, "image": the image on the canvas}."""
    import numpy as np

    top, _, left, _ = margins
    ih, iw = setup.image_hw
    image = np.zeros(canvas_hw, dtype=bool)
    image[top : top + ih, left : left + iw] = True

    def regions(n: int) -> dict:
        face = np.zeros(canvas_hw, dtype=bool)
        face[top : top + ih, left : left + iw] = setup.probes.masks[n % len(setup.probes.masks)]
        return {"face": face, "image": image}

    return regions


def measuring_body(setup: Setup) -> tuple[Plan, tuple[int, int, int, int], tuple[int, int]]:
    """What the unit grid is measured on: (the FMap-end sub-plan, the canvas margins (top, bottom, left,
    right), the grid offset of image unit (0, 0)): the canvas's (:func:`canvas_plan`) or the real network's."""
    if setup.method == "canvas":
        return canvas_plan(setup)
    return truncate(setup.plan, setup.fmap), (0, 0, 0, 0), (0, 0)


def unit_grid(setup: Setup, todo: list, weights: Weights, notes: list[str], measured: tuple = ()) -> UnitGrid:
    """The unit grid with ``weights`` (random: a fresh initialisation per sample; trained: one network), on
    ``measured`` (:func:`measuring_body`, worked out here when not given)."""
    import numpy as np

    from archlab.nn.build import build_plan
    from archlab.nn.erf import for_input_gradients, frozen, unit_erfs

    body, margins, offset = measured or measuring_body(setup)
    top, bottom, left, right = margins
    ch, cw = setup.image_hw[0] + top + bottom, setup.image_hw[1] + left + right
    cache: dict = {}

    def network(n: int):
        key = n if weights.random else 0  # random weights: a fresh network per sample (BN gets folded)
        if key not in cache:
            cache.clear()
            net = frozen(build_plan(body))
            weights.apply(net, key, head_trained=False)
            cache[key] = for_input_gradients(net, body)
        return cache[key]

    acc, count, shares = unit_erfs(
        network,
        (ch, cw),
        (top, left),
        todo,
        setup.xs,
        offset=offset,
        workers=setup.workers,
        tick=setup.tick,
        kind=setup.erf,
        regions=_regions(setup, margins, (ch, cw)),
    )
    grid = _empty_grid(setup, (top, left, ch, cw), weights)
    ih, iw = setup.image_hw
    for u in todo:
        if not count[u]:
            continue
        m = acc[u] / count[u]
        grid.maps[u] = m.astype(np.float32)
        grid.erf_inside[u] = m[top : top + ih, left : left + iw].sum() / m.sum()
        grid.face_samples[u] = shares[u].get("face", [])
        grid.image_samples[u] = shares[u].get("image", []) if setup.method == "canvas" else []
        grid.face_share[u] = float(np.mean(grid.face_samples[u]))
        (cy, cx), (a, b) = mass_stats(m, -top, -left)
        grid.com[u] = (cy, cx)
        grid.r50[u], grid.r90[u] = a, b
    silent = [u for u in todo if not count[u]]
    if silent:
        notes.append(
            f"{len(silent)} unit(s) had zero gradient in every sample (e.g. {silent[0]}): their RF lies in padding"
        )
    return grid


def _empty_grid(setup: Setup, canvas: tuple[int, int, int, int], weights: Weights) -> UnitGrid:
    import numpy as np

    _, h, w = setup.fmap_shape
    return UnitGrid(
        shape=(h, w),
        centres=[[setup.rf.centre(i, j) for j in range(w)] for i in range(h)],
        rf_inside=[[setup.rf.inside_fraction(i, j, setup.image_hw) for j in range(w)] for i in range(h)],
        erf_inside=np.full((h, w), np.nan),
        com=np.full((h, w, 2), np.nan),
        r50=np.full((h, w), np.nan),
        r90=np.full((h, w), np.nan),
        canvas=canvas,
        samples=len(setup.xs),
        method=setup.method,
        weights=weights.kind,
        face_share=np.full((h, w), np.nan),
    )
