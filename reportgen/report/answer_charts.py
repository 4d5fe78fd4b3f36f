"""Charts of the answers: how many of the reference's predictions each backend agrees on, and how
far the confidences of matched detections moved (a histogram of |Δconfidence| on a log scale)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

from reportgen.analysis.nothing import compared
from reportgen.report.charts import (
    backend_color,
    base_layout,
    horizontal,
    ok_backends,
    plain_label,
    reference_line,
    rounded,
    with_legend,
)
from reportgen.report.locale import Locale
from reportgen.results.schema import Document, Parity


def _parities(results: Document) -> list[tuple[int, str, Mapping[str, Any]]]:
    """Return (colour, name, parity) of each compared candidate; a parity is read by key name below."""
    return [(i, n, p) for i, n, b in ok_backends(results) if n != results["reference"] and (p := b["parity"])]


# The agreement a task measured: the first found is the main series (coloured per backend, with
# counts for detections), the second a grey companion (mask IoU, top-5 overlap, mIoU against the
# reference's classes).
AGREEMENT = (
    ("detection_match_rate", "mask_iou_mean", "chart.agreement.matched", "chart.agreement.mask_iou"),
    ("top1_agreement", "top5_overlap", "chart.agreement.top1", "chart.agreement.top5"),
    ("pixel_agreement", "miou_vs_reference", "chart.agreement.pixels", "chart.agreement.miou"),
)


def _counts(p: Mapping[str, Any], loc: Locale) -> str:
    if p.get("matched") is None:
        return ""
    return plain_label(
        loc.t(
            "chart.agreement.counts",
            matched=loc.num(p.get("matched")),
            reference=loc.num(p.get("unmatched_reference")),
            candidate=loc.num(p.get("unmatched_candidate")),
        )
    )


def agreement_figure(results: Document, min_match_rate: float, loc: Locale, top5: bool = True) -> dict | None:
    """Return a dot plot of each backend's agreement with the reference, with the required share
    (``top5``: whether top-5 overlap means anything, more than five classes)."""
    found = _parities(results)
    measured = [(series, rows) for series in AGREEMENT if (rows := [r for r in found if series[0] in r[2]])]
    if not measured:
        return None
    (main, companion, main_label, companion_label), rows = measured[0]
    names = [plain_label(n) for _, n, _ in rows]
    # 0 of 0 detections agree on nothing: no dot (the table says "0 of 0"), never 100%.
    shares = [None if compared(cast(Parity, p)) == 0 else 100 * p[main] for _, _, p in rows]
    data = [
        {
            "type": "scatter",
            "mode": "markers+text",
            "name": loc.t(main_label),
            "y": names,
            "x": [rounded(v) for v in shares],
            "text": [_counts(p, loc) for _, _, p in rows],
            "textposition": "middle left",
            "marker": {"size": 12, "color": [backend_color(i) for i, _, _ in rows], "symbol": "circle"},
        }
    ]
    # Mask IoU may be null (no matched masks); top-5 overlap is 100% by construction with few classes.
    others = [p.get(companion) if top5 or companion != "top5_overlap" else None for _, _, p in rows]
    if any(v is not None for v in others):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": loc.t(companion_label),
                "y": names,
                "x": [rounded(100 * v) if v is not None else None for v in others],
                "marker": {"size": 10, "color": "#888888", "symbol": "diamond-open", "line": {"width": 2}},
            }
        )
    low = min(
        [*(v for v in shares if v is not None), *(100 * v for v in others if v is not None)]
        + [100 * min_match_rate]
    )
    layout = base_layout(
        loc.t("chart.agreement.title"), loc.t("chart.axis.percent"), loc.t("chart.axis.backend")
    )
    layout = horizontal(layout, len(rows), legend=len(data))
    # Zoomed to the interesting range: every value and the requirement, with room for the labels.
    layout["xaxis"].update(
        range=[rounded(max(0.0, low - (100 - low) * 1.5 - 0.5)), 100.3], rangemode="normal"
    )
    layout["shapes"] = [reference_line(100 * min_match_rate, vertical=True)]
    layout["annotations"] = [
        {
            "x": rounded(100 * min_match_rate),
            "y": 1,
            "xref": "x",
            "yref": "paper",
            "xanchor": "right",
            "yanchor": "bottom",
            "showarrow": False,
            "text": plain_label(loc.t("chart.agreement.required", rate=loc.rate(min_match_rate))),
            "font": {"size": 11},
        }
    ]
    return {"data": data, "layout": layout}


def _superscript(n: int) -> str:
    return f"10{str(n).translate(str.maketrans('-0123456789', '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'))}"


def confidence_delta_figure(results: Document, loc: Locale) -> dict | None:
    """Return a histogram of |Δconfidence| of matched detections per backend, one bar per decade."""
    rows = [(i, n, p.get("abs_confidence_deltas", [])) for i, n, p in _parities(results)]
    rows = [r for r in rows if r[2]]
    if not rows:
        return None
    nonzero = [d for _, _, deltas in rows for d in deltas if d > 0]
    # Decades from the smallest to the largest difference seen; exact zeros get a bin of their own.
    first = math.floor(math.log10(min(nonzero))) if nonzero else 0
    last = max(math.floor(math.log10(max(nonzero))), first) if nonzero else -1
    labels = [loc.t("chart.confidence.zero")] + [
        f"{_superscript(e)}–{_superscript(e + 1)}" for e in range(first, last + 1)
    ]

    def counts(deltas: list[float]) -> list[int]:
        bins = [0] * len(labels)
        for d in deltas:
            bins[0 if d <= 0 else min(max(math.floor(math.log10(d)) - first, 0), last - first) + 1] += 1
        return bins

    data = [
        {
            "type": "bar",
            "name": plain_label(name),
            "meta": name,  # the unescaped name, for the table under the chart
            "x": labels,
            "y": counts(deltas),
            "marker": {"color": backend_color(i)},
        }
        for i, name, deltas in rows
    ]
    layout = base_layout(
        loc.t("chart.confidence.title"),
        loc.t("chart.axis.confidence_delta"),
        loc.t("chart.axis.pairs"),
        barmode="group",
    )
    layout = with_legend(layout, len(data))
    layout["xaxis"]["type"] = "category"
    layout["yaxis"]["rangemode"] = "tozero"
    return {"data": data, "layout": layout}
