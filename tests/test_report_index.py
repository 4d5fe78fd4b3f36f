"""The index page: every version newest first, badges, trends, the newest version's language."""

from __future__ import annotations

import math
import re

from report_helpers import as_version, page_figures, page_text

from reportgen.analysis import rules
from reportgen.analysis.finding import speedup_of
from reportgen.analysis.verdicts import speed_verdict
from reportgen.release import archive
from reportgen.report import render as site


def test_index_lists_versions_newest_first_with_badges_and_trends(demo, tmp_path):
    old = as_version(demo, "0.1.0", "2026-11-28T05:40:00Z")
    new = as_version(demo, "0.2.0", "2026-12-05T10:00:00Z", latency_factor=0.8)
    archive.build_site(tmp_path / "site", new, None)  # built first, yet newer by created_at
    archive.build_site(tmp_path / "site", old, None)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<tr data-version="([^"]+)">', index) == ["0.2.0", "0.1.0"]
    assert 'href="0.2.0/index.html"' in index and 'href="0.1.0/index.html"' in index
    assert 'href="assets/style.css"' in index
    row = page_text(re.search(r'<tr data-version="0.1.0">(.*?)</tr>', index, re.S).group(1))
    verdicts = [
        speed_verdict((s.low, s.high), 0.05) for n in demo["backend_order"][1:] if (s := speedup_of(demo, n))
    ]
    counts = {v: verdicts.count(v) for v in ("faster", "slower")}
    assert "5 same answers" in row and "2 close answers" in row and f"{counts['faster']} faster" in row
    assert (f"{counts['slower']} slower" in row) == bool(counts["slower"])
    advice = next(f for f in rules.findings(old) if f["id"].startswith("recommend."))  # judged as shown
    assert (
        f"{advice['backend']} ({advice['params']['speedup']:.2f}× faster)" in row
        and "close, not identical" in row
    )
    assert "28 November 2026, 05:40 UTC" in row
    figures = page_figures(index)
    assert list(figures) == [
        f"chart-trend-{k}" for k in ("latency", "speedup", "size", "max_abs_diff", "detections")
    ]
    latency = {t["name"]: t["y"] for t in figures["chart-trend-latency"]["data"]}
    for name in demo["backend_order"]:
        medians = [r["backends"][name]["latency_ms"]["median"] for r in (old, new)]
        assert all(math.isclose(a, b, rel_tol=1e-3) for a, b in zip(latency[name], medians)), name
    assert figures["chart-trend-max_abs_diff"]["layout"]["yaxis"]["type"] == "log"
    assert site.render_index([old, new]) == site.render_index([new, old])
    single = site.render_index([old])
    assert "chart-trend" not in single and "plotly.min.js" not in single


def test_index_speaks_the_newest_versions_language(demo):
    old = as_version(demo, "0.1.0", "2026-11-28T05:40:00Z")
    new = as_version(demo, "0.2.0", "2026-12-05T10:00:00Z")
    new["locale"] = "ko"
    index = site.render_index([old, new])
    assert '<html lang="ko">' in index and "변환 보고서" in index
    assert index.count("결과 동일 5") == 2 and "same answers" not in index
    assert "2026년 12월 5일" in index
