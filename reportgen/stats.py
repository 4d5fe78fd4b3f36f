"""Latency statistics from raw samples: summaries and intervals of speed-ups.

Below every stage: measuring summarizes samples with it, the results upgrade recomputes summaries,
the analysis and the regression gate judge speed-ups with the same intervals. numpy only.
"""

from __future__ import annotations

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
