"""Helpers that make test results documents from real ones (shared by the compare and merge tests)."""

import json
from pathlib import Path

import numpy as np

from reportgen import stats


def scale_latency(backend: dict, factor: float) -> None:
    """Multiply a backend's latency samples and statistics by ``factor``, in place (FPS follows)."""
    latency = backend["latency_ms"]
    for key in ("median", "mean", "p90", "p99", "std", "min", "max"):
        latency[key] *= factor
    latency["samples"] = [s * factor for s in latency["samples"]]
    backend["fps"] = 1000 / latency["median"]


def set_rounds(backend: dict, rounds: list[list[float]]) -> None:
    """Replace a backend's timings by these rounds (one list of samples per fresh process), in place."""
    backend["latency_ms"] = stats.summarize_rounds(rounds)
    backend["rounds"] = [
        {
            "median_ms": float(np.median(r)),
            "n": len(r),
            "other_cpu_share": 0.0,
            "steal_share": 0.0,
            "cpu_mhz": None,
            "started_at": None,
        }
        for r in rounds
    ]
    backend["fps"] = 1000 / backend["latency_ms"]["median"]


def write(path: Path, doc: dict) -> Path:
    """Write ``doc`` as JSON to ``path`` and return the path."""
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
