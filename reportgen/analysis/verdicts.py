"""The shared verdicts: the document's thresholds, the speed verdict from an interval, the severity
order, agreement and the order of backends. One place, so the findings, every table and badge of the
report and the regression gate agree.

Documents come through reportgen/results/reader.py, which guarantees the keys and types of
reportgen/results/schema.py: what is read here is read plainly, and only what a task or an older file
may lack (a metric, an agreement, a config key) is looked up with a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from reportgen.config.schema import AnalysisConfig, Config, ParityConfig
from reportgen.results.schema import Backend, Document, Measured, Parity

CONFIDENCE = 0.95  # of every interval the report and the regression gate print
# Most severe first: findings, verdict parts and their groups are sorted by it.
SEVERITY_ORDER = {"fail": 0, "warn": 1, "info": 2, "pass": 3}


@dataclass(frozen=True)
class Thresholds:
    """The config's judgement thresholds (parity/analysis), with the schema's defaults for older files.

    One object for the pages, the findings' tests and the regression gate, so they never disagree.
    """

    min_match_rate: float
    speed_tol: float
    size_tol: float
    accuracy_points: float
    match_iou: float
    atol: float
    rtol: float
    regression_latency: float  # the gate: a fraction of the median latency
    regression_accuracy_points: float
    # The method rules' limits (analysis.*): what makes a timing noisy, short or disturbed.
    min_samples: int
    max_cv: float
    max_round_spread: float
    max_other_cpu_share: float
    confidence: float = CONFIDENCE

    @classmethod
    def of(cls, results: Document) -> Thresholds:
        """Return the thresholds of one results document (its stored config; without one, or
        where an older config lacks a key, the schema's defaults)."""
        return cls._of_config(results.get("config", {}))

    @classmethod
    def _of_config(cls, config: Mapping[str, Any]) -> Thresholds:
        parity, analysis = config.get("parity", {}), config.get("analysis", {})

        def pick(section: Mapping[str, Any], model: type[BaseModel], key: str) -> float:
            value = section.get(key)
            return float(model.model_fields[key].default if value is None else value)

        return cls(
            min_match_rate=pick(parity, ParityConfig, "min_match_rate"),
            speed_tol=pick(analysis, AnalysisConfig, "speed_tolerance_pct") / 100,
            size_tol=pick(analysis, AnalysisConfig, "regression_size_pct") / 100,
            accuracy_points=pick(analysis, AnalysisConfig, "max_map_drop_points"),
            match_iou=pick(parity, ParityConfig, "match_iou"),
            atol=pick(parity, ParityConfig, "atol"),
            rtol=pick(parity, ParityConfig, "rtol"),
            regression_latency=pick(analysis, AnalysisConfig, "regression_latency_pct") / 100,
            regression_accuracy_points=pick(analysis, AnalysisConfig, "regression_accuracy_points"),
            min_samples=int(pick(analysis, AnalysisConfig, "min_samples")),
            max_cv=pick(analysis, AnalysisConfig, "max_cv"),
            max_round_spread=pick(analysis, AnalysisConfig, "max_round_spread"),
            max_other_cpu_share=pick(analysis, AnalysisConfig, "max_other_cpu_share"),
        )

    @classmethod
    def from_config(cls, config: Config) -> Thresholds:
        """Return the thresholds a validated config sets."""
        return cls._of_config(config.model_dump(mode="json"))

    def tolerance(self, kind: str) -> float:
        """Return the change below which a metric of this kind counts as unchanged."""
        return {
            # Counts and confidences may move as much as the share of detections allowed to differ.
            "quality": 1 - self.min_match_rate,
            "accuracy": self.accuracy_points / 100,  # absolute: points of mAP or accuracy
            "speed": self.speed_tol,
            "memory": self.speed_tol,  # RSS moves with the same run-to-run noise as time
            "size": self.size_tol,
            "parity": 0.0,  # judged by the tolerance verdict instead (see pages.changes)
        }[kind]


def dig(value: object, path: tuple[str, ...]) -> object:
    """Return the value at `path` in nested dicts, or None where any step is missing or null: a
    table's generic path (``("metrics", "map50")``) through what a failed backend or a task lacks."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def number(value: object) -> float | None:
    """Return value if it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return value


def ordered(results: Document) -> list[tuple[str, Backend]]:
    """Return (name, backend) pairs, the reference first, the rest in config order."""
    ref = results["reference"]
    names = [ref] + [n for n in results["backend_order"] if n != ref]
    return [(n, results["backends"][n]) for n in names]


def is_ok(backend: Backend | None) -> bool:
    """Return whether a backend ran to the end (None: a backend the document does not have)."""
    return backend is not None and backend["status"] == "ok"


def agreement(parity: Parity | None) -> tuple[str, float] | None:
    """Return how the task measured agreement with the reference, and its share in [0, 1]:
    matched detections (detection, segmentation), top-1 agreement (classification) or the pixels
    that keep their class (semantic segmentation)."""
    if parity is not None and "detection_match_rate" in parity:
        return "detections", parity["detection_match_rate"]
    if parity is not None and "top1_agreement" in parity:
        return "top1", parity["top1_agreement"]
    if parity is not None and isinstance(pixels := parity.get("pixel_agreement"), (int, float)):
        return "pixels", float(pixels)  # semantic segmentation: the share of pixels keeping their class
    return None


FASTER, SAME, SLOWER = "faster", "same", "slower"


def speed_verdict(interval: list[float] | tuple[float, float], tolerance: float) -> str:
    """Return whether a speed-up interval (>1: faster) says faster, slower or the same.

    Faster or slower only when the whole interval lies beyond ``tolerance`` (a fraction, from
    ``analysis.speed_tolerance_pct``): a difference inside the noise or inside the tolerance is none.
    The findings, the page's verdicts and badges and the regression gate all judge speed with it.
    """
    low, high = interval
    if low > 1 + tolerance:
        return FASTER
    if high < 1 - tolerance:
        return SLOWER
    return SAME


def simplicity(backend: Backend | Measured) -> tuple[int, int]:
    """Return a backend's distance from the plain default, lower first: FP32 before FP16 before INT8,
    then the runtime's default options before tuned ones. Among backends tied on speed the simplest is
    named."""
    settings = backend["settings"] or {}
    int8 = settings.get("quantization", "none") != "none"
    fp16 = settings.get("precision", "fp32") == "fp16"
    tuned = settings.get("graph_optimization", "all") != "all"
    return 2 * int(int8) + int(fp16), int(tuned)
