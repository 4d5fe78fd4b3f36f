"""Helpers that make test results documents from real ones (shared by the compare and merge tests)."""

import json
from pathlib import Path


def scale_latency(backend: dict, factor: float) -> None:
    """Multiply a backend's latency samples and statistics by ``factor``, in place (FPS follows)."""
    latency = backend["latency_ms"]
    for key in ("median", "mean", "p90", "p99", "std", "min", "max"):
        latency[key] *= factor
    latency["samples"] = [s * factor for s in latency["samples"]]
    backend["fps"] = 1000 / latency["median"]


def write(path: Path, doc: dict) -> Path:
    """Write ``doc`` as JSON to ``path`` and return the path."""
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
