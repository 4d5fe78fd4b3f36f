"""Latency statistics from raw samples: summaries and intervals of speed-ups.

Below every stage: measuring summarizes samples with it, the results upgrade recomputes summaries,
the analysis and the regression gate judge speed-ups with the same intervals. numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def split_rounds(samples_ms: Sequence[float], counts: Sequence[int]) -> list[np.ndarray]:
    """Return each round's samples: ``samples_ms`` holds the rounds in order, ``counts`` their sizes."""
    if sum(counts) != len(samples_ms):
        raise ValueError(f"{len(samples_ms)} samples, but the rounds count {sum(counts)}")
    edges = np.cumsum([0, *counts])
    a = np.asarray(samples_ms, dtype=np.float64)
    return [a[lo:hi] for lo, hi in zip(edges[:-1], edges[1:])]


def summarize_rounds(rounds: Sequence[Sequence[float]]) -> dict:
    """Return the latency summary of several rounds (fresh processes) of one backend.

    One process is one sample of the machine, so the headline ``median`` is the median of the rounds'
    medians; ``round_spread`` says how far the rounds disagree ((max - min) / median of the round
    medians; None for one round); ``robust_cv`` is the noise inside a round (median over rounds).
    The other fields (mean, percentiles, min, max, n, samples) are over all samples, rounds in order.
    """
    summary = summarize(np.concatenate([np.asarray(r, dtype=np.float64) for r in rounds]))
    inside = [summarize(r) for r in rounds]
    medians = np.array([r["median"] for r in inside])
    median = float(np.median(medians))
    cvs = [r["robust_cv"] for r in inside if r["robust_cv"] is not None]
    return {
        **summary,
        "median": median,
        "robust_cv": float(np.median(cvs)) if cvs else None,
        "round_spread": float((medians.max() - medians.min()) / median) if len(rounds) > 1 else None,
        "rounds": len(rounds),
    }


def _bootstrap_medians(rounds: Sequence[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Return bootstrap replicates of the median of round medians: rounds resampled, then their samples."""
    inner = np.stack(
        [np.median(rng.choice(r, size=(BOOTSTRAP_RESAMPLES, len(r))), axis=1) for r in rounds], axis=1
    )
    if len(rounds) == 1:  # nothing to resample between: exactly the one-process bootstrap
        return inner[:, 0]
    picked = rng.integers(0, len(rounds), size=(BOOTSTRAP_RESAMPLES, len(rounds)))
    return np.median(np.take_along_axis(inner, picked, axis=1), axis=1)


def speedup_interval(
    reference: Sequence[Sequence[float]], candidate: Sequence[Sequence[float]], confidence: float = 0.95
) -> list[float]:
    """Return an interval of the speed-up median(reference) / median(candidate) (>1: candidate faster).

    Each side is a list of rounds (one list of samples per fresh process). A hierarchical bootstrap
    resamples the rounds, then the samples inside each, so the interval carries the variance between
    processes, which dominates on real machines (README, "Speed verdicts"); a single round reduces it
    to the plain bootstrap of one process's samples, which ignores that variance.
    """
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ref = [np.asarray(r, dtype=np.float64) for r in reference]
    cand = [np.asarray(r, dtype=np.float64) for r in candidate]
    ratios = _bootstrap_medians(ref, rng) / _bootstrap_medians(cand, rng)
    tail = (1 - confidence) / 2 * 100
    return [float(np.percentile(ratios, tail)), float(np.percentile(ratios, 100 - tail))]
