"""The regression gate's report as text (a terminal, a CI log), markdown (a pull-request comment) or JSON."""

from __future__ import annotations

from reportgen.release.compare import IMPROVED, REGRESSION
from reportgen.report.locale import DASH, fmt_rate
from reportgen.results.document import dumps

_HEADERS = ("backend", "metric", "old", "new", "change", "verdict", "detail")


def _headers(report: dict) -> tuple[str, ...]:
    return ("machine", *_HEADERS) if "machines" in report else _HEADERS


def _cells(report: dict) -> list[tuple[str, ...]]:
    return [
        (
            *((r["machine"],) if "machines" in report else ()),
            r["backend"] or DASH,  # None: a row about a whole machine
            r["metric"],
            r["text"]["old"],
            r["text"]["new"],
            r["text"]["change"],
            r["status"],
            r["detail"],
        )
        for r in report["rows"]
    ]


def _summary(report: dict) -> str:
    n = report["regressions"]
    old, new = report["old"]["version"], report["new"]["version"]
    if report.get("not_compared"):  # like with like: the versions measured different things
        return f"no verdict from {old} to {new}: {'; '.join(report['not_compared'])}"
    verdict = f"{n} regression{'s' if n != 1 else ''}" if n else "no regression"
    return f"{verdict} from {old} to {new}"


def _thresholds_text(report: dict) -> str:
    th = report["thresholds"]
    return (
        f"thresholds: latency +{th['latency_pct']:g}% with its {100 * th['confidence']:.3g}% interval over "
        f"the rounds beyond +{th['speed_tolerance_pct']:g}% (95% for all backends together), "
        f"accuracy -{th['accuracy_points']:g} points, file size +{th['size_pct']:g}%, "
        f"parity lost (match rate below {fmt_rate(th['min_match_rate'])})"
    )


def format_text(report: dict) -> str:
    """Return the comparison as a plain-text table with a summary, for a terminal or a CI log."""
    headers = _headers(report)
    table = [headers, *_cells(report)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", *[f"note: {n}" for n in report["notes"]], _thresholds_text(report), _summary(report)]
    return "\n".join(lines) + "\n"


def _md(cell: str) -> str:
    return cell.replace("|", "\\|") or " "


def format_markdown(report: dict) -> str:
    """Return the comparison as GitHub-flavoured markdown, for a pull-request comment."""
    icon = {REGRESSION: "❌ ", IMPROVED: "✅ "}
    n = report["regressions"]
    title = f"### reportgen compare: {report['old']['version']} → {report['new']['version']}"
    lines = [title, "", f"**{_summary(report)}**" if n else _summary(report), ""]
    headers = _headers(report)
    lines += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    verdict = headers.index("verdict")
    for cells in _cells(report):
        status = cells[verdict]
        cells = (*cells[:verdict], f"{icon.get(status, '')}{status}", *cells[verdict + 1 :])
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    lines += ["", *[f"> {n}" for n in report["notes"]], "", f"<sub>{_thresholds_text(report)}</sub>"]
    return "\n".join(lines) + "\n"


def format_json(report: dict) -> str:
    """Return the comparison as canonical JSON (sorted keys, trailing newline)."""
    return dumps(report)


FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}
