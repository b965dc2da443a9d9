"""Reports: a small document model and its renderings (Markdown + PNG files, self-contained HTML, JSON).

A :class:`Document` is a list of blocks (headings, paragraphs, bullet lists, :class:`~archlab.render.tables.Table`
records, figures as PNG bytes). Renderers:

* Markdown (renders on GitHub): tables as pipe tables; each figure written beside it, in ``<stem>_files/``,
  and linked relatively;
* HTML: one file, CSS and images inline (base64 PNG ``data:`` URIs), no scripts, no remote resources; readable
  on a 390 px wide phone: text wraps, images scale to the width, and a table wider than the screen scrolls
  inside its own container (the page itself never scrolls sideways);
* JSON: the records the document was made from.

Everything is written atomically (temporary file, then rename), figures before the page that links them. For
the same inputs the output is the same bytes except the one ``generated`` timestamp (and measured times).
Also here: the documents of ``archlab compare`` and ``archlab report``.
"""

from __future__ import annotations

import base64
import html
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from archlab.errors import ArchlabError, OptionError
from archlab.render.tables import Table, shape_str, to_markdown

SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


# -- the document model -------------------------------------------------------------------------------------

@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    text: str  # `backticks` mark code


@dataclass
class Bullets:
    items: list[str]


@dataclass
class TableBlock:
    table: Table


@dataclass
class Figure:
    name: str  # file stem: <doc>_files/<name>.png
    png: bytes
    alt: str
    caption: str = ""


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)
    data: dict = field(default_factory=dict)  # the JSON form
    generated: str = ""  # the one timestamp
    meta: list[str] = field(default_factory=list)  # lines under the title

    def add(self, *blocks) -> "Document":
        self.blocks.extend(blocks)
        return self

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


def output_kind(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise OptionError(f"--out {path}: unknown file type {suffix or '(none)'!r}; use .md, .html or .json")
    return SUFFIXES[suffix]


def files_dir(path: str | Path) -> Path:
    """Where the Markdown rendering of ``path`` puts its figures: ``<stem>_files`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}_files")


# -- Markdown -----------------------------------------------------------------------------------------------

def render_markdown(doc: Document, images: str) -> str:
    """``images``: the folder (relative to the Markdown file) that holds the figures."""
    out = [f"# {doc.title}", ""]
    for line in doc.meta:
        out += [line, ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * b.level} {b.text}", ""]
        elif isinstance(b, Para):
            out += [b.text, ""]
        elif isinstance(b, Bullets):
            out += [f"- {item}" for item in b.items] + [""]
        elif isinstance(b, TableBlock):
            out += [to_markdown(b.table, level=3).rstrip("\n"), ""]
        elif isinstance(b, Figure):
            out += [f"![{_md_alt(b.alt)}]({images}/{b.name}.png)", ""]
            if b.caption:
                out += [f"*{b.caption}*", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_alt(text: str) -> str:
    return text.replace("[", "(").replace("]", ")")


# -- HTML ---------------------------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:#1f2328;background:#fff}
main{max-width:62rem;margin:0 auto;padding:.75rem 1rem 3rem}
h1{font-size:1.45rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.2rem;margin:2rem 0 .5rem;padding-bottom:.2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1rem;margin:1rem 0 .3rem}
p,li,h1,h2,h3,figcaption{overflow-wrap:anywhere}
.meta{color:#57606a;font-size:.85rem;margin:.2rem 0}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch;margin:.3rem 0}
table{border-collapse:collapse;font-size:.82rem}
th,td{border:1px solid #d0d7de;padding:.2rem .45rem;text-align:left;white-space:nowrap;vertical-align:top}
th{background:#f6f8fa}
th:first-child,td:first-child{position:sticky;left:0;background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
ul.notes{font-size:.82rem;color:#57606a;margin:.3rem 0 1rem;padding-left:1.2rem}
figure{margin:1rem 0}
img{display:block;max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#57606a;margin-top:.3rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:#f6f8fa;
padding:0 .2em;border-radius:3px}
""".strip()


def _inline(text: str) -> str:
    """Escape ``text`` for HTML; `backticks` become <code>."""
    parts = re.split(r"`([^`]*)`", text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def _html_table(t: Table) -> str:
    num = ' class="num"'
    head = "".join(f'<th{num if c in t.numeric else ""} scope="col">{html.escape(c)}</th>' for c in t.columns)
    body = []
    for row in t.rows:
        cells = "".join(f'<td{num if c in t.numeric else ""}>{html.escape(t.cell(c, v))}</td>'
                        for c, v in zip(t.columns, row))
        body.append(f"<tr>{cells}</tr>")
    notes = "".join(f"<li>{_inline(n)}</li>" for n in t.notes)
    label = html.escape(t.title, quote=True)
    return (f"<h3>{_inline(t.title)}</h3>\n<div class=\"scroll\" role=\"region\" aria-label=\"{label}\" tabindex=\"0\">"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
            + (f"\n<ul class=\"notes\">{notes}</ul>" if notes else ""))


def render_html(doc: Document) -> str:
    out = ['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{html.escape(doc.title)}</title>", '<link rel="icon" href="data:,">',
           f"<style>\n{CSS}\n</style>", "</head>", "<body>", "<main>", f"<h1>{_inline(doc.title)}</h1>"]
    out += [f'<p class="meta">{_inline(line)}</p>' for line in doc.meta]
    for b in doc.blocks:
        if isinstance(b, Heading):
            level = min(max(b.level, 2), 4)
            out.append(f"<h{level}>{_inline(b.text)}</h{level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, TableBlock):
            out.append(_html_table(b.table))
        elif isinstance(b, Figure):
            w, h = png_size(b.png)
            src = "data:image/png;base64," + base64.b64encode(b.png).decode("ascii")
            cap = f"<figcaption>{_inline(b.caption)}</figcaption>" if b.caption else ""
            out.append(f'<figure><img src="{src}" alt="{html.escape(b.alt, quote=True)}" width="{w}" height="{h}">'
                       f"{cap}</figure>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


# -- writing ------------------------------------------------------------------------------------------------

def check_out(path: str | Path) -> str:
    """Validate an output path before any work: known suffix, existing folder, not a folder itself."""
    path = Path(path)
    kind = output_kind(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OptionError(f"--out {path}: folder {parent} does not exist")
    if path.is_dir():
        raise OptionError(f"--out {path}: is a folder; give a file name ending in .md, .html or .json")
    return kind


def write_document(doc: Document, path: str | Path) -> list[str]:
    """Write ``doc`` as Markdown (+ figures in ``<stem>_files/``), HTML or JSON, chosen by the suffix.
    Returns the paths written. Stale ``.png`` files in ``<stem>_files/`` (from an earlier report) are removed."""
    from archlab.fileio import write_atomic
    from archlab.render.output import dumps_json

    path = Path(path)
    kind = check_out(path)
    if kind == "json":
        write_atomic(path, dumps_json(doc.data))
        return [str(path)]
    if kind == "html":
        write_atomic(path, render_html(doc))
        return [str(path)]
    folder = files_dir(path)
    written = []
    if doc.figures:
        try:
            folder.mkdir(exist_ok=True)
        except OSError as e:
            raise ArchlabError(f"cannot create {folder}: {e.strerror or e}") from None
        for fig in doc.figures:
            target = folder / f"{fig.name}.png"
            write_atomic(target, fig.png)
            written.append(str(target))
    if folder.is_dir():
        keep = {f"{fig.name}.png" for fig in doc.figures}
        for stale in folder.glob("*.png"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
    write_atomic(path, render_markdown(doc, folder.name))
    return written + [str(path)]


# -- formatting helpers -------------------------------------------------------------------------------------

def human_bytes(n: int) -> str:
    from archlab.render.memory import human_bytes as hb

    return hb(n)


def ms(summary, nd: int = 2) -> str:
    if summary is None:
        return "—"
    ci = (f" [{summary.ci_low:.{nd}f}, {summary.ci_high:.{nd}f}]" if summary.ci_low is not None else "")
    return f"{summary.median:.{nd}f}{ci}"


def ratio(summary) -> str:
    if summary is None:
        return "—"
    ci = f" [{summary.ci_low:.2f}, {summary.ci_high:.2f}]" if summary.ci_low is not None else ""
    return f"{summary.median:.2f}{ci}"


def short(v) -> str:
    if v >= 1e9:
        return f"{v / 1e9:g}G"
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:,}"


def options_text(options: dict) -> str:
    if not options:
        return "—"
    return ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in options.items())


def width_text(w: float) -> str:
    return f"{w:.1f}" if float(w).is_integer() else f"{w:g}"


def rf_text(rf) -> str:
    return f"{rf.label()} px, jump {rf.label('jump')}"


def fmap_text(rec) -> str:
    return shape_str(rec.fmap_end)


# -- archlab compare ----------------------------------------------------------------------------------------

COMPARE_ROWS = ("input", "options", "params", "params_deployed", "madds", "other_ops", "activations",
                "memory.peak_bytes", "fmap_end", "fmap_end.rf", "head")


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
            t.rows.append([f"{key} / {labels[0]}", *[f"{r.totals[key] / first.totals[key]:.3f}" for r in recs]])
    t.notes = [
        "names as in `archlab profile -f json`: totals.params, totals.madds, ..., memory.peak_bytes (fp32, batch 1), "
        "fmap_end (the map the head reads) and its theoretical receptive field (size, jump in input pixels)",
    ]
    if comp.latency is not None:
        t.notes.append("latency: " + comp.latency.method())
    t.notes += comp.notes
    return t


def compare_document(comp, *, command: str = "", generated: str = "") -> Document:
    from archlab.analysis.memory import PEAK_RULE
    from archlab.plan import CONVENTIONS
    from archlab.render import report_plots as rp

    labels = [r.label for r in comp.records]
    title = " vs ".join(labels) if len(labels) <= 3 else f"{len(labels)} networks"
    doc = Document(title=f"Comparison: {title}", generated=generated)
    doc.meta = [f"generated {generated} by archlab" + (f": `{command}`" if command else "")]
    if len(labels) > 3:
        doc.add(Para("Entries: " + ", ".join(f"`{x}`" for x in labels) + "."))
    doc.add(TableBlock(compare_table(comp)))
    doc.add(Heading("Where the MAdds and the parameters are"))
    doc.add(Figure("stages", rp.stage_bars(comp.records),
                   "bar charts of MAdds and parameters per stage for " + ", ".join(labels),
                   "Per stage (table rows grouped by output stride, input size / map size; head = after FMap-end)."))
    stage_t = Table("per stage: MAdds and params", ["entry", "stage", "rows", "out", "madds", "params"],
                    numeric={"madds", "params"})
    for r in comp.records:
        for s in r.stages:
            stage_t.rows.append([r.label, s.label, ", ".join(map(str, s.rows)), shape_str(s.out_shape), s.madds,
                                 s.params])
    doc.add(TableBlock(stage_t))
    timed = comp.latency is not None
    doc.add(Heading("Latency against parameters" if timed else "MAdds against parameters"))
    doc.add(Figure("scatter", rp.scatter(comp.records),
                   ("latency" if timed else "MAdds") + " against parameters, one point per entry",
                   "Median latency per call with its 95% CI (bars)." if timed else
                   "Latency not measured (add --latency); MAdds instead."))
    doc.add(Heading("Conventions"))
    doc.add(Bullets([f"`{k}`: {v}" for k, v in CONVENTIONS.items()] + [f"`memory.peak_bytes`: {PEAK_RULE}"]))
    if timed:
        env = comp.latency.environment
        doc.add(Heading("Latency method and environment"))
        doc.add(Bullets([comp.latency.method(), f"{comp.latency.rounds} rounds in {comp.latency.elapsed_s:.1f} s",
                         *env_lines(env, measured=True)]))
    data = comp.to_dict()
    data["generated"] = generated
    data["command"] = command
    doc.data = data
    return doc


def env_lines(env: dict, *, measured: bool = False) -> list[str]:
    keys = [("archlab", "archlab"), ("python", "Python"), ("torch", "torch"), ("numpy", "numpy"),
            ("matplotlib", "matplotlib"), ("platform", "platform"), ("cpu_model", "CPU"), ("cpu_count", "CPUs"),
            ("cpus_usable", "CPUs usable"), ("onednn", "oneDNN"), ("cpu_capability", "CPU capability")]
    lines = [f"{label}: {env[k]}" for k, label in keys if env.get(k) not in (None, "")]
    if measured:
        for k, label in (("loadavg_start", "load average at start"), ("loadavg_end", "load average at end")):
            if env.get(k):
                lines.append(f"{label}: {', '.join(f'{v:.2f}' for v in env[k])}")
    return lines


# -- archlab report -----------------------------------------------------------------------------------------

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
    dev = ", ".join(f"{k} {d['deviation']:+.2%}" for k, d in rec.deviation.items())
    return pub, dev or "—"


def table_source(study) -> str:
    from archlab import registry

    try:
        shipped = registry.configs_dir() / f"{study.name}.yaml"
        if not registry.looks_like_path(study.name) and shipped.is_file():
            return f"configs/{study.name}.yaml"
    except ArchlabError:
        pass
    return study.name


def report_document(study, *, command: str = "", dpi: int = REPORT_DPI) -> Document:
    """The MobileFaceNets study of ``study`` (:class:`archlab.analysis.study.Study`) as a document."""
    from archlab.analysis.memory import PEAK_RULE
    from archlab.plan import CONVENTIONS
    from archlab.render import report_plots as rp

    base = study.base
    tot = base.totals
    doc = Document(title=f"{study.model}: the MobileFaceNets study", generated=study.generated)
    src = ", ".join(f"{k}: {v}" for k, v in study.source.items())
    doc.meta = [f"generated {study.generated} by archlab {study.environment.get('archlab', '')}"
                + (f": `{command}`" if command else "") + (" (quick: latency not measured)" if study.quick else ""),
                f"table `{table_source(study)}`: {study.description}" + (f" ({src})" if src else "")]

    # summary
    doc.add(Heading("Summary"))
    summary = [f"input {shape_str(base.input)} -> output {shape_str(base.output)}; params {tot['params']:,} "
               f"(deployed, BN folded: {tot['params_deployed']:,}); MAdds {tot['madds']:,} ({tot['madds'] / 1e6:.1f}M)",
               f"FMap-end {shape_str(base.fmap_end)} (`{base.fmap_layer}`), theoretical receptive field "
               f"{rf_text(base.rf)}; peak activation memory {base.peak_bytes:,} B ({human_bytes(base.peak_bytes)})"]
    for key, d in base.deviation.items():
        summary.append(f"published {key} {short(d['published'])}: archlab {d['archlab']:,} ({d['deviation']:+.2%})")
    doc.add(Bullets(summary))

    # architecture
    doc.add(Heading("Architecture (from the layer table)"))
    arch = Table(f"{study.model}: one line per table row", ["row", "input", "operator", "t", "c", "n", "s", "params",
                                                           "madds", "rf"],
                 numeric={"params", "madds"})
    for r in study.arch:
        arch.rows.append([r.index, _in_shape(r.input), r.operator, _cell(r.t), _cell(r.c), _cell(r.n), _cell(r.s),
                          r.params, r.madds, r.rf])
    arch.rows.append(["total", _in_shape(base.input), "", "", "", "", "", tot["params"], tot["madds"], ""])
    arch.notes = [f"defaults: {', '.join(f'{k}={v}' for k, v in study.defaults.items())}",
                  "t: expansion factor, c: output channels, n: repeats, s: stride of the first repeat (the paper's "
                  "columns); rf: theoretical receptive field of the row's output (px)"]
    doc.add(TableBlock(arch))

    # counts vs published
    doc.add(Heading("Counts against the published figures"))
    counts = Table("archlab's counts and the papers' figures",
                   ["network", "input", "params", "params_deployed", "madds", "published", "deviation"],
                   numeric={"params", "params_deployed", "madds"})
    for rec in study.counts:
        pub, dev = _published(rec)
        counts.rows.append([rec.label, shape_str(rec.input), rec.totals["params"], rec.totals["params_deployed"],
                            rec.totals["madds"], pub, dev])
    counts.notes = ["params_deployed: BN folded into the conv/linear before it (the MobileFaceNets paper's 0.99M); "
                    "the published figures are rounded, the deviation is archlab over the paper minus 1"]
    counts.notes += [rec.published["note"] for rec in study.counts if rec.published.get("note")]
    doc.add(TableBlock(counts))

    # heads
    doc.add(Heading("The head: GDConv vs GAP vs FC"))
    for n in study.notes.get("heads", []):
        doc.add(Para(n))
    if study.heads:
        ht = Table("head cost (everything after FMap-end)", ["head", "layers", "params", "params_deployed", "madds",
                                                              "other_ops", "out", "network params", "network madds"],
                   numeric={"params", "params_deployed", "madds", "other_ops", "out", "network params",
                            "network madds"})
        for h in study.heads:
            ht.rows.append([h.head, h.label, h.params, h.params_deployed, h.madds, h.other_ops, h.out_dim,
                            h.total_params, h.total_madds])
        doc.add(TableBlock(ht))
    if study.rf is not None:
        from archlab.render.plots import plot_heads, plot_units
        from archlab.render.rf import rf_tables

        rf = study.rf
        s = study.rf_settings
        doc.add(Para(f"Effective receptive fields (Luo et al. 2016) of the FMap-end units and what each head looks at "
                     f"(`archlab rf`): {s['samples']} sample(s) of random weights and inputs, "
                     f"{'every unit' if s['units'] == 'all' else 'the key units (corners, edge midpoints, centre)'}. "
                     "Random weights show the architecture's geometry, not what a trained model learned."))
        if rf.grid is not None and rf.grid.maps:
            doc.add(Figure("rf_units", rp.png_bytes(plot_units(rf), dpi),
                           "effective receptive fields of a corner and the centre FMap-end unit, and the share of "
                           "each unit's ERF mass on the image",
                           "Left, middle: ERF of a corner and the centre unit over the image (white box), dashed: the "
                           "theoretical RF. Right: share of each unit's ERF mass on the image (the rest: padding)."))
        if any(r.importance is not None for r in rf.heads.values()):
            doc.add(Figure("rf_heads", rp.png_bytes(plot_heads(rf), dpi),
                           "importance maps of the GDConv, GAP and FC heads and the weight each gives each FMap-end "
                           "position",
                           "Top: what each head's output depends on (|d(u.e)/d input|). Bottom: the weight each head "
                           "gives each FMap-end position (1 = uniform, as GAP)."))
        for t in rf_tables(rf, []):
            if t.columns and t.columns[0] == "i":  # unit grids: drop the rows of units not measured (--quick)
                t.rows = [r for r in t.rows if any(v is not None for v in r[1:])]
                keep = [0] + [j for j in range(1, len(t.columns)) if any(r[j] is not None for r in t.rows)]
                t.columns = [t.columns[j] for j in keep]
                t.rows = [[r[j] for j in keep] for r in t.rows]
            doc.add(TableBlock(t))

    # first layer
    doc.add(Heading("The first layer: stride 2, stride 1, stride 1 + max-pool"))
    for n in study.notes.get("first_layer", []):
        doc.add(Para(n))
    if study.stems:
        from archlab.analysis.study import STEMS

        names = dict(STEMS)
        ft = Table("first layer (width 1.0)", ["first layer", "fmap_end", "rf", "madds", "params",
                                                "memory.peak_bytes", "latency_ms [95% CI]", "ratio [95% CI]"],
                   numeric={"madds", "params", "memory.peak_bytes"})
        for c in study.stems:
            r = c.record
            ft.rows.append([names[c.stem], shape_str(r.fmap_end), rf_text(r.rf), r.totals["madds"], r.totals["params"],
                            r.peak_bytes, ms(r.latency) if r.latency else "not measured",
                            ratio(r.ratio) if r.ratio else "—"])
        ft.notes = ["stride 1 keeps 112x112 after the first conv: every later map is 4x larger (FMap-end 14x14); "
                    "+ max-pool: the first conv at full resolution, then a 3x3 stride-2 max-pool (`--stem-pool`)",
                    "ratio: latency over the table's stride-2 network, median of per-round ratios"]
        doc.add(TableBlock(ft))

    # widths
    doc.add(Heading("Width sweep"))
    for n in study.notes.get("widths", []):
        doc.add(Para(n))
    if study.widths:
        from archlab.analysis.study import sweep_rows

        rows = sweep_rows(study)
        if rows:
            import tempfile as _tf

            from archlab.render.sweep_plots import plot_sweep

            with _tf.TemporaryDirectory() as d:
                path = plot_sweep(rows, Path(d) / "sweep.png", title=f"{study.model}: latency sweep")
                png = rp.shrink_png(path.read_bytes())
            doc.add(Figure("widths", png, "latency against width and against MAdds",
                           "Left: median latency against the width multiplier per first layer (band: 95% CI of the "
                           "median, bars p10-p90). Right: latency against MAdds; circled: the Pareto front."))
        else:
            doc.add(Figure("widths", rp.width_counts([{"width": c.width, **c.record.totals} for c in study.widths],
                                                     dpi),
                           "MAdds and params against the width multiplier",
                           "MAdds and params against the width multiplier (stride-2 first layer); latency not "
                           "measured (--quick)."))
        wt = Table("widths (stride-2 first layer)", ["width", "params", "madds", "fmap_end", "latency_ms [95% CI]",
                                                     "ratio [95% CI]"], numeric={"params", "madds"})
        for c in study.widths:
            r = c.record
            wt.rows.append([width_text(c.width), r.totals["params"], r.totals["madds"], shape_str(r.fmap_end),
                            ms(r.latency) if r.latency else "not measured", ratio(r.ratio) if r.ratio else "—"])
        doc.add(TableBlock(wt))

    # conventions and environment
    doc.add(Heading("Conventions"))
    doc.add(Bullets([f"`{k}`: {v}" for k, v in CONVENTIONS.items()] + [f"`memory.peak_bytes`: {PEAK_RULE}"] +
                    ["`rf`: theoretical receptive field per axis (size, jump; Araujo et al. 2019)"]))
    doc.add(Heading("Environment"))
    lines = env_lines(study.environment)
    if study.latency is not None:
        lines = [study.latency.method(), f"{study.latency.rounds} rounds in {study.latency.elapsed_s:.1f} s",
                 *lines, *env_lines({k: v for k, v in study.latency.environment.items() if k.startswith("loadavg")},
                                    measured=True), *study.latency.notes]
    else:
        lines += study.notes.get("latency", [])
    doc.add(Bullets(lines))
    data = study.to_dict()
    data["command"] = command
    doc.data = data
    return doc
