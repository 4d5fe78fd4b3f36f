"""One cell of a comparison table: a metric's signed change and a badge saying whether it is better,
worse or inside the noise, judged with the document's thresholds and the shared speed verdict."""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analysis.verdicts import FASTER, SAME, SLOWER, Thresholds, number, speed_verdict
from reportgen.report.locale import DASH, Locale


@dataclass(frozen=True)
class Metric:
    """One row of a comparison table: where the value lives, how to write it, which way is better."""

    id: str
    path: tuple[str, ...]
    kind: str  # the Locale formatter
    better: str  # "higher", "lower", or "same" (closest to the reference is best)
    tolerance: str  # a Thresholds.tolerance kind

    @property
    def label(self) -> str:
        """Return the catalog key of the metric's name."""
        return f"metric.{self.id}"


def change(old, new, metric: Metric, th: Thresholds, loc: Locale, interval=None) -> dict:
    """Return the signed change from old to new and a badge saying whether that is better."""
    old, new = number(old), number(new)
    if old is None or new is None or old == 0:
        return {"change": DASH, "severity": None, "label": DASH}
    change, tol = new / old - 1, th.tolerance(metric.tolerance)
    quality = metric.tolerance in ("quality", "accuracy")
    if metric.better == "same":
        severity, key = ("pass", "change.same") if abs(change) <= tol else ("warn", "change.differs")
    elif interval:  # the round-level interval of the speed-up, judged as the speed findings are
        severity, key = {
            FASTER: ("pass", "change.better"),
            SAME: ("info", "change.within_noise"),
            SLOWER: ("warn", "change.worse"),
        }[speed_verdict(interval, tol)]
    elif abs(new - old if metric.tolerance == "accuracy" else change) <= tol:
        severity, key = ("pass" if quality else "info"), "change.same"
    elif (change > 0) == (metric.better == "higher"):
        severity, key = "pass", "change.better"
    else:
        severity, key = "warn", "change.worse"
    return {"change": loc.pct(change), "severity": severity, "label": loc.t(key)}
