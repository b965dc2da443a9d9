"""Result records for render tests, made the cheap way (no timing): profiles, diffs, comparisons, a sweep read
from the committed docs/ CSV (widened with more configuration columns), and, with torch, a small RF study and
a cross-check."""

from __future__ import annotations

from pathlib import Path

import archlab

ROOT = Path(__file__).resolve().parents[2]
SWEEP_CSV = ROOT / "docs" / "sweep-mobilefacenet.csv"
COMPARE_ENTRIES = ("mobilefacenet", "mobilefacenet-s", "mobilenetv2:width=0.5,input=112x112")
COMPARE_VARIANTS = ("mobilefacenet:head=gap", "mobilefacenet:stem-pool=true")


def sweep_result(wide: bool = False):
    """The committed MobileFaceNet sweep; ``wide``: every row twice more, at another thread count and runtime,
    so that more configuration columns vary (a wider table)."""
    from archlab.storage.sweep_store import read_rows
    from archlab.studies.sweep import SweepResult

    rows = read_rows(SWEEP_CSV)
    if wide:
        rows = rows + [{**r, "threads": "1", "runtime": "onnxruntime", "batch": "8"} for r in rows]
    return SweepResult(
        run_id=rows[0]["run_id"],
        model="mobilefacenet",
        rows=rows,
        measured=[],
        kept=len(rows),
        baseline=None,
        environment=None,
        notes=[],
        status="complete",
    )


def comparison():
    return archlab.compare(*archlab.api.entries(list(COMPARE_ENTRIES), list(COMPARE_VARIANTS)))


def profile_tables(net: str = "mobilefacenet", depth: str = "row", **overrides):
    """The tables ``archlab profile`` prints (counts with memory and lint notes)."""
    from archlab.render.profile import profile_view

    prof = archlab.profile(net, **overrides)
    plan = prof.plan
    tables, _, _ = profile_view(prof, depth, archlab.memory(plan), archlab.lint(plan), archlab.api.units())
    return tables


def small_rf_study():
    """An RF study small enough for a test: 64x64 input, 1 sample, the key units, every head (imports torch)."""
    import torch

    torch.set_num_threads(1)
    return archlab.rf("mobilefacenet", samples=1, units="key", input="64x64")


def synthetic_rf_study(gdconv_spread: float = 0.03, samples: int = 8, weights: str | None = None):
    """An RFStudy of MobileFaceNet's geometry (the real theoretical RF and canvas) with made-up maps, built with
    numpy only: for figure tests. ``gdconv_spread``: how far the GDConv position weights stray from uniform."""
    import numpy as np

    from archlab.ir.structure import fmap_end
    from archlab.static.erf_records import HeadResult, RFStudy, UnitGrid
    from archlab.static.receptive import canvas_margins, receptive_fields

    plan = archlab.plan("mobilefacenet")
    fmap = fmap_end(plan)
    rf = receptive_fields(plan.layers)[fmap]
    c, h, w = plan.layer(fmap).out_shape
    ih, iw = plan.input[1], plan.input[2]
    top, bottom, left, right = canvas_margins(rf, (h, w), (ih, iw))
    ch, cw = ih + top + bottom, iw + left + right
    rng = np.random.default_rng(0)
    maps = {}
    for u in ((0, 0), (h // 2, w // 2)):
        m = np.zeros((ch, cw))
        cy, cx = rf.centre(*u)
        m[int(cy) + top - 5 : int(cy) + top + 5, int(cx) + left - 5 : int(cx) + left + 5] = 1
        maps[u] = m / m.sum()
    share = np.full((h, w), np.nan)
    for u in maps:
        share[u] = 0.9
    grid = UnitGrid(
        shape=(h, w),
        centres=[[rf.centre(i, j) for j in range(w)] for i in range(h)],
        rf_inside=[[rf.inside_fraction(i, j, (ih, iw)) for j in range(w)] for i in range(h)],
        erf_inside=share,
        com=np.stack(np.meshgrid(np.arange(h) * 16.0, np.arange(w) * 16.0, indexing="ij"), axis=-1),
        r50=np.full((h, w), 20.0),
        r90=np.full((h, w), 40.0),
        canvas=(top, left, ch, cw),
        maps=maps,
        samples=samples,
        face_share=share,
        face_samples={u: [0.9] * samples for u in maps},
    )

    def head(name, weight):
        importance = np.ones((ih, iw)) / (ih * iw)
        return HeadResult(
            name,
            1000,
            990,
            1000,
            10,
            128,
            (),
            importance,
            (55.5, 55.5),
            0.0,
            30.0,
            50.0,
            weight / weight.sum(),
            "random" if weights is None else "trained",
        )

    noisy = 1 + rng.uniform(-gdconv_spread, gdconv_spread, (h, w))
    heads = {"gdconv": head("gdconv", noisy), "gap": head("gap", np.ones((h, w))), "fc": head("fc", np.ones((h, w)))}
    return RFStudy(
        "mobilefacenet",
        {},
        (ih, iw),
        fmap,
        (c, h, w),
        rf,
        grid,
        heads,
        samples,
        0,
        weights,
        "synthetic",
        np.zeros((ih, iw, 3)),
        "synthetic",
    )
