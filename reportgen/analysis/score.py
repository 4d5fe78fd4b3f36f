"""The overall score of each backend: a weighted mean of five sub-scores, each 0-100, higher is better.

The weights put the answers first (a fast model that answers differently is of no use), speed next
(the reason to convert at all), and the footprint last:

    score = 0.30 × parity + 0.20 × accuracy + 0.30 × speed + 0.10 × size + 0.10 × memory

    parity    100 × share of the reference's answers kept: detections matched (detection, segmentation),
              top-1 agreement (classification), else the least cosine similarity of the raw outputs;
              the reference: 100
    accuracy  100 × mAP@0.5:0.95 (semantic segmentation: mIoU, classification: top-1) ÷ the best measured
    speed     100 × the fastest median latency ÷ this median latency
    size      100 × the smallest model file ÷ this model file
    memory    100 × the lowest peak RSS ÷ this peak RSS

Each sub-score compares the configurations of one run with each other, so a score is comparable within
a report, not across reports that measured different backends. A sub-score that cannot be computed
(no labels, no parity) is left out and the other weights are scaled up to sum to 1. A backend whose
answers agree less than the config's parity.min_match_rate is scored but not ranked: its answers
differ, so no weighting should recommend it.
"""

from __future__ import annotations

from typing import Any

from reportgen.analysis.finding import ok_backends
from reportgen.analysis.verdicts import agreement
from reportgen.results.schema import Document, Measured

WEIGHTS: dict[str, float] = {"parity": 0.30, "accuracy": 0.20, "speed": 0.30, "size": 0.10, "memory": 0.10}


def _float(value: Any) -> float | None:  # a metric read by a computed key (object to mypy)
    return None if value is None else float(value)


def _parity(backend: Measured) -> float | None:
    parity = backend["parity"]
    measured = agreement(parity)
    if measured is not None:
        return 100 * measured[1]
    cosine = _float(parity["cosine_min"]) if parity is not None else None
    return None if cosine is None else 100 * max(cosine, 0.0)


def _accuracy(backend: Measured) -> float | None:
    """Return the task's accuracy for the score: mAP@0.5:0.95, mIoU (semantic segmentation) or top-1."""
    metrics = backend["metrics"]
    found = (_float(metrics.get(key)) for key in ("map50_95", "miou", "top1_accuracy"))
    return next((value for value in found if value is not None), None)


def _relative(values: dict[str, float | None], better: str) -> dict[str, float | None]:
    """Return 100 × best ÷ value (lower is better) or 100 × value ÷ best (higher is better)."""
    known = [v for v in values.values() if v is not None and v > 0]
    if not known:
        return dict.fromkeys(values)
    best = min(known) if better == "lower" else max(known)
    return {
        name: (100 * (best / v if better == "lower" else v / best)) if v is not None and v > 0 else None
        for name, v in values.items()
    }


def scores(results: Document, min_match_rate: float) -> list[dict]:
    """Return one row per successful backend: its sub-scores, overall score, rank and eligibility."""
    reference = results["reference"]
    ok = dict(ok_backends(results))
    if not ok:
        return []
    parts = {
        "parity": {name: 100.0 if name == reference else _parity(b) for name, b in ok.items()},
        "accuracy": _relative({n: _accuracy(b) for n, b in ok.items()}, "higher"),
        "speed": _relative({n: _float(b["latency_ms"]["median"]) for n, b in ok.items()}, "lower"),
        "size": _relative({n: _float(b["file_size_mb"]) for n, b in ok.items()}, "lower"),
        "memory": _relative({n: _float(b["memory_mb"]["peak"]) for n, b in ok.items()}, "lower"),
    }
    rows: list[dict[str, Any]] = []
    for name in ok:
        sub = {part: parts[part][name] for part in WEIGHTS}
        weight = sum(WEIGHTS[p] for p, v in sub.items() if v is not None)
        total = sum(WEIGHTS[p] * v for p, v in sub.items() if v is not None) / weight if weight else None
        parity = ok[name]["parity"]
        measured = agreement(parity)
        if measured is None:  # a raw model: its outputs within tolerance, or not compared at all
            eligible = parity is None or parity["allclose"]
        else:
            eligible = measured[1] >= min_match_rate
        eligible = eligible or name == reference
        rows.append(
            {
                "backend": name,
                "parts": sub,
                # Each part's share of the total, as drawn in the stacked bar chart.
                "contributions": {p: WEIGHTS[p] * v / weight for p, v in sub.items() if v is not None},
                "score": total,
                "eligible": eligible,
            }
        )
    ranked = sorted((r for r in rows if r["eligible"] and r["score"] is not None), key=lambda r: -r["score"])
    for rank, row in enumerate(ranked, 1):
        row["rank"] = rank
    for row in rows:
        row.setdefault("rank", None)
    return rows
