"""The learned part of the ``archlab report`` document: the head study trained on drawn faces (accuracy with
intervals beside each head's cost, the learned maps) and the ERF of the trained network against random weights;
and the figures and tables of an RF study (shared with the random-weight section)."""

from __future__ import annotations

from archlab.render.document import Document, Heading, Para, TableBlock


def rf_blocks(doc: Document, rf, dpi: int, stem: str) -> None:
    """The unit and head figures of an RF study and its tables (unmeasured units dropped)."""
    from archlab.render import report_plots as rp
    from archlab.render.erf_figures import plot_heads, plot_units
    from archlab.render.rf import rf_tables

    if rf.grid is not None and rf.grid.maps:
        doc.add(
            rp.figure_block(
                f"{stem}_units",
                plot_units(rf),
                "effective receptive fields of a corner and the centre FMap-end unit, and the share of "
                "each unit's ERF mass on the face region",
                (
                    "Top: ERF of a corner and the centre unit over the mean probe face (dashed white: the face "
                    "region; cyan: the theoretical RF, whole). Bottom: share of each unit's ERF mass on the face "
                    "region, trained (left) and random (right) weights"
                    if rf.random_grid is not None
                    else "Left, middle: ERF of a corner and the centre unit over the mean probe face (dashed white: "
                    "the face region; cyan: the theoretical RF, whole). Right: share of each unit's ERF mass on the "
                    "face region"
                )
                + "; the centre/corner ratio with its 95% interval.",
                dpi,
            )
        )
    if any(r.importance is not None for r in rf.heads.values()):
        doc.add(
            rp.figure_block(
                f"{stem}_heads",
                plot_heads(rf),
                "importance maps of the heads and the weight each gives each FMap-end position",
                "Top: what each head's output depends on (|d(u.e)/d input|) and its share on the face region. "
                "Bottom: the weight each head gives each FMap-end position (1 = uniform, as GAP), centre/corner "
                "with its 95% interval.",
                dpi,
            )
        )
    for t in rf_tables(rf, []):
        if t.columns and t.columns[0] == "i":  # unit grids: drop the rows of units not measured (--quick)
            t.rows = [r for r in t.rows if any(v is not None for v in r[1:])]
            keep = [0] + [j for j in range(1, len(t.columns)) if any(r[j] is not None for r in t.rows)]
            t.columns = [t.columns[j] for j in keep]
            t.rows = [[r[j] for j in keep] for r in t.rows]
        doc.add(TableBlock(t))


def learned_section(doc: Document, study, dpi: int) -> None:
    """The learned head study: accuracy with intervals and cost per head, learned maps, ERF random vs trained."""
    from archlab.render import report_plots as rp
    from archlab.render.heads import (
        QUICK_NOTE,
        differences_table,
        energy_table,
        maps_table,
        plot_learned_maps,
        verification_table,
    )

    notes = study.notes.get("learned", [])
    if study.learned is None and not notes:
        return
    doc.add(Heading("The head, learned: GAP vs GDConv vs FC trained on drawn faces"))
    for n in notes:
        doc.add(Para(n))
    hs = study.learned
    if hs is None:
        return
    c = hs.config
    doc.add(
        Para(
            f"`archlab heads` ({study.learned_source}): {c['net']} at width {c['width']:g}, {c['steps']} steps x "
            f"batch {c['batch']}, seeds {', '.join(map(str, hs.seeds))}; {c['train_identities']} x "
            f"{c['train_images']} training and {c['test_identities']} x {c['test_images']} held-out faces drawn "
            "by archlab; per seed every head starts from the same backbone and sees the same batches."
            + (f" {QUICK_NOTE}." if hs.quick else "")
        )
    )
    vt = verification_table(hs)
    vt.title = "the table the paper argues from, measured: verification (mean ± sd over seeds) and cost per head"
    vt.columns, vt.rows = vt.columns[:-1], [r[:-1] for r in vt.rows]  # no s/step: the report has no timings
    doc.add(TableBlock(vt))
    diffs = differences_table(hs)
    diffs.rows = [r for r in diffs.rows if r[1] in ("AUC", "TAR@FAR1e-3")]
    if diffs.rows:
        doc.add(TableBlock(diffs))
    if any(h != "gap" for h in hs.heads):
        doc.add(
            rp.figure_block(
                "learned_maps",
                plot_learned_maps(hs),
                "learned weight per FMap-end position of the GDConv and FC heads",
                "The weight each trained head gives each FMap-end position (GDConv: mean |kernel|; FC: mean "
                "|weight|), mean over seeds, mean 1 (GAP: 1 everywhere).",
                dpi,
            )
        )
    doc.add(TableBlock(maps_table(hs)))
    doc.add(TableBlock(energy_table(hs)))
    if study.learned_rf is not None:
        doc.add(
            Para(
                "The ERF of the trained GDConv network (first seed) against the same architecture with random "
                "weights: the share of each FMap-end unit's ERF on the face region of held-out drawn faces."
            )
        )
        rf_blocks(doc, study.learned_rf, dpi, "learned_rf")
