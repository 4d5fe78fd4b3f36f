"""Latency statistics from raw samples: summaries and a bootstrap interval for speed-ups.

numpy only: it runs inside the ONNX Runtime worker, which never imports torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
IQR_TO_STD = 0.7413  # IQR x 0.7413 estimates the standard deviation of a normal distribution
BOOTSTRAP_SEED = 0  # fixed: the same samples always give the same interval (deterministic pages)


def summarize(samples_ms: list[float]) -> dict:
    """Return median, mean, p90, p99, std, min, max, n, cv and the raw samples (ms)."""
    a = np.asarray(samples_ms, dtype=np.float64)
    mean = float(a.mean())
    std = float(a.std(ddof=1)) if len(a) > 1 else 0.0
    median = float(np.median(a))
    q1, q3 = np.percentile(a, [25, 75])
    return {
        "median": median,
        "mean": mean,
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
        "std": std,
        "min": float(a.min()),
        "max": float(a.max()),
        "n": int(len(a)),
        "cv": std / mean if mean > 0 else None,
        # Rare long samples (a page fault, a timer tick) inflate std; this normal-consistent spread
        # of the middle half does not, so it is what the noise rule judges.
        "robust_cv": float(IQR_TO_STD * (q3 - q1) / median) if median > 0 else None,
        "samples": [round(float(x), 4) for x in a],
    }


def time_calls(
    call: Callable[[], object], min_iterations: int, min_time_s: float, max_iterations: int
) -> list[float]:
    """Call ``call`` until both ``min_iterations`` and ``min_time_s`` are reached; return ms per call."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < max_iterations:
        t0 = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        if len(samples) >= min_iterations and time.perf_counter() - started >= min_time_s:
            break
    return samples


def speedup_interval(
    reference_ms: list[float], candidate_ms: list[float], confidence: float = 0.95
) -> list[float]:
    """Return a bootstrap interval of median(reference) / median(candidate) (>1: candidate faster)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ref, cand = np.asarray(reference_ms), np.asarray(candidate_ms)
    ref_medians = np.median(rng.choice(ref, size=(BOOTSTRAP_RESAMPLES, len(ref))), axis=1)
    cand_medians = np.median(rng.choice(cand, size=(BOOTSTRAP_RESAMPLES, len(cand))), axis=1)
    ratios = ref_medians / cand_medians
    tail = (1 - confidence) / 2 * 100
    return [float(np.percentile(ratios, tail)), float(np.percentile(ratios, 100 - tail))]
