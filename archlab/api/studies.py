"""The studies (import torch): receptive fields and the head studies, latency sweeps and the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archlab.api.tables import Net, plan
from archlab.errors import OptionError
from archlab.timing import resources

if TYPE_CHECKING:  # result types, for readers and type checkers only
    from archlab.static.erf_records import RFStudy
    from archlab.studies.heads import HeadsStudy
    from archlab.studies.report_study import Study
    from archlab.studies.sweep import SweepResult


def rf(
    net: Net,
    *,
    heads=None,
    samples: int = 8,
    seed: int = 0,
    weights=None,
    key_map=None,
    image=None,
    units=None,
    progress: Callable[[int, int, str], Any] | None = None,
    method: str = "real",
    erf: str = "abs",
    fmap_end: str | None = None,
    strict: bool = False,
    max_memory=None,
    **overrides,
) -> RFStudy:
    """Effective receptive fields at FMap-end and the embedding-head study (``archlab rf``; imports torch).
    ``method``: ``real`` (the network as it runs) or ``canvas``; ``erf``: ``abs`` or ``grad2``; ``image``:
    ``faces`` (default), ``noise``, ``lfw``, a path or an array (:mod:`archlab.studies.rf_probes`).
    ``heads``: default all (gdconv, gap, fc) for a table, none for a module (the study swaps a table's head);
    ``fmap_end``: the layer that is FMap-end (default: the head's input, else the last map larger than 1x1).
    Refused first when it would not fit in memory (``max_memory``: "4G" instead of what is available)."""
    from archlab.studies.rf import rf_study
    from archlab.studies.sources import module_of

    n_heads = len(heads) if heads is not None else (0 if module_of(net) is not None else 3)
    need = resources.rf_need(plan(net, strict=strict, **overrides), units=units, heads=n_heads, samples=samples)
    resources.guard(need, max_memory)
    return rf_study(
        net,
        heads=heads,
        samples=samples,
        seed=seed,
        weights=weights,
        key_map=key_map,
        image=image,
        units=units,
        progress=progress,
        method=method,
        erf=erf,
        fmap_end=fmap_end,
        strict=strict,
        **overrides,
    )


def heads(
    net: str = "mobilefacenet",
    *,
    width: float | None = None,
    steps: int | None = None,
    seeds: int | None = None,
    heads=("gap", "gdconv", "fc"),
    out: str | Path | None = None,
    workers: int = 1,
    quick: bool = False,
    progress: Callable[[int, int, str], Any] | None = None,
    **settings,
) -> HeadsStudy:
    """The learned head study (``archlab heads``; imports torch): GAP, GDConv and FC heads trained from one
    backbone initialisation per seed on procedurally drawn faces, verified on held-out identities.

    Defaults: width 0.125, 600 steps, 3 seeds; ``quick``: :data:`archlab.studies.heads.config.QUICK` (one
    seed, fewer steps, fewer faces) for what is not given. ``out``: resumable by (seed, head); the trained
    state_dicts (``seed<S>/<head>.pt``) load strictly into ``build(net, width=width, head=<head>)``, and a grid
    of the drawn faces is written there. ``settings``: other :class:`archlab.studies.heads.HeadsConfig` fields."""
    from archlab.errors import OptionError
    from archlab.studies.heads import HeadsConfig, run_heads_study
    from archlab.studies.heads.config import QUICK
    from archlab.studies.heads.storage import save_face_grids

    base = dict(QUICK) if quick else {"steps": 600, "seeds": 3}
    given = {"steps": steps, "seeds": seeds, **settings}
    merged = {**base, **{k: v for k, v in given.items() if v is not None}}
    if workers < 1:
        raise OptionError(f"--workers must be >= 1, got {workers}")
    try:
        study = run_heads_study(
            str(net),
            width=0.125 if width is None else width,
            heads=heads,
            out=out,
            progress=progress,
            workers=workers,
            **merged,
        )
    except ValueError as e:
        raise OptionError(str(e)) from None
    study.quick = quick
    if out is not None:
        study.files = save_face_grids(out, HeadsConfig.from_dict(study.config))
    return study


def sweep(
    net,
    *,
    out: str | Path | None = None,
    fresh: bool = False,
    progress=None,
    baseline: str | dict | None = None,
    max_memory=None,
    **grid,
) -> SweepResult:
    """A latency sweep over a grid of configurations, resumable in ``out`` (``archlab sweep``).

    ``grid``: the :class:`archlab.studies.sweep.SweepOptions` fields (widths, stems, inputs, heads, threads,
    batches, runtimes, channels_last, budget, target, warmup, seed, ...); ``baseline``: ``"width=1.0,stem=2"`` or
    a mapping. Or pass a ready ``SweepOptions`` as ``net``. A torch module (or ``FILE.py:CALLABLE``) sweeps
    inputs, threads, batches and runtimes only (width, stem and head need a table). Refused first when the
    grid's networks would not fit in memory (``max_memory``); thread counts above the usable CPUs are capped."""
    from archlab.studies.sources import model_name, module_of
    from archlab.studies.sweep import SweepOptions, make_grid, parse_baseline, run_sweep

    if isinstance(net, SweepOptions):
        options = net
    else:
        base = parse_baseline(baseline) if isinstance(baseline, str) or baseline is None else dict(baseline)
        module = module_of(net)
        label = model_name(net) if module is not None else str(net)
        options = SweepOptions(net=label, baseline=base, module=module, **grid)
    options.threads = resources.sweep_threads(options.threads)
    resources.guard_sweep(make_grid(options), max_memory)
    return run_sweep(options, out=out, fresh=fresh, progress=progress)


def report(net: Net, *, quick: bool = False, progress: Callable[..., Any] | None = None, **options) -> Study:
    """The MobileFaceNets study of one network (``archlab report``; imports torch for the receptive fields).
    Render it with :func:`archlab.render.report_page.report_document`. A table only (its heads are varied).
    ``progress(done, total, what)``: its stages (:mod:`archlab.timing.progress`)."""
    from archlab.studies.report_study import run_study
    from archlab.studies.sources import module_of

    if not isinstance(net, (str, Path)) or module_of(net) is not None:
        raise OptionError("archlab report studies a table (its heads and widths): run `archlab extract` first")

    if "threads" in options:
        options["threads"] = resources.usable_threads(options["threads"])
    return run_study(str(net), quick=quick, progress=progress, **options)
