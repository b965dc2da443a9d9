"""The document of ``archlab report``: the MobileFaceNets study of one network."""

from __future__ import annotations

from archlab.render.compare_page import env_lines
from archlab.render.document import Bullets, Document, Heading, Para, TableBlock
from archlab.render.memory import human_bytes
from archlab.render.report_learned import learned_section, rf_blocks
from archlab.render.tables import Table, shape_str
from archlab.render.text import ms, pct, ratio, rf_text, short, width_text

REPORT_DPI = 80  # figures of the report (the committed example stays small)


def _cell(v):
    return "—" if v is None else (f"{v:g}" if isinstance(v, float) else v)


def _in_shape(shape) -> str:
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}²×{c}" if h == w else f"{h}×{w}×{c}"
    return "×".join(map(str, shape))


def _published(rec) -> tuple[str, str]:
    figs = {k: v for k, v in rec.published.items() if k != "note" and v is not None}
    if not figs:
        return "—", "—"
    pub = ", ".join(f"{short(v)} {k}" for k, v in figs.items())
    dev = ", ".join(f"{k} {pct(d['deviation'], signed=True)}" for k, d in rec.deviation.items())
    return pub, dev or "—"


def report_document(study, *, command: str = "", dpi: int = REPORT_DPI) -> Document:
    """The MobileFaceNets study of ``study`` (:class:`archlab.studies.report_study.Study`) as a document."""
    doc = Document(title=f"{study.model}: the MobileFaceNets study", generated=study.generated)
    src = ", ".join(f"{k}: {v}" for k, v in study.source.items())
    doc.meta = [
        f"generated {study.generated} by archlab {study.environment.get('archlab', '')}"
        + (f": `{command}`" if command else "")
        + (" (quick: latency not measured)" if study.quick else ""),
        f"table `{study.table}`: {study.description}" + (f" ({src})" if src else ""),
    ]
    for section in (
        _summary,
        _architecture,
        _counts,
        _heads,
        learned_section,
        _first_layer,
        _widths,
        _conventions,
        _environment,
    ):
        section(doc, study, dpi)
    data = study.to_dict()
    data["command"] = command
    doc.data = data
    return doc


def _summary(doc: Document, study, dpi: int) -> None:
    base = study.base
    tot = base.totals
    doc.add(Heading("Summary"))
    summary = [
        f"input {shape_str(base.input)} -> output {shape_str(base.output)}; params {tot['params']:,} "
        f"(deployed, BN folded: {tot['params_deployed']:,}); MAdds {tot['madds']:,} ({tot['madds'] / 1e6:.1f}M)",
        f"FMap-end {shape_str(base.fmap_end)} (`{base.fmap_layer}`), theoretical receptive field "
        f"{rf_text(base.rf)}; peak activation memory {base.peak_bytes:,} B ({human_bytes(base.peak_bytes)})",
    ]
    for key, d in base.deviation.items():
        summary.append(
            f"published {key} {short(d['published'])}: archlab {d['archlab']:,} ({pct(d['deviation'], signed=True)})"
        )
    doc.add(Bullets(summary))


def _architecture(doc: Document, study, dpi: int) -> None:
    base = study.base
    doc.add(Heading("Architecture (from the layer table)"))
    arch = Table(
        f"{study.model}: one line per table row",
        ["row", "input", "operator", "t", "c", "n", "s", "params", "madds", "rf"],
        numeric={"params", "madds"},
    )
    for r in study.arch:
        arch.rows.append(
            [
                r.index,
                _in_shape(r.input),
                r.operator,
                _cell(r.t),
                _cell(r.c),
                _cell(r.n),
                _cell(r.s),
                r.params,
                r.madds,
                r.rf,
            ]
        )
    arch.rows.append(
        ["total", _in_shape(base.input), "", "", "", "", "", base.totals["params"], base.totals["madds"], ""]
    )
    arch.notes = [
        f"defaults: {', '.join(f'{k}={v}' for k, v in study.defaults.items())}",
        "t: expansion factor, c: output channels, n: repeats, s: stride of the first repeat (the paper's "
        "columns); rf: theoretical receptive field of the row's output (px)",
    ]
    doc.add(TableBlock(arch))


def _counts(doc: Document, study, dpi: int) -> None:
    doc.add(Heading("Counts against the published figures"))
    counts = Table(
        "archlab's counts and the papers' figures",
        ["network", "input", "params", "params_deployed", "madds", "published", "deviation"],
        numeric={"params", "params_deployed", "madds"},
    )
    for rec in study.counts:
        pub, dev = _published(rec)
        counts.rows.append(
            [
                rec.label,
                shape_str(rec.input),
                rec.totals["params"],
                rec.totals["params_deployed"],
                rec.totals["madds"],
                pub,
                dev,
            ]
        )
    counts.notes = [
        "params_deployed: BN folded into the conv/linear before it (the MobileFaceNets paper's 0.99M); "
        "the published figures are rounded, the deviation is archlab over the paper minus 1"
    ]
    counts.notes += [rec.published["note"] for rec in study.counts if rec.published.get("note")]
    doc.add(TableBlock(counts))


def _heads(doc: Document, study, dpi: int) -> None:
    doc.add(Heading("The head: GDConv vs GAP vs FC"))
    for n in study.notes.get("heads", []):
        doc.add(Para(n))
    if study.heads:
        ht = Table(
            "head cost (everything after FMap-end)",
            [
                "head",
                "layers",
                "params",
                "params_deployed",
                "madds",
                "other_ops",
                "out",
                "network params",
                "network madds",
            ],
            numeric={"params", "params_deployed", "madds", "other_ops", "out", "network params", "network madds"},
        )
        for h in study.heads:
            ht.rows.append(
                [
                    h.head,
                    h.label,
                    h.params,
                    h.params_deployed,
                    h.madds,
                    h.other_ops,
                    h.out_dim,
                    h.total_params,
                    h.total_madds,
                ]
            )
        doc.add(TableBlock(ht))
    if study.rf is not None:
        _rf_section(doc, study, dpi)


def _rf_section(doc: Document, study, dpi: int) -> None:

    rf = study.rf
    s = study.rf_settings
    doc.add(
        Para(
            f"Effective receptive fields (Luo et al. 2016) of the FMap-end units and what each head looks at "
            f"(`archlab rf`, on the real network): {s['samples']} sample(s) of random weights and drawn probe "
            f"faces, {'every unit' if s['units'] == 'all' else 'the key units (corners, edge midpoints, centre)'}"
            ". Random weights show the architecture's geometry, not what a trained model learned; every ratio "
            "carries its 95% interval over the samples."
        )
    )
    rf_blocks(doc, rf, dpi, "rf")


def _first_layer(doc: Document, study, dpi: int) -> None:
    doc.add(Heading("The first layer: stride 2, stride 1, stride 1 + max-pool"))
    for n in study.notes.get("first_layer", []):
        doc.add(Para(n))
    if not study.stems:
        return
    ft = Table(
        "first layer (width 1.0)",
        [
            "first layer",
            "fmap_end",
            "rf",
            "madds",
            "params",
            "memory.peak_bytes",
            "latency_ms [95% CI]",
            "ratio [95% CI]",
        ],
        numeric={"madds", "params", "memory.peak_bytes"},
    )
    for c in study.stems:
        r = c.record
        ft.rows.append(
            [
                c.stem_label,
                shape_str(r.fmap_end),
                rf_text(r.rf),
                r.totals["madds"],
                r.totals["params"],
                r.peak_bytes,
                ms(r.latency) if r.latency else "not measured",
                ratio(r.ratio) if r.ratio else "—",
            ]
        )
    ft.notes = [
        "stride 1 keeps 112x112 after the first conv: every later map is 4x larger (FMap-end 14x14); "
        "+ max-pool: the first conv at full resolution, then a 3x3 stride-2 max-pool (`--stem-pool`)",
        "ratio: latency over the table's stride-2 network, median of per-round ratios",
    ]
    doc.add(TableBlock(ft))


def _widths(doc: Document, study, dpi: int) -> None:
    from archlab.render import report_plots as rp

    doc.add(Heading("Width sweep"))
    for n in study.notes.get("widths", []):
        doc.add(Para(n))
    if not study.widths:
        return
    if study.sweep_rows:
        from archlab.render.sweep_plots import sweep_figure

        doc.add(
            rp.figure_block(
                "widths",
                sweep_figure(study.sweep_rows, title=f"{study.model}: latency sweep"),
                "latency against width and against MAdds",
                "Left: median latency against the width multiplier per first layer (band: 95% CI of the "
                "median, bars p10-p90). Right: latency against MAdds; circled: the Pareto front.",
                dpi,
            )
        )
    else:
        doc.add(
            rp.figure_block(
                "widths",
                rp.width_figure([{"width": c.width, **c.record.totals} for c in study.widths]),
                "MAdds and params against the width multiplier",
                "MAdds and params against the width multiplier (stride-2 first layer); latency not measured (--quick).",
                dpi,
            )
        )
    wt = Table(
        "widths (stride-2 first layer)",
        ["width", "params", "madds", "fmap_end", "latency_ms [95% CI]", "ratio [95% CI]"],
        numeric={"params", "madds"},
    )
    for c in study.widths:
        r = c.record
        wt.rows.append(
            [
                width_text(c.width),
                r.totals["params"],
                r.totals["madds"],
                shape_str(r.fmap_end),
                ms(r.latency) if r.latency else "not measured",
                ratio(r.ratio) if r.ratio else "—",
            ]
        )
    doc.add(TableBlock(wt))


def _conventions(doc: Document, study, dpi: int) -> None:
    from archlab.ir.ops import CONVENTIONS
    from archlab.static.memory import PEAK_RULE

    doc.add(Heading("Conventions"))
    doc.add(
        Bullets(
            [f"`{k}`: {v}" for k, v in CONVENTIONS.items()]
            + [f"`memory.peak_bytes`: {PEAK_RULE}"]
            + ["`rf`: theoretical receptive field per axis (size, jump; Araujo et al. 2019)"]
        )
    )


def _environment(doc: Document, study, dpi: int) -> None:
    doc.add(Heading("Environment"))
    lines = env_lines(study.environment)
    if study.latency is not None:
        lines = [
            study.latency.method(),
            f"{study.latency.rounds} rounds in {study.latency.elapsed_s:.1f} s",
            *lines,
            *env_lines({k: v for k, v in study.latency.environment.items() if k.startswith("loadavg")}, measured=True),
            *study.latency.notes,
        ]
    else:
        lines += study.notes.get("latency", [])
    doc.add(Bullets(lines))
