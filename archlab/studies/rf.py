"""The receptive-field study of ``archlab rf``: effective RFs at FMap-end and the embedding-head study.

MobileFaceNets (Chen et al. 2018, Sec. 3.1) argue that global average pooling weighs every FMap-end unit
equally although a corner unit's receptive field is centred on the image corner, where its *effective*
receptive field (ERF; Luo et al. 2016) falls largely on zero padding. This study measures that:

* **unit grid**: for each FMap-end unit, its ERF (:func:`archlab.nn.erf.unit_erfs`) measured on an enlarged
  zero *canvas* with the image in it, large enough to hold every unit's theoretical RF, so the mass that falls
  outside the image (on what the real network sees as padding) is visible: per unit the share of mass on the
  image, the centre of mass and the radii holding 50% and 90% of it;
* **heads**: the same backbone with each head (GAP, GDConv, FC): what its output depends on and the weight it
  gives each FMap-end position (:func:`archlab.nn.erf.head_importance`), and its cost.

Random weights (He-normal init, eval mode) show the architecture's geometry, not what a trained model
learned; ``weights=`` loads a trained state_dict (strictly) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from archlab.errors import ArchlabError, OptionError
from archlab.ir.expand import expand
from archlab.ir.overrides import Overrides
from archlab.ir.plan import Plan
from archlab.ir.structure import head_row, truncate
from archlab.nn.erf import Weights
from archlab.spec.rows.head import POOLS
from archlab.spec.table import NetSpec
from archlab.static.counts import head_cost
from archlab.static.erf_records import HeadResult, RFStudy, UnitGrid, mass_stats
from archlab.static.receptive import RF, canvas_margins, receptive_fields

HEADS = POOLS  # gdconv, gap, fc
Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what was done): after every step


def plan_steps(n_units: int, n_heads: int, samples: int) -> int:
    """How many progress steps :func:`rf_study` reports."""
    return samples * (n_units + n_heads)


@dataclass
class Setup:
    """What every part of one study shares. ``replan(hw)``: the plan at another input (the measuring canvas):
    the table expanded, or the module traced, at that size."""

    spec: NetSpec | None  # None for a traced module (it has no head to vary)
    overrides: Overrides
    replan: Callable[[tuple[int, int]], Plan]
    plan: Plan
    fmap: str
    rf: RF
    xs: list
    weights: Weights
    workers: int
    tick: Callable[[str], None]

    @property
    def fmap_shape(self) -> tuple[int, int, int]:
        c, h, w = self.plan.layer(self.fmap).out_shape
        return c, h, w

    @property
    def image_hw(self) -> tuple[int, int]:
        return self.plan.input[1], self.plan.input[2]


def rf_study(
    net,
    *,
    heads=None,
    samples: int = 8,
    seed: int = 0,
    weights=None,
    key_map=None,
    image=None,
    units=None,
    progress: Progress | None = None,
    fmap_end: str | None = None,
    strict: bool = False,
    **overrides,
) -> RFStudy:
    """Receptive fields at FMap-end and the embedding-head study.

    ``net``: a shipped name, a table path, a NetSpec or a torch module (its own weights, or ``weights``
    loaded into a copy; no head study: the heads vary a table's head); ``overrides``: as :func:`archlab.plan`
    (``head`` there is the trained head, the one ``weights`` fit). ``heads``: the heads to compare (default
    all for a table, none for a module; empty: none). ``fmap_end``: the layer that is FMap-end (default: the
    head's input; for a module, walking back from the output, the first map larger than 1x1).
    ``weights``: a state_dict or a checkpoint path; ``key_map``: a :class:`archlab.nn.weights.KeyMap` or a path.
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
        return _study(
            net,
            heads=None if heads is None else tuple(heads),
            samples=samples,
            seed=seed,
            weights=weights,
            key_map=key_map,
            image=image,
            units=units,
            progress=progress,
            workers=workers,
            overrides=overrides,
            fmap_layer=fmap_end,
            strict=strict,
        )
    finally:
        torch.set_num_threads(workers)


def _study(
    net, *, heads, samples, seed, weights, key_map, image, units, progress, workers, overrides, fmap_layer, strict
) -> RFStudy:
    from archlab.nn.erf import sample_inputs
    from archlab.studies.rf_inputs import backdrop as read_backdrop
    from archlab.studies.rf_inputs import module_parts, table_parts, units_of
    from archlab.studies.sources import module_of

    if samples < 1:
        raise OptionError(f"--samples must be >= 1, got {samples}")
    module = module_of(net)
    heads = (() if module is not None else HEADS) if heads is None else tuple(heads)
    for h in heads:
        if h not in HEADS:
            raise OptionError(f"--head must be one of {', '.join(HEADS)} or all, got {h!r}")
    if module is not None:
        spec, ov, replan, plan, fmap, state, label = module_parts(
            module, heads, weights, key_map, fmap_layer, strict, overrides
        )
    else:
        spec, ov, replan, plan, fmap, state, label = table_parts(
            net, heads, weights, key_map, fmap_layer, strict, overrides
        )
    backdrop, source, user_image, notes = read_backdrop(image, plan.input[1:])
    xs, inputs = sample_inputs(plan.input, samples, seed, user_image)
    c, h, w = plan.layer(fmap).out_shape
    todo = units_of(units, h, w)
    setup = Setup(
        spec,
        ov,
        replan,
        plan,
        fmap,
        receptive_fields(plan.layers)[fmap],
        xs,
        Weights(state, seed, label),
        workers,
        _ticker(progress, plan_steps(len(todo), len(heads), samples)),
    )
    grid = _unit_grid(setup, todo, notes) if todo else None
    results = _heads(setup, heads, seed)
    notes = _notes(setup, grid, results) + notes
    return RFStudy(
        model=plan.model,
        options=dict(plan.options),
        image_hw=setup.image_hw,
        fmap=fmap,
        fmap_shape=setup.fmap_shape,
        rf=setup.rf,
        grid=grid,
        heads=results,
        samples=samples,
        seed=seed,
        weights=label,
        inputs=inputs,
        image=backdrop,
        image_source=source,
        notes=notes,
    )


def _ticker(progress: Progress | None, total: int) -> Callable[[str], None]:
    """One call per finished step -> ``progress(done, total, what)``."""
    done = [0]

    def tick(what: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total, what)

    return tick


def _structure(plan: Plan) -> list:
    """Names, kernels, strides and padding of the layers (a global pool's kernel is its map: left out)."""
    return [(l.name, None if l.kind == "global" else l.kernel, l.stride, l.padding) for l in plan.layers]


def _canvas(setup: Setup) -> tuple[Plan, tuple[int, int, int, int], tuple[int, int]]:
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
        "the unit grid cannot be measured for this table"
    )


def _unit_grid(setup: Setup, todo: list, notes: list[str]) -> UnitGrid:
    import numpy as np

    from archlab.nn.build import build_plan
    from archlab.nn.erf import for_input_gradients, frozen, unit_erfs

    cbody, (top, bottom, left, right), offset = _canvas(setup)
    ch, cw = setup.image_hw[0] + top + bottom, setup.image_hw[1] + left + right
    cache: dict = {}

    def network(n: int):
        key = n if setup.weights.random else 0  # random weights: a fresh network per sample (BN gets folded)
        if key not in cache:
            cache.clear()
            body = frozen(build_plan(cbody))
            setup.weights.apply(body, key, head_trained=False)
            cache[key] = for_input_gradients(body, cbody)
        return cache[key]

    acc, count = unit_erfs(
        network, (ch, cw), (top, left), todo, setup.xs, offset=offset, workers=setup.workers, tick=setup.tick
    )
    _, h, w = setup.fmap_shape
    ih, iw = setup.image_hw
    grid = UnitGrid(
        shape=(h, w),
        centres=[[setup.rf.centre(i, j) for j in range(w)] for i in range(h)],
        rf_inside=[[setup.rf.inside_fraction(i, j, setup.image_hw) for j in range(w)] for i in range(h)],
        erf_inside=np.full((h, w), np.nan),
        com=np.full((h, w, 2), np.nan),
        r50=np.full((h, w), np.nan),
        r90=np.full((h, w), np.nan),
        canvas=(top, left, ch, cw),
        samples=len(setup.xs),
    )
    for u in todo:
        if not count[u]:
            continue
        m = acc[u] / count[u]
        grid.maps[u] = m.astype(np.float32)
        grid.erf_inside[u] = m[top : top + ih, left : left + iw].sum() / m.sum()
        (cy, cx), (a, b) = mass_stats(m, -top, -left)
        grid.com[u] = (cy, cx)
        grid.r50[u], grid.r90[u] = a, b
    silent = [u for u in todo if not count[u]]
    if silent:
        notes.append(
            f"{len(silent)} unit(s) had zero gradient in every sample (e.g. {silent[0]}): their RF lies in padding"
        )
    return grid


def _heads(setup: Setup, heads: tuple[str, ...], seed: int) -> dict[str, HeadResult]:
    from archlab.nn.erf import parallel_map

    base = head_row(setup.plan)
    trained_pool = base.layers[0].split(".")[1] if base is not None and base.layers else None
    return dict(parallel_map(lambda name: _head(setup, name, trained_pool, seed), heads, setup.workers))


def _head(setup: Setup, name: str, trained_pool: str | None, seed: int) -> HeadResult:
    import numpy as np

    from archlab.nn.build import build_plan
    from archlab.nn.erf import frozen, head_importance

    assert setup.spec is not None  # heads are refused for modules
    hplan = expand(setup.spec, replace(setup.overrides, head=name))
    hrow = head_row(hplan)
    res = HeadResult(
        name=name,
        out_dim=int(np.prod(hplan.output_shape)),
        layers=tuple(hrow.layers if hrow else ()),
        **head_cost(hplan),
    )
    trained = not setup.weights.random and name == trained_pool
    res.weights = "random" if setup.weights.random else ("trained" if trained else "backbone")
    imp, used, pos = head_importance(
        frozen(build_plan(hplan)),
        hplan,
        setup.xs,
        setup.weights,
        setup.fmap_shape,
        head_trained=trained,
        seed=seed,
        tick=lambda what: setup.tick(f"head {name} {what}"),
    )
    if used:
        res.importance = imp / used
        res.com, (res.r50, res.r90) = mass_stats(res.importance)
        ih, iw = setup.image_hw
        res.com_offset = max(abs(res.com[0] - (ih - 1) / 2) / ih, abs(res.com[1] - (iw - 1) / 2) / iw)
    res.position_weight = pos / len(setup.xs)
    return res


def _notes(setup: Setup, grid: UnitGrid | None, results: dict[str, HeadResult]) -> list[str]:
    notes = []
    if setup.weights.random:
        notes.append(
            "random weights (He-normal init, eval mode): the maps show the architecture's geometry, "
            "not what a trained model learned; --weights FILE loads a trained state_dict"
        )
    else:
        back = [n for n, r in results.items() if r.weights == "backbone"]
        if back:
            trained = next((n for n, r in results.items() if r.weights == "trained"), "table's")
            notes.append(
                f"heads {', '.join(back)}: trained backbone, random head (the checkpoint holds the {trained} head)"
            )
    rf, image_hw = setup.rf, setup.image_hw
    if grid is not None and rf.global_context:
        notes.append(
            "squeeze-and-excitation gates pool the whole map: on the measuring canvas they see the zero "
            "margin too, so the unit grid describes the network on the enlarged canvas"
        )
    if grid is not None:
        covers = all(abs(f - grid.rf_inside[0][0]) < 1e-12 for row in grid.rf_inside for f in row)
        if covers and rf.size[0] >= 2 * image_hw[0] - 1 and rf.size[1] >= 2 * image_hw[1] - 1:
            notes.append(
                f"theoretical RF {rf.label()} px (jump {rf.label('jump')}): every FMap-end unit's RF covers "
                "the whole image, so it cannot tell units apart; the effective RF does"
            )
    return notes
