"""Open the built site in real headless Chromium: every chart renders with data, the console stays clean.

Builds the REAL 8-backend demo document (tests/data/results_demo.json) as two versions, the second in
Korean, then opens both reports and the index from file:// and from an HTTP server where the site sits
under a sub-path (/project/site/), in light and dark schemes, at a desktop and a phone's width; and a
version merged from two machines (one page, a section and a latency chart per machine).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from reportgen.release import archive
from reportgen.results import merge
from reportgen.results.document import read_results

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DATA = Path(__file__).parent / "data" / "results_demo.json"
REPORT_CHARTS, INDEX_CHARTS = 8, 5  # the report has a chart of the rounds

# Charts drawn, or given up on by charts.js (Plotly missing): either way the page has settled.
SETTLED = "document.querySelectorAll('.chart .main-svg, .chart.chart-missing').length"
CHARTS = """() => Array.from(document.querySelectorAll('.chart')).map(div => ({
    id: div.id,
    svg: div.querySelectorAll('.main-svg').length,
    traces: (div.data || []).length,
    points: (div.data || []).reduce((n, t) => n + ((t.x || []).length || (t.y || []).length), 0),
    drawn: div.querySelectorAll('.main-svg .trace').length,
    title: (div.querySelector('.gtitle') || {}).textContent || '',
}))"""
PAGE = """() => ({
    headings: Array.from(document.querySelectorAll('h2')).map(h => h.textContent.trim()),
    lang: document.documentElement.lang,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    background: getComputedStyle(document.body).backgroundColor,
    images: Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length,
})"""


def _build(root: Path) -> Path:
    results = read_results(DATA)
    site_dir = root / "project" / "site"
    archive.build_site(site_dir, results, "version: 0.1.0\n")
    newer = copy.deepcopy(results)
    newer["version"], newer["created_at"] = "0.2.0", "2026-12-05T10:00:00Z"
    archive.build_site(site_dir, newer, "version: 0.2.0\n", locale="ko")
    return site_dir


def _open(browser, url: str, expected: int, scheme: str = "light", width: int = 1280, media: str = "screen"):
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))
    try:
        page.emulate_media(media=media)
        page.goto(url, wait_until="load")
        page.wait_for_function(f"{SETTLED} >= {expected}", timeout=30_000)
        charts, info = page.evaluate(CHARTS), page.evaluate(PAGE)
        hidden = page.evaluate("getComputedStyle(document.querySelector('.site-header')).display")
        # Printing opens every folded section (charts.js), so paper shows all findings and the config.
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        closed = page.evaluate("document.querySelectorAll('details:not([open])').length")
    finally:
        context.close()
    assert problems == [], url
    assert len(charts) == expected, (url, charts)
    for chart in charts:
        assert chart["svg"] > 0 and chart["traces"] > 0 and chart["drawn"] > 0, (url, chart)
        assert chart["points"] > 0 and chart["title"], (url, chart)
    assert info["overflow"] <= 0, (url, width, info["overflow"])  # wide tables scroll inside the page
    assert closed == 0, url
    return {**info, "header": hidden}


def test_pages_render_charts_from_file_urls(chromium_browser, tmp_path):
    site_dir = _build(tmp_path)
    english = _open(chromium_browser, (site_dir / "0.1.0" / "index.html").as_uri(), REPORT_CHARTS)
    assert english["lang"] == "en" and english["headings"][:2] == ["Verdict", "Headline comparison"]
    assert english["images"] == 8  # the example pictures: four images, reference and INT8 side by side
    korean = _open(chromium_browser, (site_dir / "0.2.0" / "index.html").as_uri(), REPORT_CHARTS, "dark")
    assert korean["lang"] == "ko"
    assert korean["headings"][:4] == ["판정", "핵심 비교", "주요 발견사항", "감지 품질과 출력 일치"]
    assert all(re.search(r"[\uac00-\ud7a3]", h) for h in korean["headings"])
    assert korean["background"] == "rgb(20, 23, 28)"  # the dark scheme follows the system
    index = _open(chromium_browser, (site_dir / "index.html").as_uri(), INDEX_CHARTS)
    assert index["lang"] == "ko"  # the newest version's language


def test_pages_render_charts_under_a_sub_path(chromium_browser, http_root):
    root, base = http_root
    _build(root)
    _open(chromium_browser, f"{base}/project/site/0.1.0/index.html", REPORT_CHARTS)
    _open(chromium_browser, f"{base}/project/site/0.2.0/index.html", REPORT_CHARTS)
    _open(chromium_browser, f"{base}/project/site/index.html", INDEX_CHARTS)
    _open(chromium_browser, f"{base}/project/site/", INDEX_CHARTS)


def test_pages_fit_a_phone_and_print(chromium_browser, tmp_path):
    site_dir = _build(tmp_path)
    report = (site_dir / "0.1.0" / "index.html").as_uri()
    _open(chromium_browser, report, REPORT_CHARTS, width=375)
    _open(chromium_browser, (site_dir / "index.html").as_uri(), INDEX_CHARTS, width=375)
    # An A4 page is about 800 CSS pixels wide: everything must fit it, in the light palette.
    printed = _open(chromium_browser, report, REPORT_CHARTS, scheme="dark", width=800, media="print")
    assert printed["header"] == "none" and printed["background"] == "rgb(255, 255, 255)"


def _build_merged(root: Path) -> Path:
    results = read_results(DATA)
    other = copy.deepcopy(results)
    other["environment"]["cpu"] = "AMD EPYC 7763 64-Core Processor"
    for b in other["backends"].values():
        if b["status"] == "ok":
            b["latency_ms"]["samples"] = [s * 1.5 for s in b["latency_ms"]["samples"]]
    site_dir = root / "site"
    archive.build_site(site_dir, merge.merge([("x64", results), ("amd", other)]), None)
    return site_dir


def test_a_merged_page_renders_each_machines_charts(chromium_browser, tmp_path, http_root):
    site_dir = _build_merged(tmp_path)
    page = site_dir / "0.1.0" / "index.html"
    merged = _open(chromium_browser, page.as_uri(), 2)
    assert merged["headings"][:3] == [
        "Machines",
        f"Machine {merge.machine_label(read_results(DATA)['environment'])}",
        "Machine amd-epyc-7763-linux-2c",
    ]
    _open(chromium_browser, page.as_uri(), 2, "dark", width=375)
    _open(chromium_browser, page.as_uri(), 2, width=800, media="print")
    _open(chromium_browser, (site_dir / "index.html").as_uri(), 0)
    root, base = http_root
    _build_merged(root / "project")
    _open(chromium_browser, f"{base}/project/site/0.1.0/index.html#machine-amd-epyc-7763-linux-2c", 2)
