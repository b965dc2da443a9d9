"""The document and the side-by-side table of ``archlab compare``."""

from __future__ import annotations

from archlab.render.document import Bullets, Document, Heading, Para, TableBlock
from archlab.render.memory import human_bytes
from archlab.render.tables import Table, shape_str
from archlab.render.text import fmap_text, ms, options_text, ratio, ratio_value, rf_text

COMPARE_ROWS = (
    "input",
    "options",
    "params",
    "params_deployed",
    "madds",
    "other_ops",
    "activations",
    "memory.peak_bytes",
    "fmap_end",
    "fmap_end.rf",
    "head",
)


def compare_table(comp) -> Table:
    """Side by side: one column per entry, one row per quantity (the names of the profile JSON)."""
    labels = [r.label for r in comp.records]
    t = Table("side by side", ["quantity", *labels], numeric=set(labels))
    recs = comp.records
    rows = {
        "input": [shape_str(r.input) for r in recs],
        "options": [options_text(r.options) for r in recs],
        **{k: [r.totals[k] for r in recs] for k in ("params", "params_deployed", "madds", "other_ops", "activations")},
        "memory.peak_bytes": [f"{r.peak_bytes:,} ({human_bytes(r.peak_bytes)})" for r in recs],
        "fmap_end": [f"{fmap_text(r)} ({r.fmap_layer})" for r in recs],
        "fmap_end.rf": [rf_text(r.rf) for r in recs],
        "head": [r.head for r in recs],
    }
    for key in COMPARE_ROWS:
        t.rows.append([key, *rows[key]])
    if comp.latency is not None:
        t.rows.append(["latency_ms [95% CI]", *[ms(r.latency) for r in recs]])
        t.rows.append([f"ratio to {labels[0]} [95% CI]", *[ratio(r.ratio) for r in recs]])
    first = recs[0]
    for key in ("params", "madds"):
        if len(recs) > 1 and first.totals[key]:
            t.rows.append([f"{key} / {labels[0]}", *[ratio_value(r.totals[key] / first.totals[key]) for r in recs]])
    t.notes = [
        "names as in `archlab profile -f json`: totals.params, totals.madds, ..., memory.peak_bytes (fp32, batch 1), "
        "fmap_end (the map the head reads) and its theoretical receptive field (size, jump in input pixels)",
    ]
    if comp.latency is not None:
        t.notes.append("latency: " + comp.latency.method())
    t.notes += comp.notes
    return t


def compare_document(comp, *, command: str = "", generated: str = "") -> Document:
    from archlab.ir.ops import CONVENTIONS
    from archlab.render import report_plots as rp
    from archlab.static.memory import PEAK_RULE

    labels = [r.label for r in comp.records]
    title = " vs ".join(labels) if len(labels) <= 3 else f"{len(labels)} networks"
    doc = Document(title=f"Comparison: {title}", generated=generated)
    doc.meta = [f"generated {generated} by archlab" + (f": `{command}`" if command else "")]
    if len(labels) > 3:
        doc.add(Para("Entries: " + ", ".join(f"`{x}`" for x in labels) + "."))
    doc.add(TableBlock(compare_table(comp)))
    doc.add(Heading("Where the MAdds and the parameters are"))
    doc.add(
        rp.figure_block(
            "stages",
            rp.stage_figure(comp.records),
            "bar charts of MAdds and parameters per stage for " + ", ".join(labels),
            "Per stage (table rows grouped by output stride, input size / map size; head = after FMap-end).",
        )
    )
    stage_t = Table(
        "per stage: MAdds and params", ["entry", "stage", "rows", "out", "madds", "params"], numeric={"madds", "params"}
    )
    for r in comp.records:
        for s in r.stages:
            stage_t.rows.append(
                [r.label, s.label, ", ".join(map(str, s.rows)), shape_str(s.out_shape), s.madds, s.params]
            )
    doc.add(TableBlock(stage_t))
    timed = comp.latency is not None
    doc.add(Heading("Latency against parameters" if timed else "MAdds against parameters"))
    doc.add(
        rp.figure_block(
            "scatter",
            rp.scatter_figure(comp.records),
            ("latency" if timed else "MAdds") + " against parameters, one point per entry",
            "Median latency per call with its 95% CI (bars)."
            if timed
            else "Latency not measured (add --latency); MAdds instead.",
        )
    )
    doc.add(Heading("Conventions"))
    doc.add(Bullets([f"`{k}`: {v}" for k, v in CONVENTIONS.items()] + [f"`memory.peak_bytes`: {PEAK_RULE}"]))
    if timed:
        env = comp.latency.environment
        doc.add(Heading("Latency method and environment"))
        doc.add(
            Bullets(
                [
                    comp.latency.method(),
                    f"{comp.latency.rounds} rounds in {comp.latency.elapsed_s:.1f} s",
                    *env_lines(env, measured=True),
                ]
            )
        )
    data = comp.to_dict()
    data["generated"] = generated
    data["command"] = command
    doc.data = data
    return doc


def env_lines(env: dict, *, measured: bool = False) -> list[str]:
    keys = [
        ("archlab", "archlab"),
        ("python", "Python"),
        ("torch", "torch"),
        ("numpy", "numpy"),
        ("matplotlib", "matplotlib"),
        ("platform", "platform"),
        ("cpu_model", "CPU"),
        ("cpu_count", "CPUs"),
        ("cpus_usable", "CPUs usable"),
        ("onednn", "oneDNN"),
        ("cpu_capability", "CPU capability"),
    ]
    lines = [f"{label}: {env[k]}" for k, label in keys if env.get(k) not in (None, "")]
    if measured:
        for k, label in (("loadavg_start", "load average at start"), ("loadavg_end", "load average at end")):
            if env.get(k):
                lines.append(f"{label}: {', '.join(f'{v:.2f}' for v in env[k])}")
    return lines
