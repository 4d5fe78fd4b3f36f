"""The report's charts: title, axes, caption and the measured data of each."""

from __future__ import annotations

import math
import re

from report_helpers import candidates, page_figures

from reportgen.report import render as site


def test_every_chart_has_title_axes_caption_and_the_measured_data(demo):
    page = site.render_report(demo)
    figures = page_figures(page)
    assert set(figures) == {
        "chart-latency",
        "chart-rounds",
        "chart-fps",
        "chart-memory",
        "chart-size",
        "chart-agreement",
        "chart-confidence",
        "chart-score",
    }
    for name, figure in figures.items():
        layout = figure["layout"]
        assert figure["data"] and layout["title"]["text"], name
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"], name
        units = layout["xaxis"]["title"]["text"] + layout["yaxis"]["title"]["text"]
        assert "(" in units, name  # a unit in parentheses on the value axis
        caption = re.search(rf'id="{name}-data".*?</script>\s*<figcaption>(.+?)</figcaption>', page, re.S)
        assert caption and caption.group(1).strip(), name
    latency = figures["chart-latency"]["data"]
    assert [t["name"] for t in latency] == demo["backend_order"]
    for trace in latency:
        samples = demo["backends"][trace["name"]]["latency_ms"]["samples"]
        assert (
            len(trace["x"]) == len(samples)
            and max(abs(a - b) for a, b in zip(trace["x"], samples)) <= 5.001e-4
        )
    for trace in figures["chart-confidence"]["data"]:
        assert sum(trace["y"]) == len(demo["backends"][trace["name"]]["parity"]["abs_confidence_deltas"])
    agreement = figures["chart-agreement"]["data"][0]
    rates = [100 * demo["backends"][n]["parity"]["detection_match_rate"] for n in candidates(demo)]
    assert agreement["y"] == candidates(demo) and [round(r, 2) for r in agreement["x"]] == [
        round(r, 2) for r in rates
    ]
    size = figures["chart-size"]["data"]
    for i, name in enumerate(demo["backend_order"]):
        total = sum(t["x"][i] for t in size)
        assert math.isclose(total, demo["backends"][name]["file_size_mb"], rel_tol=1e-3), name
    assert {t["name"] for t in size} >= {"float16", "float32", "int8"}
    memory = figures["chart-memory"]["data"]
    assert [t["name"] for t in memory] == ["Before load", "After load", "Peak"]
    assert "onclick" not in page.lower() and "javascript:" not in page.lower()
