"""The index's trend charts: one line per backend across the archived versions, oldest first.

Each point carries its noise as error bars (the speed-up's 95% interval over the rounds; the range of
the round medians for latency), so a change between releases is visibly inside or outside the noise.
"""

from __future__ import annotations

from collections.abc import Callable

from reportgen.analysis.comparable import backend_change, comparable, run_changes
from reportgen.analysis.finding import speedup_of
from reportgen.report.charts import (
    backend_color,
    base_layout,
    plain_label,
    reference_line,
    rounded,
    with_legend,
)
from reportgen.report.locale import Locale
from reportgen.results.schema import Backend, Document

# What a trend reads of one version for one backend: a value, and (low, high) around it.
Value = Callable[[Document, str], float | None]
Bounds = Callable[[Document, str], list[float] | None]


def _backend_names(history: list[Document], include_reference: bool) -> list[str]:
    names: list[str] = []
    for r in history:
        for name in r["backend_order"]:
            if name not in names and (include_reference or name != r["reference"]):
                names.append(name)
    return names


def _ok(r: Document, name: str) -> Backend | None:
    backend = r["backends"].get(name)  # a version that did not measure this backend: no point
    return backend if backend is not None and backend["status"] == "ok" else None


def _at(*path: str) -> Value:
    """Return the reader of a successful backend's value at ``path`` (through nulls: a reference has
    no parity)."""

    def value(r: Document, name: str) -> float | None:
        found: object = _ok(r, name)
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        return rounded(found) if isinstance(found, (int, float)) and not isinstance(found, bool) else None

    return value


def _speedup(r: Document, name: str) -> float | None:
    measured = speedup_of(r, name) if name != r["reference"] and name in r["backends"] else None
    return rounded(measured.value) if measured else None


def _speedup_bounds(r: Document, name: str) -> list[float] | None:
    measured = speedup_of(r, name)  # the analysis's own estimate, as the version's page shows it
    return [measured.low, measured.high] if measured else None


def _round_bounds(r: Document, name: str) -> list[float] | None:
    medians = [x["median_ms"] for x in r["backends"][name]["rounds"] or []]
    return [min(medians), max(medians)] if len(medians) > 1 else None


def _comparable_since(history: list[Document], name: str, relative: bool) -> int:
    """Return the index of the oldest version whose numbers of a backend compare with the newest's:
    the versions before a change of model, task, inputs or its settings (and, for a value relative to
    the reference, the reference's) are left off its line, so a line never joins two different
    things (analysis/comparable.py)."""
    names = {name, history[-1]["reference"]} if relative else {name}
    start = len(history) - 1
    while start > 0 and all(comparable(history[start - 1], history[start], n) for n in names):
        start -= 1
    return start


# What changed between two versions (analysis/comparable.Change.what), as a trend chart marks it.
_CHANGED = {
    "model": "chart.trend_changed.model",
    "task": "chart.trend_changed.task",
    "inputs": "chart.trend_changed.inputs",
    "settings": "chart.trend_changed.settings",
}


def _change_marks(history: list[Document], loc: Locale) -> tuple[list[dict], list[dict]]:
    """Return a dotted line and a label at each version where something compared changed (model,
    task, inputs, a backend's settings): the lines that stop there are not broken, they end."""
    shapes, notes = [], []
    for before, after in zip(history, history[1:]):
        names = after["backend_order"]
        changes = run_changes(before, after) + [
            c for n in names if (c := backend_change(before, after, n)) is not None
        ]
        if not changes:
            continue
        x = plain_label(after["version"])
        line = {"dash": "dot", "width": 1, "color": "#888888"}
        shapes.append(
            {"type": "line", "xref": "x", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1, "line": line}
        )
        text = "; ".join(loc.t(_CHANGED[c.what], backend=plain_label(c.backend or "")) for c in changes)
        notes.append(
            {
                "x": x,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "yanchor": "bottom",
                "text": text,
                "showarrow": False,
            }
        )
    return shapes, notes


def _error_bars(history: list[Document], name: str, y: list, bounds: Bounds) -> dict:
    """Return Plotly error bars from each version's (low, high) around its point; none where unknown."""
    low, high = [], []
    for r, value in zip(history, y):
        interval = bounds(r, name) if value is not None else None  # a value: a successful backend
        low.append(rounded(value - interval[0]) if interval else None)
        high.append(rounded(interval[1] - value) if interval else None)
    return {
        "type": "data",
        "symmetric": False,
        "array": high,
        "arrayminus": low,
        "thickness": 1.5,
        "width": 4,
    }


def _trend(
    history: list[Document],
    title: str,
    y_title: str,
    value: Value,
    loc: Locale,
    reference: bool = True,
    bounds: Bounds | None = None,
    relative: bool = False,
) -> dict:
    everyone = _backend_names(history, True)  # colour by position among every backend ever archived
    versions = [plain_label(r["version"]) for r in history]
    data = []
    for name in _backend_names(history, reference):
        since = _comparable_since(history, name, relative)
        y = [value(r, name) if i >= since else None for i, r in enumerate(history)]
        trace = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": plain_label(name),
            "x": versions,
            "y": y,
            "line": {"color": backend_color(everyone.index(name)), "width": 2},
            "marker": {"size": 6},
            "connectgaps": False,
        }
        if bounds is not None:
            trace["error_y"] = _error_bars(history, name, y, bounds)
        data.append(trace)
    layout = with_legend(base_layout(loc.t(title), loc.t("chart.axis.version"), loc.t(y_title)), len(data))
    layout["xaxis"]["type"] = "category"
    layout["yaxis"]["rangemode"] = "tozero"
    return {"data": data, "layout": layout}


def trend_figures(history: list[Document], loc: Locale) -> dict[str, dict]:
    """Return the index's trend charts: latency, speed-up, size, max abs difference, detections."""
    figures = {
        "latency": _trend(
            history,
            "chart.trend_latency.title",
            "chart.axis.latency_ms",
            _at("latency_ms", "median"),
            loc,
            bounds=_round_bounds,
        ),
        "speedup": _trend(
            history,
            "chart.trend_speedup.title",
            "chart.axis.speedup",
            _speedup,
            loc,
            False,
            bounds=_speedup_bounds,
            relative=True,
        ),
        "size": _trend(history, "chart.trend_size.title", "chart.axis.size_mb", _at("file_size_mb"), loc),
        "max_abs_diff": _trend(
            history,
            "chart.trend_max_abs_diff.title",
            "chart.axis.max_abs_diff",
            _at("parity", "max_abs_diff"),
            loc,
            False,
            relative=True,  # a difference from the reference's outputs
        ),
        "detections": _trend(
            history,
            "chart.trend_detections.title",
            "chart.axis.detections",
            _at("metrics", "detections_per_image"),
            loc,
        ),
    }
    figures["speedup"]["layout"]["shapes"] = [reference_line(1)]  # break-even: above it, faster
    marks, notes = _change_marks(history, loc)
    for figure in figures.values():  # where the lines stop joining: what changed, said on the chart
        figure["layout"]["shapes"] = [*figure["layout"].get("shapes", []), *marks]
        figure["layout"]["annotations"] = [*figure["layout"].get("annotations", []), *notes]
    # Differences span many orders of magnitude (1e-5 for FP32, 10 for INT8): a log axis shows both.
    figures["max_abs_diff"]["layout"]["yaxis"].update(type="log", rangemode="normal", exponentformat="power")
    for figure in figures.values():  # a backend never measured for this value has no line
        figure["data"] = [t for t in figure["data"] if any(y is not None for y in t["y"])]
    return {key: figure for key, figure in figures.items() if figure["data"]}
