"""The receptive-field study of ``archlab rf``: effective RFs at FMap-end and the embedding-head study.

MobileFaceNets (Chen et al. 2018, Sec. 3.1) argue that global average pooling weighs every FMap-end unit
equally although a corner unit's receptive field is centred on the image corner, where it sees less of the
face. This study measures where each unit's *effective* receptive field (ERF; Luo et al. 2016) lies:

* **unit grid** (:mod:`archlab.studies.rf_units`): for each FMap-end unit, its ERF
  (:func:`archlab.nn.erf.unit_erfs`) on the real network (default) or on an enlarged zero canvas
  (``method="canvas"``, with its caveat): per unit the share of its mass on the face region of the probe
  (:mod:`archlab.studies.rf_probes`), on the image (canvas), its centre of mass and the radii holding 50% and
  90% of it; the centre/corner ratio of the face share with a 95% interval over the samples;
* **heads**: the same backbone with each head (GAP, GDConv, FC): what its output depends on and the weight it
  gives each FMap-end position (:func:`archlab.nn.erf.head_importance`), each ratio with its interval over
  samples, and its cost.

Random weights (He-normal init per sample, eval mode) show the architecture's geometry, not what a trained
model learned; ``weights=`` loads a trained state_dict (strictly) instead, and the unit grid is then measured
with random weights too, side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from archlab.errors import OptionError
from archlab.ir.expand import expand
from archlab.ir.structure import head_row
from archlab.nn.erf import ERF_KINDS, Weights
from archlab.spec.rows.head import POOLS
from archlab.static.counts import head_cost
from archlab.static.erf_records import (
    HeadResult,
    RFStudy,
    UnitGrid,
    centre_corner_ratio,
    inner_ring_ratio,
    interval,
    mass_stats,
)
from archlab.static.receptive import receptive_fields
from archlab.studies.rf_inputs import units_of
from archlab.studies.rf_probes import make_probes
from archlab.studies.rf_units import CANVAS_CAVEAT, METHODS, REAL_NOTE, Setup, measuring_body, unit_grid
from archlab.timing.progress import Stage

HEADS = POOLS  # gdconv, gap, fc
Progress = Callable[[int, int, str], None]  # (steps done, steps in all, "stage: detail"): timing.progress
SETUP_STEPS = 2  # the inputs, the network the unit grid is measured on (after the inputs are read and checked)


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
    method: str = "real",
    erf: str = "abs",
    fmap_end: str | None = None,
    strict: bool = False,
    **overrides,
) -> RFStudy:
    """Receptive fields at FMap-end and the embedding-head study.

    ``net``: a shipped name, a table path, a NetSpec or a torch module (its own weights, or ``weights`` loaded
    into a copy; no head study: the heads vary a table's head); ``overrides``: as :func:`archlab.plan` (``head``
    there is the trained head, the one ``weights`` fit). ``heads``: the heads to compare (default all for a
    table, none for a module; empty: none). ``fmap_end``: the layer that is FMap-end (default: the head's input;
    for a module, walking back from the output, the first map larger than 1x1); ``strict``: ops without a rule
    are an error.
    ``weights``: a state_dict or a checkpoint path; ``key_map``: a :class:`archlab.nn.weights.KeyMap` or a path.
    ``image``: the probes (:mod:`archlab.studies.rf_probes`): ``"faces"`` (default, None: drawn held-out
    faces), ``"noise"``, ``"lfw"``, a path or an (H, W, 3) array in [0, 1]. ``units``: FMap-end units to
    measure: ``"all"`` (default), ``"key"`` (corners, edge midpoints, centre), a list such as
    ``[(0, 0), (3, 3)]``, or ``[]`` for none. ``method``: ``"real"`` (the network as it runs) or ``"canvas"``
    (an enlarged zero canvas; see :mod:`archlab.studies.rf_units`); ``erf``: ``"abs"`` (|grad|) or ``"grad2"``
    (squared gradient, Luo et al.).

    ``progress(done, total, "stage: detail")`` (:mod:`archlab.timing.progress`), once the plan, the weights
    and the probes are read (bad input fails before any progress), stages in order: ``setup``
    (:data:`SETUP_STEPS`: the inputs, the measuring network), ``units`` (per sample its network and forward
    pass, then each unit), with trained weights ``units, random weights`` (the same), and ``heads`` (heads x
    samples).

    Runs on torch's intra-op thread count as that many single-threaded workers (units, heads in parallel):
    every core stays busy without the barrier waits of multi-threaded kernels, which cost the most on a
    busy machine.
    """
    import torch

    workers = torch.get_num_threads()
    torch.set_num_threads(1)
    options = dict(
        samples=samples,
        seed=seed,
        weights=weights,
        key_map=key_map,
        image=image,
        units=units,
        progress=progress,
        workers=workers,
        method=method,
        erf=erf,
        overrides=overrides,
        fmap_layer=fmap_end,
        strict=strict,
    )
    try:
        return _study(net, None if heads is None else tuple(heads), options)
    finally:
        torch.set_num_threads(workers)


def _check_options(samples: int, method: str, erf: str) -> None:
    if samples < 1:
        raise OptionError(f"--samples must be >= 1, got {samples}")
    if method not in METHODS:
        raise OptionError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if erf not in ERF_KINDS:
        raise OptionError(f"--erf must be one of {', '.join(ERF_KINDS)}, got {erf!r}")


def _study(net, heads: tuple[str, ...] | None, o: dict) -> RFStudy:
    from archlab.studies.sources import module_of

    _check_options(o["samples"], o["method"], o["erf"])
    module = module_of(net)
    heads = (() if module is not None else HEADS) if heads is None else heads
    for h in heads:
        if h not in HEADS:
            raise OptionError(f"--head must be one of {', '.join(HEADS)} or all, got {h!r}")
    setup, todo, body, inputs, notes = _setup(net if module is None else module, module is not None, heads, o)
    progress, seed, n = o["progress"], o["seed"], len(setup.xs)
    grid = random_grid = None
    if todo:
        first = f"{len(todo)} unit(s) x {n} sample(s); now sample 1's network and forward pass"
        steps = (len(todo) + 1) * n  # per sample: its network and forward pass, then each unit's backward pass
        grid = unit_grid(_staged(setup, progress, "units", steps, first), todo, setup.weights, notes, body)
    if todo and not setup.weights.random:
        staged = _staged(setup, progress, "units, random weights", steps, first)
        random_grid = unit_grid(staged, todo, Weights(None, seed, None), notes, body)
    results = {}
    if heads:
        results = _heads(_staged(setup, progress, "heads", len(heads) * n, ", ".join(heads)), heads, seed)
    notes = _notes(setup, grid, results) + notes
    plan, probes = setup.plan, setup.probes
    return RFStudy(
        model=plan.model,
        options=dict(plan.options),
        image_hw=setup.image_hw,
        fmap=setup.fmap,
        fmap_shape=setup.fmap_shape,
        rf=setup.rf,
        grid=grid,
        heads=results,
        samples=n,
        seed=seed,
        weights=setup.weights.label,
        inputs=inputs,
        image=probes.backdrop,
        image_source=probes.source,
        notes=notes,
        method=setup.method,
        erf=setup.erf,
        random_grid=random_grid,
        face_region=probes.mean_mask,
        face_area=probes.face_area,
    )


def _setup(net, is_module: bool, heads: tuple[str, ...], o: dict) -> tuple[Setup, list, tuple, str, list[str]]:
    """What the study starts from. The inputs are read and checked first, before any progress (a bad one is one
    line): the plan and FMap-end, the weights, the probes. Then the stage ``setup``: the inputs and the network
    the unit grid is measured on (the canvas's plan with ``method="canvas"``). Returns (the setup, the units to
    measure, that network, the inputs' description, notes)."""
    from archlab.nn.erf import sample_inputs
    from archlab.studies.rf_inputs import module_parts, table_parts

    parts = module_parts if is_module else table_parts
    spec, ov, replan, plan, fmap, state, label = parts(
        net, heads, o["weights"], o["key_map"], o["fmap_layer"], o["strict"], o["overrides"]
    )
    probes = make_probes(o["image"], (plan.input[1], plan.input[2]), o["samples"], o["seed"])
    _, h, w = plan.layer(fmap).out_shape
    todo = units_of(o["units"], h, w)
    stage = Stage(o["progress"], "setup", SETUP_STEPS).start(f"{o['samples']} input(s): {probes.kind}")
    xs, inputs = sample_inputs(plan.input, o["samples"], o["seed"], probes.user_image, probes.images)
    if probes.kind in ("faces", "lfw"):
        inputs = f"{probes.source}; {inputs}"
    stage.step("the measuring canvas" if o["method"] == "canvas" else "the network up to FMap-end")
    setup = Setup(
        spec,
        ov,
        replan,
        plan,
        fmap,
        receptive_fields(plan.layers)[fmap],
        xs,
        Weights(state, o["seed"], label, own=is_module and o["weights"] is None),
        o["workers"],
        lambda what: None,
        probes,
        o["method"],
        o["erf"],
    )
    body = measuring_body(setup) if todo else ()
    stage.step("done")
    return setup, todo, body, inputs, list(probes.notes)


def _staged(setup: Setup, progress: Progress | None, stage: str, total: int, first: str) -> Setup:
    """``setup`` whose ticks are the steps of a new stage (started now, ``first`` saying what runs first)."""
    return replace(setup, tick=Stage(progress, stage, total).start(first).step)


def _heads(setup: Setup, heads: tuple[str, ...], seed: int) -> dict[str, HeadResult]:
    from archlab.nn.erf import parallel_map

    base = head_row(setup.plan)
    trained_pool = base.layers[0].split(".")[1] if base is not None and base.layers else None
    return dict(parallel_map(lambda name: _head(setup, name, trained_pool, seed), heads, setup.workers))


def _head(setup: Setup, name: str, trained_pool: str | None, seed: int) -> HeadResult:
    import numpy as np

    from archlab.nn.build import build_plan
    from archlab.nn.erf import frozen, head_importance

    assert setup.spec is not None  # heads vary a table's head; a traced module has none to compare
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
    masks = setup.probes.masks
    imp, used, pos, per_sample, face = head_importance(
        frozen(build_plan(hplan)),
        hplan,
        setup.xs,
        setup.weights,
        setup.fmap_shape,
        head_trained=trained,
        seed=seed,
        tick=lambda what: setup.tick(f"{name} {what}"),
        kind=setup.erf,
        face=lambda n: masks[n % len(masks)],
    )
    if used:
        res.importance = imp / used
        res.com, (res.r50, res.r90) = mass_stats(res.importance)
        ih, iw = setup.image_hw
        res.com_offset = max(abs(res.com[0] - (ih - 1) / 2) / ih, abs(res.com[1] - (iw - 1) / 2) / iw)
        res.face_share = interval(face) if face else None
    res.position_weight = pos / len(setup.xs)
    if all(p.min() > 0 for p in per_sample):
        res.position_cc = interval([centre_corner_ratio(p) for p in per_sample])
        if min(per_sample[0].shape) >= 3:
            res.position_ir = interval([inner_ring_ratio(p) for p in per_sample])
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
    if grid is not None:
        notes.append(CANVAS_CAVEAT if setup.method == "canvas" else REAL_NOTE)
    if grid is not None and rf.global_context and setup.method == "canvas":
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
