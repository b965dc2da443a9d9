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
The documents of ``archlab compare`` and ``archlab report``: :mod:`archlab.render.compare_page`,
:mod:`archlab.render.report_page`.
"""

from __future__ import annotations

import base64
import html
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from archlab.errors import OptionError
from archlab.render.tables import Table, to_markdown

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
    text_px: float | None = None  # its smallest text in image pixels (report_plots.figure_text_px)


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)
    data: dict = field(default_factory=dict)  # the JSON form
    generated: str = ""  # the one timestamp
    meta: list[str] = field(default_factory=list)  # lines under the title

    def add(self, *blocks) -> Document:
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
.scroll,.figbox{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch;margin:.3rem 0}
table{border-collapse:separate;border-spacing:0;font-size:.82rem}
th,td{border:1px solid #d0d7de;border-width:0 1px 1px 0;padding:.2rem .45rem;text-align:left;vertical-align:top;
white-space:normal;overflow-wrap:normal;word-break:normal}
tr:first-child th{border-top-width:1px}
th:first-child,td:first-child{border-left-width:1px}
th{background:#f6f8fa}
th:first-child,td:first-child{position:sticky;left:0;z-index:1;background:#f6f8fa;min-width:4rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.num.wrap{white-space:normal}
ul.notes{font-size:.82rem;color:#57606a;margin:.3rem 0 1rem;padding-left:1.2rem}
figure{margin:1rem 0}
figure .figbox{margin:0}
img{display:block;max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#57606a;margin-top:.3rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:#f6f8fa;
padding:0 .2em;border-radius:3px}
@media (max-width:40rem){th:first-child,td:first-child{max-width:9rem}}
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


def html_table(t: Table) -> str:
    """One table as HTML: its title, the table in a scroll box (the first column stays in view), its notes."""
    return _html_table(t)


def _header_html(name: str) -> str:
    """A column name, allowed to break after ``_ : = /`` and after ``.``/``,`` before a letter (names like
    ``params_deployed`` stay narrow; ``width=0.5`` keeps its number whole)."""
    return re.sub(r"([_:/=]|[.,](?=[^\d\s]))", r"\1<wbr>", html.escape(name))


def _cell_html(text: str) -> str:
    """A text cell, allowed to break after ``: = / _`` and after a comma before a letter (``a:x=1,b=2``), never
    inside a number (``220,965,376`` and ``0.75`` stay whole)."""
    return re.sub(r"([:=/_]|,(?=[^\d\s]))", r"\1<wbr>", html.escape(text))


def _td(text: str, numeric: bool) -> str:
    """A cell: a number right-aligned and never wrapped; text (also in a numeric column: ``3,211,264 (3.06
    MiB)``) wraps between words."""
    if numeric and " " not in text:
        return f'<td class="num">{html.escape(text)}</td>'
    cls = ' class="num wrap"' if numeric else ""
    return f"<td{cls}>{_cell_html(text)}</td>"


def _html_table(t: Table) -> str:
    num = ' class="num"'
    head = "".join(f'<th{num if c in t.numeric else ""} scope="col">{_header_html(c)}</th>' for c in t.columns)
    body = []
    for row in t.rows:
        cells = "".join(_td(t.cell(c, v), c in t.numeric) for c, v in zip(t.columns, row))
        body.append(f"<tr>{cells}</tr>")
    notes = "".join(f"<li>{_inline(n)}</li>" for n in t.notes)
    label = html.escape(t.title, quote=True)
    return (
        f'<h3>{_inline(t.title)}</h3>\n<div class="scroll" role="region" aria-label="{label}" tabindex="0">'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        + (f'\n<ul class="notes">{notes}</ul>' if notes else "")
    )


MIN_TEXT_PX = 9.0  # a figure is never shown so small that its smallest text is below this (CSS px)


def _html_figure(b: Figure) -> str:
    """The image inline, in a box that scrolls sideways when the screen is narrower than the image needs to
    keep its smallest text at :data:`MIN_TEXT_PX` (``data-text-px``: that text's size in image pixels)."""
    w, h = png_size(b.png)
    src = "data:image/png;base64," + base64.b64encode(b.png).decode("ascii")
    cap = f"<figcaption>{_inline(b.caption)}</figcaption>" if b.caption else ""
    style = attrs = ""
    if b.text_px:
        attrs = f' data-text-px="{b.text_px:.2f}"'
        style = f' style="min-width:{math.ceil(w * MIN_TEXT_PX / b.text_px)}px"'
    label = html.escape(b.alt, quote=True)
    return (
        f'<figure><div class="figbox" role="region" aria-label="{label}" tabindex="0">'
        f'<img src="{src}" alt="{label}" width="{w}" height="{h}"{attrs}{style}></div>{cap}</figure>'
    )


def render_html(doc: Document) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(doc.title)}</title>",
        '<link rel="icon" href="data:,">',
        f"<style>\n{CSS}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_inline(doc.title)}</h1>",
    ]
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
            out.append(_html_figure(b))
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
    Returns the paths written.

    The Markdown page and its figures are published together (:func:`archlab.storage.publish.publish_folder`):
    the new ``<stem>_files/`` is built in full beside the old one and swapped in, then the page is renamed into
    place, so a failure (disk full on the second figure) leaves the old page and its figures whole. Stale
    ``.png`` files of an earlier report go with the old folder; other files there are kept."""
    from archlab.render.output import dumps_json
    from archlab.storage.files import write_atomic
    from archlab.storage.publish import publish_folder

    path = Path(path)
    kind = check_out(path)
    if kind == "json":
        write_atomic(path, dumps_json(doc.data))
        return [str(path)]
    if kind == "html":
        write_atomic(path, render_html(doc))
        return [str(path)]
    folder = files_dir(path)
    figures = {f"{fig.name}.png": fig.png for fig in doc.figures}
    return publish_folder(folder, figures, with_files={path: render_markdown(doc, folder.name)})
