"""The MobileFaceNets study (Chen et al. 2018) end to end, for any table: what ``archlab report`` renders.

Sections, each a record here (rendering: :mod:`archlab.render.report`):

* **architecture**: the layer table as the paper prints it (input, operator, t, c, n, s) with params, MAdds
  and the theoretical receptive field of each row;
* **counts** against the published figures: the table, the shipped tables that extend it (MobileFaceNet-M
  and -S for MobileFaceNet), and face-crop tables (input 112x112) at the other standard crop, 112x96;
* **heads**: GDConv vs GAP vs FC after FMap-end: cost (no torch), and the receptive-field study of
  :func:`archlab.analysis.erf.rf_study` (effective RF of FMap-end units, what each head looks at);
* **first layer**: stride 2 vs stride 1 vs stride 1 + 3x3 stride-2 max-pool: FMap-end size, MAdds, params,
  peak activation memory and latency;
* **widths**: params, MAdds and latency against the width multiplier (the sweep's widths at stem 2);
* conventions and the environment.

Latency of the first-layer and width configurations is measured in **one** interleaved run
(:func:`archlab.studies.compare.time_plans`, the table at width 1.0 and stem 2 the baseline in every round),
so every ratio is paired within rounds. ``quick=True`` skips the latency and measures the effective receptive
fields with 2 samples at the key units (corners, edge midpoints, centre) instead of 8 at every unit, and not at
all above 1G MAdds (``QUICK_RF_MAX_MADDS``).
"""

from __future__ import annotations

from collections.abc import Callable

from archlab.errors import ArchlabError
from archlab.ir.expand import expand
from archlab.ir.overrides import Entry, Overrides
from archlab.ir.structure import head_row
from archlab.spec.table import load_table
from archlab.static.erf_records import RFStudy
from archlab.studies.compare import CompareRecord, LatencyRun, record, time_plans
from archlab.studies.report_records import (  # noqa: F401  (re-exported: the study's records)
    STEMS,
    ArchRow,
    Config,
    HeadCost,
    Study,
    architecture,
    environment,
    family,
    head_costs,
    operator,
    table_source,
)
from archlab.timing.machine import now
from archlab.timing.progress import Progress, as_progress, within

FACE_CROPS = {(112, 112): "112x96"}  # a face-crop table's other standard aligned crop
QUICK_RF = {"samples": 2, "units": "key"}
QUICK_RF_MAX_MADDS = 1_000_000_000  # --quick measures no ERF above this (Xception, 8.4G MAdds: 2+ minutes)
FULL_RF = {"samples": 8, "units": "all"}


# -- the study ----------------------------------------------------------------------------------------------


def run_study(
    net,
    *,
    quick: bool = False,
    widths=None,
    threads: int = 1,
    budget: float | None = None,
    rf_samples: int | None = None,
    seed: int = 0,
    progress: Progress | Callable[[str], object] | None = None,
    learned: bool = True,
    heads_from: str | None = None,
) -> Study:
    """Run every section for ``net`` (a shipped name or a table path). See the module docstring.

    ``budget``: seconds of latency rounds (default 60; ignored with ``quick``); ``rf_samples``: ERF samples
    (default 2 with ``quick``, else 8); ``widths``: default the sweep's (0.5 ... 2.0). ``learned``: the learned
    head study (:mod:`archlab.studies.report_learned`; face tables at 112x112 only), read from the
    ``archlab heads --out`` folder ``heads_from`` when given, else trained (``quick``: one seed, few steps).
    ``progress(done, total, what)``: the stages ``counts``, ``receptive fields`` (the rf study's steps), ``build
    and warm up`` (one step per configuration, named by its label) and ``interleaved rounds`` (seconds of the
    budget)."""
    from archlab.studies.report_learned import learned_study
    from archlab.studies.sweep import DEFAULT_WIDTHS

    say = as_progress(progress) or (lambda done, total, what: None)
    say(0, 1, f"counts: {net} and its family, the first-layer and width configurations")
    spec = load_table(net)
    name = str(net)
    notes: dict[str, list[str]] = {}
    base = record(Entry(name, (), spec.name), spec)
    counts = [base] + [record(Entry(other, (), other)) for other in family(spec)]
    alt = FACE_CROPS.get((spec.input[0], spec.input[1]))
    if alt:
        counts.append(record(Entry(name, (("input", alt),), f"{spec.name}:input={alt}"), spec))
    rf_settings = dict(QUICK_RF if quick else FULL_RF)
    if rf_samples is not None:
        rf_settings["samples"] = rf_samples
    heads, rf = _head_study(spec, base, rf_settings, quick, seed, notes, say)
    widths = tuple(dict.fromkeys(float(w) for w in (widths or DEFAULT_WIDTHS)))
    configs = _configs(spec, name, widths, notes)
    stems = [configs[(1.0, s)] for s, _ in STEMS if (1.0, s) in configs]
    width_cfgs = [configs[(w, "2")] for w in widths if (w, "2") in configs]
    run = None
    if quick:
        notes.setdefault("latency", []).append("latency not measured (--quick)")
    elif configs:
        run = _time_configs(list(configs.values()), threads, budget or 60.0, seed, say)
    study = Study(
        name=name,
        model=spec.name,
        description=spec.description,
        source=dict(spec.source or {}),
        file=str(spec.file),
        quick=quick,
        generated=now(),
        base=base,
        arch=architecture(spec, base.plan),
        defaults=dict(spec.defaults),
        counts=counts,
        heads=heads,
        rf=rf,
        rf_settings=rf_settings,
        stems=stems,
        widths=width_cfgs,
        latency=run,
        environment=environment(),
        notes=notes,
    )
    study.sweep_rows = sweep_rows(study)
    study.table = table_source(name)
    if learned or heads_from is not None:
        study.learned, study.learned_rf, study.learned_source = learned_study(
            name, base.plan, quick=quick, heads_from=heads_from, seed=seed, notes=notes, say=say
        )
    return study


def _head_study(
    spec, base: CompareRecord, rf_settings: dict, quick: bool, seed: int, notes: dict, say: Callable
) -> tuple[list[HeadCost], RFStudy | None]:
    """The heads' cost and (when it applies) the receptive-field study."""
    if spec.head is None:
        notes["heads"] = [f"{spec.name} has no head (its table has no `head:`): no head study"]
        return [], None
    heads = head_costs(spec)
    if len(base.plan.outputs) > 1:
        notes["heads"] = [f"{spec.name} has {len(base.plan.outputs)} outputs: no receptive-field study"]
        return heads, None
    if quick and base.totals["madds"] > QUICK_RF_MAX_MADDS:
        notes["heads"] = [
            f"effective receptive fields not measured with --quick above "
            f"{QUICK_RF_MAX_MADDS / 1e9:g}G MAdds ({spec.name}: {base.totals['madds'] / 1e9:.1f}G); "
            "run without --quick for them"
        ]
        return heads, None
    from archlab.studies.rf import rf_study

    try:
        return heads, rf_study(
            spec,
            samples=rf_settings["samples"],
            units=rf_settings["units"],
            seed=seed,
            progress=within(say, "receptive fields"),  # its stages: receptive fields, setup / units / heads
        )
    except ArchlabError as e:
        notes["heads"] = [f"receptive-field study skipped: {e}"]
        return heads, None


def _configs(spec, name: str, widths: tuple[float, ...], notes: dict) -> dict[tuple, Config]:
    """The first-layer configurations (width 1.0, every stem) and the widths (stem 2), counted; a
    configuration the table cannot take is a note."""
    configs: dict[tuple, Config] = {}
    for width, stem in [(1.0, s) for s, _ in STEMS] + [(w, "2") for w in widths]:
        if (width, stem) in configs:
            continue
        opts = {"width": width, **({"stem_pool": True} if stem == "1+pool" else {"stem_stride": int(stem)})}
        label = f"{spec.name}:width={width:g}," + ("stem_pool=true" if stem == "1+pool" else f"stem_stride={stem}")
        try:
            expand(spec, Overrides.from_kwargs(**opts))
        except ArchlabError as e:
            notes.setdefault("first_layer" if width == 1.0 else "widths", []).append(f"{label}: {e}")
            continue
        configs[(width, stem)] = Config(width, stem, record(Entry(name, tuple(opts.items()), label), spec))
    return configs


def _time_configs(todo: list[Config], threads: int, budget: float, seed: int, say: Callable) -> LatencyRun:
    """One interleaved run of every configuration, the table at width 1.0 and stem 2 the baseline."""
    base_i = next((i for i, c in enumerate(todo) if (c.width, c.stem) == (1.0, "2")), 0)
    run = time_plans(
        [c.record.plan for c in todo],
        baseline=base_i,
        threads=threads,
        budget=budget,
        seed=seed,
        labels=[c.label for c in todo],
        progress=say,
    )
    for c, res in zip(todo, run.results):
        c.result = res
        c.record.latency, c.record.ratio, c.record.converged = res.latency, res.ratio, res.converged
    return run


def sweep_rows(study: Study) -> list[dict]:
    """The timed configurations as typed sweep rows (:func:`archlab.render.sweep_plots.plot_sweep` draws them)."""
    from archlab.storage.sweep_store import typed_row
    from archlab.studies.sweep import Config as SweepConfig
    from archlab.studies.sweep import make_row

    if study.latency is None:
        return []
    rows = []
    seen = set()
    row = head_row(study.base.plan)
    head = row.label.split(" ")[0] if row is not None else "none"
    for c in [*study.widths, *study.stems]:
        if c.result is None or id(c) in seen:
            continue
        seen.add(id(c))
        hw = (c.record.input[1], c.record.input[2])
        cfg = SweepConfig(study.model, c.width, c.stem, hw, head, study.latency.threads, 1, "eager", False)
        counts = {"params": c.record.totals["params"], "madds": c.record.totals["madds"]}
        rows.append(typed_row(make_row(cfg, counts, c.result, None, "report")))
    return rows
