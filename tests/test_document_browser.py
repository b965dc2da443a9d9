"""archlab.render.document's HTML (of `archlab compare` and `archlab report`) in a real browser: headless
Chromium via selenium.

Checks: every image loaded (naturalWidth > 0), no console errors, no request other than the file itself and
data: URIs, and at a 390 px wide phone viewport the page does not scroll sideways (a table or figure wider than
the screen scrolls inside its own container). A screenshot of each page is saved in the test's tmp folder.

Readability, at a 1280 px desktop window and a 390 px phone: no table cell's text is clipped (no cell's content
is wider than the cell), at 1280 px every table fits its box (nothing to scroll to), at 390 px a table that
scrolls keeps its first column in view (sticky), and every figure's smallest text is at least 9 px as shown
(its size in image pixels, `data-text-px`, times the displayed width over the image's natural width).

Skipped, with the reason printed, only where Chromium, chromedriver or selenium is missing and CI is not set;
in CI (CI=true) a missing browser fails the test (`.ci/run` installs the Debian packages).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real browser: seconds per page

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _browser_paths():
    chromium = next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    driver = shutil.which("chromedriver")
    missing = [what for what, ok in (("chromium", chromium), ("chromium-driver (chromedriver)", driver)) if not ok]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    return chromium, driver, missing


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path, missing = _browser_paths()
    if missing:
        reason = f"headless browser test needs {', '.join(missing)} (Debian: apt-get install chromium chromium-driver)"
        if _in_ci():
            pytest.fail(f"CI is set but {reason}; .ci/run installs them")
        print(f"SKIPPED: {reason}", file=sys.stderr)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="archlab-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(driver_path))
    try:
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(drv, path: Path, shot: Path) -> dict:
    """Load ``path``, save a screenshot, and return what the checks need."""
    drv.get_log("browser")
    drv.get_log("performance")  # drop what earlier pages logged
    drv.get(path.resolve().as_uri())
    drv.execute_script("return document.readyState")
    facts = drv.execute_script("""
        const imgs = Array.from(document.images);
        const scrolls = Array.from(document.querySelectorAll('.scroll'));
        return {
          inner: window.innerWidth,
          doc: document.documentElement.scrollWidth,
          body: document.body.scrollWidth,
          images: imgs.map(i => {
            const box = i.closest('.figbox');
            return [i.complete, i.naturalWidth, i.getBoundingClientRect().right,
                    box ? box.getBoundingClientRect().right : null];
          }),
          widest_table: Math.max(0, ...scrolls.map(s => s.scrollWidth)),
          scroll_boxes: scrolls.map(s => s.getBoundingClientRect().right),
          tables: document.querySelectorAll('table').length,
          tables_outside: Array.from(document.querySelectorAll('table'))
                               .filter(t => !t.parentElement.classList.contains('scroll')).length,
        };""")
    assert drv.save_screenshot(str(shot)), "no screenshot"
    facts["console"] = drv.get_log("browser")
    urls = []
    for entry in drv.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    facts["requests"] = urls
    return facts


def check_page(drv, path: Path, shot: Path) -> dict:
    facts = open_page(drv, path, shot)
    # a mobile browser widens the layout viewport (zooms out) for content wider than the screen: both must stay 390
    assert facts["inner"] == PHONE["width"] and max(facts["doc"], facts["body"]) <= PHONE["width"], (
        f"page scrolls sideways: {max(facts['doc'], facts['body'])} px of content, layout viewport {facts['inner']} px"
    )
    assert facts["images"], "no images on the page"
    for i, (complete, natural, right, box_right) in enumerate(facts["images"]):
        assert complete and natural > 0, f"image {i} did not load"
        shown = right if box_right is None else box_right  # a figure wider than the screen scrolls in its box
        assert shown <= facts["inner"] + 0.5, f"image {i} sticks out of the page ({shown} px)"
    errors = [e for e in facts["console"] if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    remote = [u for u in facts["requests"] if not u.startswith(("file:", "data:"))]
    assert not remote, remote
    assert all(r <= facts["inner"] + 0.5 for r in facts["scroll_boxes"])
    assert facts["tables"] > 0 and facts["tables_outside"] == 0, "a table outside a .scroll container"
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return facts


def no_remote_references(text: str) -> None:
    """The file itself names nothing to fetch: no http(s) src/href, no url(...) or @import in the CSS, no scripts."""
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "@import" not in text and "url(" not in text
    assert "<script" not in text.lower()


def test_compare_html_in_a_phone_browser(browser, cli, tmp_path):
    out = tmp_path / "cmp.html"
    r = cli(
        "compare",
        "mobilefacenet",
        "mobilefacenet-s",
        "mobilenetv2:width=0.5,input=112x112",
        "--variant",
        "mobilefacenet:head=gap",
        "--variant",
        "mobilefacenet:stem-pool=true",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    no_remote_references(text)
    facts = check_page(browser, out, tmp_path / "cmp-390.png")
    assert len(facts["images"]) == 2
    # the side-by-side table (5 entries) is wider than a phone: it scrolls in its box, the page does not
    assert facts["widest_table"] > PHONE["width"]


def test_report_html_in_a_phone_browser(browser, cli, tmp_path):
    out = tmp_path / "mfn.html"
    r = cli("report", "mobilefacenet", "--quick", "--samples", "1", "--dpi", "50", "--out", out)
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    no_remote_references(text)
    facts = check_page(browser, out, tmp_path / "mfn-390.png")
    assert len(facts["images"]) == 6  # ERF units, heads, learned maps, learned ERF units and heads, widths
    assert facts["widest_table"] > PHONE["width"]


BAD_PAGES = {  # what the page does wrong -> what the check must say
    "broken image": '<img src="data:image/png;base64,AAAA" alt="x"><table><tr><td>1</td></tr></table>',
    "console error": '<img src="{png}" alt="x"><table><tr><td>1</td></tr></table>'
    '<script>console.error("boom")</script>',
    "sideways scroll": '<img src="{png}" alt="x"><div style="width:600px">wide</div><table><tr><td>1</td></tr></table>',
    "table outside a scroll box": '<img src="{png}" alt="x"><table><tr><td>1</td></tr></table>',
}


EXPECTED = {
    "broken image": "did not load",
    "console error": "boom",
    "sideways scroll": "scrolls sideways",
    "table outside a scroll box": "outside a .scroll",
}


@pytest.mark.parametrize("what", list(BAD_PAGES))
def test_the_checks_catch_a_bad_page(browser, tmp_path, what):
    import base64

    from archlab.render.report_plots import png_bytes, pyplot

    fig = pyplot().figure(figsize=(1, 1))
    png = "data:image/png;base64," + base64.b64encode(png_bytes(fig, 50)).decode()
    body = BAD_PAGES[what].replace("{png}", png)
    if what != "table outside a scroll box":
        body = body.replace("<table>", '<div class="scroll"><table>').replace("</table>", "</table></div>")
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"></head><body>{body}</body></html>',
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match=EXPECTED[what]):
        check_page(browser, page, tmp_path / "bad.png")


# -- readability at 1280 px and 390 px ----------------------------------------------------------------------------

DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
VIEWPORTS = {1280: DESKTOP, 390: PHONE}
MIN_FIGURE_TEXT_PX = 9.0
READABILITY_JS = """
    const cell = c => ({text: c.textContent.trim().slice(0, 40), over: c.scrollWidth - c.clientWidth});
    const boxes = Array.from(document.querySelectorAll('.scroll')).filter(b => b.querySelector('table'));
    return {
      inner: window.innerWidth,
      clipped: Array.from(document.querySelectorAll('th, td')).map(cell).filter(c => c.over > 1),
      tables: boxes.map(b => {
        const first = b.querySelector('tr > :first-child');
        return {title: b.getAttribute('aria-label'), over: b.scrollWidth - b.clientWidth,
                sticky: first ? getComputedStyle(first).position : null,
                first: first ? first.getBoundingClientRect().width / b.clientWidth : 0};
      }),
      figures: Array.from(document.images).filter(i => i.dataset.textPx).map(i => ({
        alt: i.alt.slice(0, 40),
        px: parseFloat(i.dataset.textPx) * i.getBoundingClientRect().width / i.naturalWidth})),
    };"""


def readability(drv, path: Path, width: int) -> dict:
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[width])
    try:
        drv.get(path.resolve().as_uri())
        drv.execute_script("return document.readyState")
        return drv.execute_script(READABILITY_JS)
    finally:
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


def check_readable(drv, path: Path, width: int) -> dict:
    facts = readability(drv, path, width)
    assert facts["inner"] == width
    assert not facts["clipped"], f"clipped cell text at {width} px: {facts['clipped'][:5]}"
    if width >= 1280:
        wide = [t for t in facts["tables"] if t["over"] > 1]
        assert not wide, f"tables cut by their box at {width} px: {[(t['title'], t['over']) for t in wide]}"
    for t in facts["tables"]:
        if t["over"] > 1:  # it scrolls: its first column stays in view and leaves room for the others
            assert t["sticky"] == "sticky" and t["first"] < 0.6, f"{t['title']}: first column not fixed"
    small = [f for f in facts["figures"] if f["px"] < MIN_FIGURE_TEXT_PX]
    assert not small, f"figure text under {MIN_FIGURE_TEXT_PX} px at {width} px: {small}"
    return facts


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The report (quick) and compare pages, made through the library (no CLI)."""
    import torch

    import archlab
    from archlab.render.compare_page import compare_document
    from archlab.render.document import write_document
    from archlab.render.report_page import report_document
    from tests.helpers import records

    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("pages")
    study = archlab.report("mobilefacenet", quick=True, rf_samples=1)
    write_document(report_document(study), d / "mfn.html")
    write_document(compare_document(records.comparison(), generated="now"), d / "cmp.html")
    return d


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
@pytest.mark.parametrize("page", ["mfn.html", "cmp.html"])
def test_tables_and_figures_readable(browser, pages, page, width):
    facts = check_readable(browser, pages / page, width)
    assert facts["figures"] and facts["tables"]
    print(f"{page} at {width} px: smallest figure text {min(f['px'] for f in facts['figures']):.1f} px")


UNREADABLE = {  # a page that breaks a readability rule -> what the check must say
    "clipped cell": '<div class="scroll"><table><tr><td style="max-width:3em;overflow:hidden;white-space:nowrap">'
    "220,965,376</td></tr></table></div>",
    "tiny figure text": '<div class="scroll"><table><tr><td>1</td></tr></table></div>'
    '<img src="{png}" data-text-px="3" alt="x" style="width:100px">',
    "table cut at 1280": '<div class="scroll" style="max-width:200px"><table><tr>'
    + "".join(f"<td>{i:,}000</td>" for i in range(30))
    + "</tr></table></div>",
}
UNREADABLE_SAYS = {
    "clipped cell": "clipped cell text",
    "tiny figure text": "figure text under",
    "table cut at 1280": "tables cut by their box",
}


@pytest.mark.parametrize("what", list(UNREADABLE))
def test_the_readability_checks_catch_a_bad_page(browser, tmp_path, what):
    import base64

    from archlab.render.report_plots import png_bytes, pyplot

    png = "data:image/png;base64," + base64.b64encode(png_bytes(pyplot().figure(figsize=(1, 1)), 50)).decode()
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body>{UNREADABLE[what].replace('{png}', png)}</body></html>",
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match=UNREADABLE_SAYS[what]):
        check_readable(browser, page, 1280)
