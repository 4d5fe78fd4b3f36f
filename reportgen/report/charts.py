"""Plotly figures as plain, deterministic dicts; templates embed them and assets/charts.js draws them.

Every figure has a title and axis titles with units; the page gives it a caption and keeps the same
numbers in a table. Values are rounded to what the tables show, so pages stay small and stable.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

from reportgen.report.locale import Locale
from reportgen.results.schema import Document, Measured, measured
from reportgen.states import speed_states
from reportgen.stats import Slice, Speedup, slices

# One colour per backend position, so a backend keeps its colour across every chart of a page; twelve,
# so that configs/demo-all.yaml's eleven backends never share one (seaborn's "deep" and two more).
PALETTE = (
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
    "#2f4b7c",
    "#a05195",
)
# Sequential shades for stages and parts that are not backends (memory stages, dtypes, score parts).
STAGES = ("#a6c8e8", "#5b9bd5", "#1f4e79")
PARTS = ("#4c72b0", "#55a868", "#dd8452", "#8172b3", "#937860", "#c44e52", "#8c8c8c")
ROW_PX, BASE_PX = 38, 120  # height of a horizontal chart: a band per backend plus title and axis


def localized(figures: Mapping[str, dict | None], loc: Locale) -> dict[str, dict]:
    """Return the figures that exist, their axes writing numbers the locale's way (1,234.5 or 1.234,5)."""
    separators = loc.t("format.decimal") + loc.t("format.group")
    for figure in figures.values():
        if figure is not None:
            figure["layout"]["separators"] = separators
    return {key: figure for key, figure in figures.items() if figure is not None}


def plain_label(text: object) -> str:
    """Escape user text for Plotly, which interprets a subset of HTML tags in labels."""
    return html.escape(str(text), quote=False)


def rounded(x: float | None, digits: int = 4) -> float | None:
    """Round to `digits` significant digits; None, NaN and infinities become None (a gap, valid JSON)."""
    if x is None or isinstance(x, bool) or not math.isfinite(x):
        return None
    return x if x == 0 else round(x, digits - 1 - math.floor(math.log10(abs(x))))


def ok_backends(results: Document) -> list[tuple[int, str, Measured]]:
    """Return (colour index, name, backend) of the successful backends, the reference first."""
    ref = results["reference"]
    names = [ref] + [n for n in results["backend_order"] if n != ref]
    found = ((name, measured(results["backends"][name])) for name in names)
    return [(results["backend_order"].index(name), name, b) for name, b in found if b is not None]


def backend_color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def base_layout(title: str, x_title: str, y_title: str, **extra: object) -> dict:
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True},
        "margin": {"t": 56, "r": 24, "b": 48, "l": 64},
        "showlegend": False,
    }
    layout.update(extra)
    return layout


def with_legend(layout: dict, items: int) -> dict:
    """Show the legend in rows under the plot, where it never covers the title or the data."""
    rows = math.ceil(items / 5)
    layout["showlegend"] = True
    layout["legend"] = {
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "y": 0,
        "yanchor": "bottom",
        "yref": "container",
        "traceorder": "normal",
    }
    layout["margin"] = {**layout["margin"], "b": 64 + 24 * rows}
    layout["height"] = layout.get("height", 400) + 24 * rows
    return layout


def horizontal(layout: dict, rows: int, legend: int = 0) -> dict:
    """Lay out one band per backend, top to bottom in page order, with a legend of `legend` items."""
    layout["yaxis"].update(autorange="reversed", type="category")
    layout["xaxis"]["rangemode"] = "tozero"
    layout["height"] = BASE_PX + ROW_PX * rows
    return with_legend(layout, legend) if legend else layout


def latency_figure(results: Document, loc: Locale) -> dict | None:
    """Return a box plot of every timed latency sample per backend (outliers drawn as points)."""
    traces = [
        {
            "type": "box",
            "orientation": "h",
            "name": plain_label(name),
            "x": [rounded(s, 6) for s in b["latency_ms"]["samples"]],
            "boxpoints": "outliers",
            "boxmean": True,
            "marker": {"size": 3, "color": backend_color(i), "opacity": 0.7},
            "line": {"color": backend_color(i), "width": 1.5},
        }
        for i, name, b in ok_backends(results)
    ]
    if not traces:
        return None
    layout = base_layout(
        loc.t("chart.latency.title"), loc.t("chart.axis.latency_ms"), loc.t("chart.axis.backend")
    )
    return {"data": traces, "layout": horizontal(layout, len(traces))}


def rounds_figure(results: Document, loc: Locale) -> dict | None:
    """Return every round's median per backend as dots, with the median of the rounds as a bar."""
    traces: list[dict[str, Any]] = []
    rows = 0
    for i, name, b in ok_backends(results):
        rounds = b["rounds"] or []
        if len(rounds) < 2:
            continue
        rows += 1
        label, color = plain_label(name), backend_color(i)
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "x": [rounded(r["median_ms"], 6) for r in rounds],
                "y": [label] * len(rounds),
                "text": [loc.t("chart.rounds.round", n=k) for k in range(1, len(rounds) + 1)],
                "hovertemplate": "%{text}: %{x} ms<extra></extra>",
                "marker": {"size": 9, "color": color, "opacity": 0.8, "symbol": "circle-open"},
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": loc.t("chart.rounds.median"),
                "x": [rounded(b["latency_ms"]["median"], 6)],
                "y": [label],
                "hovertemplate": loc.t("chart.rounds.median") + ": %{x} ms<extra></extra>",
                "marker": {"size": 24, "color": color, "symbol": "line-ns-open", "line": {"width": 2}},
                "showlegend": False,
            }
        )
    if not traces:
        return None
    layout = base_layout(
        loc.t("chart.rounds.title"), loc.t("chart.axis.latency_ms"), loc.t("chart.axis.backend")
    )
    layout["showlegend"] = False
    return {"data": traces, "layout": horizontal(layout, rows)}


def batch_figure(results: Document, loc: Locale) -> dict | None:
    """Return throughput (items/s) against batch size, one line per backend; None at one batch size."""
    traces: list[dict[str, Any]] = []
    for i, name, b in ok_backends(results):
        sizes = b.get("by_batch_size") or {}
        measured = sorted((int(k), v) for k, v in sizes.items() if v["status"] == "ok")
        if len(sizes) < 2 or not measured:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": plain_label(name),
                "x": [size for size, _ in measured],
                "y": [rounded(v["throughput_per_s"]) for _, v in measured],
                "marker": {"size": 8, "color": backend_color(i)},
                "line": {"color": backend_color(i), "width": 2},
            }
        )
    if not traces:
        return None
    layout = base_layout(
        loc.t("chart.batch.title"), loc.t("chart.axis.batch_size"), loc.t("chart.axis.throughput")
    )
    layout["xaxis"] |= {"type": "log", "tickvals": sorted({x for t in traces for x in t["x"]})}
    return {"data": traces, "layout": with_legend(layout, len(traces))}


def _bars(
    results: Document, value: Callable[[Measured], float | None], text: Callable[[str, Measured], str]
) -> list[dict]:
    rows = [(i, name, b) for i, name, b in ok_backends(results) if value(b) is not None]
    if not rows:
        return []
    return [
        {
            "type": "bar",
            "orientation": "h",
            "y": [plain_label(name) for _, name, _ in rows],
            "x": [rounded(value(b)) for _, _, b in rows],
            "text": [plain_label(text(name, b)) for _, name, b in rows],
            "textposition": "auto",
            "marker": {"color": [backend_color(i) for i, _, _ in rows]},
        }
    ]


def fps_figure(results: Document, speedups: Mapping[str, Speedup], loc: Locale, rate: str) -> dict | None:
    """Return a bar chart of throughput per backend (``rate``: its unit, FPS for images), each
    candidate's speed-up beside it."""

    def text(name: str, b: Measured) -> str:
        speedup = f" · {loc.ratio(speedups[name].value)}" if name in speedups else ""
        return f"{loc.fixed(b['fps'], 1)}{speedup}"

    data = _bars(results, lambda b: b["fps"], text)
    if not data:
        return None
    layout = base_layout(
        loc.t("chart.fps.title"), loc.t("chart.axis.fps", rate=rate), loc.t("chart.axis.backend")
    )
    return {"data": data, "layout": horizontal(layout, len(data[0]["y"]))}


def memory_figure(results: Document, loc: Locale) -> dict | None:
    """Return grouped bars of RSS before load, after load and at peak per backend."""
    rows = [(name, b["memory_mb"]) for _, name, b in ok_backends(results)]
    if not rows:
        return None
    stages: tuple[Literal["before_load", "after_load", "peak"], ...] = ("before_load", "after_load", "peak")
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": loc.t(f"memory.{key}"),
            "y": [plain_label(name) for name, _ in rows],
            "x": [rounded(mem[key]) for _, mem in rows],
            "marker": {"color": STAGES[j]},
        }
        for j, key in enumerate(stages)
    ]
    layout = base_layout(loc.t("chart.memory.title"), loc.t("chart.axis.rss_mb"), loc.t("chart.axis.backend"))
    layout["barmode"] = "group"
    layout = horizontal(layout, len(rows), legend=len(data))
    layout["height"] += ROW_PX * len(rows)  # three bars per band
    return {"data": data, "layout": layout}


def size_figure(results: Document, loc: Locale) -> dict | None:
    """Return stacked bars of each backend's model file: megabytes of weights per dtype, and the rest."""
    rows = [(name, b, size) for _, name, b in ok_backends(results) if (size := b["file_size_mb"])]
    if not rows:
        return None
    mib = 1024 * 1024  # file_size_mb counts 2^20 bytes, as the file system reports it
    dtypes = sorted({d for _, b, _ in rows for d in (b["weight_dtypes"] or {})})
    parts = [
        (dtype, [(b["weight_dtypes"] or {}).get(dtype, 0) / mib for _, b, _ in rows]) for dtype in dtypes
    ]
    weights = [sum(values[k] for _, values in parts) for k in range(len(rows))]
    other = [max(size - w, 0.0) for (_, _, size), w in zip(rows, weights)]
    parts.append((loc.t("chart.size.other"), other))
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": plain_label(label),
            "y": [plain_label(name) for name, _, _ in rows],
            "x": [rounded(v) for v in values],
            "marker": {"color": PARTS[j % len(PARTS)]},
        }
        for j, (label, values) in enumerate(parts)
        if any(v > 0 for v in values)
    ]
    layout = base_layout(loc.t("chart.size.title"), loc.t("chart.axis.size_mb"), loc.t("chart.axis.backend"))
    layout["barmode"] = "stack"
    return {"data": data, "layout": horizontal(layout, len(rows), legend=len(data))}


def reference_line(at: float, vertical: bool = False) -> dict:
    """Return a dotted reference line across the plot (a threshold, break-even)."""
    axis = (
        {"x0": at, "x1": at, "xref": "x", "y0": 0, "y1": 1, "yref": "paper"}
        if vertical
        else {"y0": at, "y1": at, "yref": "y", "x0": 0, "x1": 1, "xref": "paper"}
    )
    return {"type": "line", **axis, "line": {"dash": "dot", "width": 1.5, "color": "#888888"}}


def score_figure(scores: list[dict], weights: dict[str, float], loc: Locale) -> dict | None:
    """Return stacked bars of each backend's overall score, split into its weighted sub-scores."""
    rows = sorted((r for r in scores if r["score"] is not None), key=lambda r: -float(r["score"]))
    if not rows:
        return None
    names = [plain_label(r["backend"]) for r in rows]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": plain_label(loc.t(f"score.part.{part}")),
            "y": names,
            "x": [rounded(r["contributions"].get(part, 0.0), 3) for r in rows],
            "marker": {"color": PARTS[j]},
        }
        for j, part in enumerate(weights)
    ]
    data.append(  # the total at the end of each bar
        {
            "type": "scatter",
            "mode": "text",
            "y": names,
            "x": [rounded(r["score"], 3) for r in rows],
            "text": [loc.fixed(r["score"], 0) for r in rows],
            "textposition": "middle right",
            "showlegend": False,
            "hoverinfo": "skip",
        }
    )
    layout = base_layout(loc.t("chart.score.title"), loc.t("chart.axis.score"), loc.t("chart.axis.backend"))
    layout["barmode"] = "stack"
    layout = horizontal(layout, len(rows), legend=len(weights))
    layout["xaxis"].update(range=[0, 108], rangemode="normal")
    return {"data": data, "layout": layout}


def _reference_slices(results: Document) -> list[Slice]:
    """Return the reference's time-paired slices in time order ([] before schema 4's slices)."""
    ref = measured(results["backends"][results["reference"]])
    if ref is None or not ref["slices"]:
        return []
    records = [dict(r) for r in ref["slices"]]  # stats reads plain dicts
    return sorted(slices(records, ref["latency_ms"]["samples"]), key=lambda s: s.start_s)


def states_figure(results: Document, loc: Locale) -> dict | None:
    """Return the reference's slice medians over the run, coloured by the machine's speed state: the
    states paired slices cancel, and the reason a speed-up over unpaired rounds moved (issue 17)."""
    series = _reference_slices(results)
    if not series:
        return None
    slow = speed_states(series).slow
    traces = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": loc.t(key),
            "x": [rounded(s.start_s, 4) for s, is_slow in zip(series, slow) if is_slow == state],
            "y": [rounded(s.median_ms, 6) for s, is_slow in zip(series, slow) if is_slow == state],
            "marker": {"size": 6, "color": color},
        }
        for state, key, color in (
            (False, "chart.states.fast", STAGES[2]),
            (True, "chart.states.slow", PARTS[5]),
        )
        if state in slow
    ]
    title, x_title = loc.t("chart.states.title"), loc.t("chart.axis.time_s")
    return {
        "data": traces,
        "layout": with_legend(base_layout(title, x_title, loc.t("chart.axis.latency_ms")), len(traces)),
    }


def states_caption(results: Document, loc: Locale) -> str | None:
    """Return what the states chart shows in numbers: each state's level, the share slow, the switches."""
    series = _reference_slices(results)
    if not series:
        return None
    found = speed_states(series)
    if not found.seen:
        return loc.t("chart.states.caption_one", level=loc.ms(found.fast_ms))
    return loc.t(
        "chart.states.caption",
        fast=loc.ms(found.fast_ms),
        slow=loc.ms(found.slow_ms),
        share=loc.rate(found.slow_share),
        switches=loc.num(found.switches),
    )
