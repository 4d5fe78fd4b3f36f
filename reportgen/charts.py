"""Plotly figures as plain, deterministic dicts; templates embed them and assets/charts.js draws them."""

from __future__ import annotations

import html
from collections.abc import Callable

Translate = Callable[..., str]

# One colour per backend position, so a backend keeps its colour across every chart of a page.
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")


def _label(text: str) -> str:
    """Escape user text for Plotly, which interprets a subset of HTML tags in labels."""
    return html.escape(str(text), quote=False)


def _ok_backends(results: dict) -> list[tuple[int, str, dict]]:
    backends = results["backends"]
    return [
        (i, name, backends[name])
        for i, name in enumerate(results["backend_order"])
        if backends[name]["status"] == "ok"
    ]


def _layout(title: str, x_title: str, y_title: str, **extra: object) -> dict:
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True, "rangemode": "tozero"},
        "margin": {"t": 56, "r": 16, "b": 48, "l": 64},
        "showlegend": False,
    }
    layout.update(extra)
    return layout


def latency_figure(results: dict, t: Translate) -> dict | None:
    """Return a box plot of every timed latency sample per backend, with the points shown."""
    traces = [
        {
            "type": "box",
            "name": _label(name),
            "y": b["latency_ms"]["samples"],
            "boxpoints": "all",
            "jitter": 0.4,
            "pointpos": 0,
            "boxmean": True,
            "marker": {"size": 4, "color": PALETTE[i % len(PALETTE)], "opacity": 0.6},
            "line": {"color": PALETTE[i % len(PALETTE)]},
        }
        for i, name, b in _ok_backends(results)
        if b.get("latency_ms") and b["latency_ms"]["samples"]
    ]
    if not traces:
        return None
    layout = _layout(t("chart.latency.title"), t("chart.axis.backend"), t("chart.axis.latency_ms"))
    return {"data": traces, "layout": layout}


def _bar_figure(results: dict, value: Callable[[dict], float | None], text: Callable[[dict], str]) -> list:
    rows = [(i, name, b) for i, name, b in _ok_backends(results) if value(b) is not None]
    if not rows:
        return []
    return [
        {
            "type": "bar",
            "x": [_label(name) for _, name, _ in rows],
            "y": [value(b) for _, _, b in rows],
            "text": [_label(text(b)) for _, _, b in rows],
            "textposition": "auto",
            "marker": {"color": [PALETTE[i % len(PALETTE)] for i, _, _ in rows]},
        }
    ]


def fps_figure(results: dict, t: Translate) -> dict | None:
    """Return a bar chart of frames per second (1000 / median latency) per backend."""
    data = _bar_figure(results, lambda b: b.get("fps"), lambda b: f"{b['fps']:.1f}")
    if not data:
        return None
    return {
        "data": data,
        "layout": _layout(t("chart.fps.title"), t("chart.axis.backend"), t("chart.axis.fps")),
    }


def size_figure(results: dict, t: Translate) -> dict | None:
    """Return a bar chart of the file each backend loads, labelled with its weight dtype."""
    data = _bar_figure(
        results,
        lambda b: b.get("file_size_mb"),
        lambda b: f"{b['file_size_mb']:.1f} MB · {b.get('weight_dtype') or '?'}",
    )
    if not data:
        return None
    layout = _layout(t("chart.size.title"), t("chart.axis.backend"), t("chart.axis.size_mb"))
    return {"data": data, "layout": layout}


def memory_figure(results: dict, t: Translate) -> dict | None:
    """Return grouped bars of RSS before load, after load and at peak per backend."""
    rows = [(name, b["memory_mb"]) for _, name, b in _ok_backends(results) if b.get("memory_mb")]
    if not rows:
        return None
    stages = (
        ("before_load", t("memory.before_load")),
        ("after_load", t("memory.after_load")),
        ("peak", t("memory.peak")),
    )
    data = [
        {
            "type": "bar",
            "name": label,
            "x": [_label(name) for name, _ in rows],
            "y": [mem[key] for _, mem in rows],
            "marker": {"color": PALETTE[4 + j]},
        }
        for j, (key, label) in enumerate(stages)
    ]
    layout = _layout(
        t("chart.memory.title"),
        t("chart.axis.backend"),
        t("chart.axis.rss_mb"),
        barmode="group",
        showlegend=True,
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
    )
    return {"data": data, "layout": layout}


def _trend(history: list[dict], names: list[str], value: Callable[[dict], float | None]) -> list[dict]:
    versions = [_label(r["version"]) for r in history]
    # Colour by position among every backend ever archived, so both trend charts agree.
    everyone = _backend_names(history, True)
    return [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _label(name),
            "x": versions,
            "y": [value(r["backends"][name]) if name in r["backends"] else None for r in history],
            "line": {"color": PALETTE[everyone.index(name) % len(PALETTE)]},
        }
        for name in names
    ]


def _backend_names(history: list[dict], include_reference: bool) -> list[str]:
    names: list[str] = []
    for r in history:
        for name in r["backend_order"]:
            if name not in names and (include_reference or name != r["reference"]):
                names.append(name)
    return names


def _ok(b: dict, key: str, sub: str | None = None) -> float | None:
    if b["status"] != "ok" or b.get(key) is None:
        return None
    return b[key][sub] if sub else b[key]


def latency_trend_figure(history: list[dict], t: Translate) -> dict:
    """Return median latency per backend across versions (history oldest first)."""
    data = _trend(history, _backend_names(history, True), lambda b: _ok(b, "latency_ms", "median"))
    layout = _layout(
        t("chart.trend_latency.title"),
        t("chart.axis.version"),
        t("chart.axis.latency_ms"),
        showlegend=True,
    )
    layout["xaxis"]["type"] = "category"
    return {"data": data, "layout": layout}


def speedup_trend_figure(history: list[dict], t: Translate) -> dict:
    """Return each backend's speed-up over the reference across versions (history oldest first)."""
    data = _trend(history, _backend_names(history, False), lambda b: _ok(b, "speedup"))
    layout = _layout(
        t("chart.trend_speedup.title"),
        t("chart.axis.version"),
        t("chart.axis.speedup"),
        showlegend=True,
    )
    layout["xaxis"]["type"] = "category"
    # The break-even line: above it the backend is faster than the reference.
    layout["shapes"] = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": 1,
            "y1": 1,
            "line": {"dash": "dot", "width": 1, "color": "#888888"},
        }
    ]
    return {"data": data, "layout": layout}
