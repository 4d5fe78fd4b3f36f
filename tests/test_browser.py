"""Open the built site in real headless Chromium: charts render, the console stays clean.

Builds from the hand-written tests/data/results_v1.json (two versions), then opens the report and the
index from file:// and from an HTTP server where the site sits under a sub-path (/project/site/).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from reportgen import site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DATA = Path(__file__).parent / "data" / "results_v1.json"

# Charts drawn, or given up on by charts.js (Plotly missing): either way the page has settled.
SETTLED = "document.querySelectorAll('.chart .main-svg, .chart.chart-missing').length"
CHARTS = """() => Array.from(document.querySelectorAll('.chart')).map(div => ({
    id: div.id,
    svg: div.querySelectorAll('.main-svg').length,
    traces: (div.data || []).length,
    drawn: div.querySelectorAll('.main-svg .trace').length,
}))"""


def _build(root: Path) -> Path:
    results = json.loads(DATA.read_text(encoding="utf-8"))
    site_dir = root / "project" / "site"
    site.build_site(site_dir, results, "version: 0.1.0\n")
    newer = copy.deepcopy(results)
    newer["version"], newer["created_at"] = "0.2.0", "2026-12-05T10:00:00Z"
    site.build_site(site_dir, newer, "version: 0.2.0\n")
    return site_dir


def _open(browser, url: str, expected_charts: int, color_scheme: str = "light") -> None:
    context = browser.new_context(color_scheme=color_scheme)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
    page.on(
        "response",
        lambda r: (
            r.status >= 400 and not r.url.endswith("/favicon.ico") and problems.append(f"{r.status}: {r.url}")
        ),
    )
    try:
        page.goto(url, wait_until="load")
        page.wait_for_function(
            f"{SETTLED} >= {expected_charts}",
            timeout=20_000,
        )
        charts = page.evaluate(CHARTS)
    finally:
        context.close()
    problems = [p for p in problems if "favicon.ico" not in p]
    assert problems == [], url
    assert len(charts) == expected_charts, (url, charts)
    for chart in charts:
        assert chart["svg"] > 0 and chart["traces"] > 0 and chart["drawn"] > 0, (url, chart)


def test_pages_render_charts_from_file_urls(chromium_browser, tmp_path):
    site_dir = _build(tmp_path)
    _open(chromium_browser, (site_dir / "0.2.0" / "index.html").as_uri(), 4)
    _open(chromium_browser, (site_dir / "0.1.0" / "index.html").as_uri(), 4, color_scheme="dark")
    _open(chromium_browser, (site_dir / "index.html").as_uri(), 2)


def test_pages_render_charts_under_a_sub_path(chromium_browser, http_root):
    root, base = http_root
    _build(root)
    _open(chromium_browser, f"{base}/project/site/0.2.0/index.html", 4)
    _open(chromium_browser, f"{base}/project/site/index.html", 2)
    _open(chromium_browser, f"{base}/project/site/", 2)
