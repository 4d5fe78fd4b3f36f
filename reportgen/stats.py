"""Latency statistics from raw samples: summaries and intervals of speed-ups.

Below every stage: measuring summarizes samples with it, the results upgrade recomputes summaries,
the analysis and the regression gate judge speed-ups with the same intervals. numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import numpy as np

from reportgen.states import MIN_STATE_PAIRS, speed_states

Entry = Mapping[str, Any]  # a backend entry of a results document (results.schema.Backend)
BOOTSTRAP_RESAMPLES = 2000
MIN_SLICE_SAMPLES = 4  # a slice's interquartile range from fewer says little
IQR_TO_STD = 0.7413  # IQR x 0.7413 estimates the standard deviation of a normal distribution
BOOTSTRAP_SEED = 0  # fixed: the same samples always give the same interval (deterministic pages)


def summarize(samples_ms: Sequence[float] | np.ndarray) -> dict:
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


def summarize_rounds(rounds: Sequence[Sequence[float]], slice_counts: Sequence[int] | None = None) -> dict:
    """Return the latency summary of several rounds (fresh processes) of one backend.

    One process is one sample of the machine, so the headline ``median`` is the median of the rounds'
    medians; ``round_spread`` says how far the rounds disagree ((max - min) / median of the round
    medians; None for one round); ``robust_cv`` is the noise inside a round (median over rounds), or,
    for rounds timed in slices (``slice_counts``: each slice's sample count, in order), inside a slice
    (median over slices of MIN_SLICE_SAMPLES or more): a round spans the machine's speed states, which
    the pairs cancel, a slice mostly one. The other fields (mean, percentiles, min, max, n, samples)
    are over all samples, rounds in order.
    """
    summary = summarize(np.concatenate([np.asarray(r, dtype=np.float64) for r in rounds]))
    inside = [summarize(r) for r in rounds]
    medians = np.array([r["median"] for r in inside])
    median = float(np.median(medians))
    units = inside
    if slice_counts is not None:
        parts = split_rounds(summary["samples"], slice_counts)
        units = [summarize(p) for p in parts if len(p) >= MIN_SLICE_SAMPLES] or inside
    cvs = [r["robust_cv"] for r in units if r["robust_cv"] is not None]
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
    reference: Sequence[Sequence[float] | np.ndarray],
    candidate: Sequence[Sequence[float] | np.ndarray],
    confidence: float = 0.95,
) -> list[float]:
    """Return an interval of the speed-up median(reference) / median(candidate) (>1: candidate faster).

    Each side is a list of rounds (one list of samples per fresh process). A hierarchical bootstrap
    resamples the rounds, then the samples inside each, so the interval carries the variance between
    processes, which dominates on real machines (docs/method.md); a single round reduces it
    to the plain bootstrap of one process's samples, which ignores that variance.
    """
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ref = [np.asarray(r, dtype=np.float64) for r in reference]
    cand = [np.asarray(r, dtype=np.float64) for r in candidate]
    ratios = _bootstrap_medians(ref, rng) / _bootstrap_medians(cand, rng)
    tail = (1 - confidence) / 2 * 100
    return [float(np.percentile(ratios, tail)), float(np.percentile(ratios, 100 - tail))]


# --- Time-paired slices (measure/slices.py) -------------------------------------------------------
# The machine's speed changes over time, in states about 1.5x apart that last from a second to a
# minute (docs/method.md, "Speed: time-paired slices"). Every candidate slice is timed right between
# two reference slices (measure/slices.py), so both sides sample the same moments of the machine.

# The speed-up compares each side's 10th percentile of its calls over those moments: the machine at
# its best, where both runtimes were least disturbed (noise only ever adds time: Chen & Revels 2016).
# The slow states do not slow every runtime alike (eager PyTorch loses about twice what ONNX Runtime
# does), so a ratio over all moments moves with how long a run spent slow. Three demo runs: onnxruntime,
# openvino and INT8 static spread 1.0, 3.5 and 3.0% across runs (the median ratio of the fast-state
# pairs before: 19.8, 7.9 and 3.8%; docs/method.md).
LOW_QUANTILE = 0.10


@dataclass(frozen=True)
class Slice:
    """One slice of one backend: its round (fresh process), its cycle (the same number for every
    backend's slice of that pass), when it began (seconds since the run's first slice), its median,
    and its calls' times (ms; empty: the median stands for them)."""

    round: int
    cycle: int
    start_s: float
    median_ms: float
    samples_ms: tuple[float, ...] = ()

    @property
    def calls_ms(self) -> tuple[float, ...]:
        return self.samples_ms or (self.median_ms,)


@dataclass(frozen=True)
class Speedup:
    """A speed-up (>1: the candidate is faster) with its interval and what it was computed from."""

    value: float
    low: float
    high: float
    pairs: int  # slices paired in time; 0: unpaired (rounds measured at different moments)

    @property
    def half_width(self) -> float:
        """The interval's half-width relative to the estimate (0.05: +-5%)."""
        return (self.high - self.low) / 2 / self.value


def slices(records: Sequence[dict], samples_ms: Sequence[float]) -> list[Slice]:
    """Return a backend's slices from its stored records ({round, cycle, start_s, n}, in time order)
    and its samples (every slice's, concatenated in the same order)."""
    parts = split_rounds(samples_ms, [r["n"] for r in records])
    return [
        Slice(r["round"], r["cycle"], r["start_s"], float(np.median(p)), tuple(float(x) for x in p))
        for r, p in zip(records, parts)
    ]


@dataclass(frozen=True)
class Pair:
    """A candidate slice with the reference's slices of its cycle (R a R b R: timed around it)."""

    candidate: Slice
    references: tuple[Slice, ...]

    @property
    def round(self) -> int:
        return self.candidate.round


def pairs(reference: Sequence[Slice], candidate: Sequence[Slice]) -> list[Pair]:
    """Return every candidate slice paired with the reference's slices of its cycle, in time order; a
    slice with no reference in its cycle is left out, so both sides always cover the same moments. All
    of the cycle's reference slices count, not only the two right beside the candidate: twice the calls,
    and the same reference calls for every candidate of the run."""
    by_cycle: dict[int, list[Slice]] = {}
    for s in sorted(reference, key=lambda s: s.start_s):
        by_cycle.setdefault(s.cycle, []).append(s)
    found = []
    for s in sorted(candidate, key=lambda s: s.start_s):
        around = tuple(by_cycle.get(s.cycle, []))
        if around:
            found.append(Pair(s, around))
    return found


def paired_speedup(
    reference: Sequence[Slice], candidate: Sequence[Slice], confidence: float = 0.95
) -> Speedup | None:
    """Return the speed-up over the moments both were timed in (pairs), or None with fewer than two pairs.

    The estimate is the ratio of the two sides' LOW_QUANTILE of their calls in those pairs. Its interval
    comes from a block bootstrap of the pairs, drawn for both sides at once so they stay paired in time:
    rounds (fresh processes) are resampled, then blocks of consecutive pairs inside each (neighbouring
    pairs share a state, so single pairs are not independent).
    """
    found = _paired_replicates(pairs(reference, candidate))
    return None if found is None else _estimate(*found, confidence)


def _paired_replicates(
    found: Sequence[Pair], seed: int = BOOTSTRAP_SEED
) -> tuple[float, np.ndarray, int] | None:
    """Return (log speed-up, its bootstrap replicates, pairs) of some pairs, or None with fewer than two."""
    if len(found) < 2:
        return None
    ordered = sorted(found, key=lambda p: (p.round, p.candidate.start_s))
    counts = _drawn_counts([len(list(g)) for _, g in groupby(ordered, key=lambda p: p.round)], seed)
    ref, cand = (np.log(_low_quantiles(calls, counts)) for calls in _calls(ordered))
    return float(ref[0] - cand[0]), ref[1:] - cand[1:], len(found)  # row 0: every pair once


def _calls(found: Sequence[Pair]) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    """Return the calls of each pair: the reference's (of its slices in the cycle), the candidate's."""
    return [tuple(x for s in p.references for x in s.calls_ms) for p in found], [
        p.candidate.calls_ms for p in found
    ]


def _low_quantiles(calls: Sequence[tuple[float, ...]], counts: np.ndarray) -> np.ndarray:
    """Return, for each row of ``counts`` (how often each pair is drawn), the LOW_QUANTILE of the calls of
    the pairs drawn: every call weighted by its pair's count, the smallest time whose cumulative weight
    reaches the quantile.

    A binary search over the sorted times, all rows at once: the weight at or below a time is the rows'
    counts times each pair's number of calls at or below it (a few milliseconds where a cumulative sum
    over every call of every row took a tenth of a second)."""
    times = np.sort(np.concatenate([np.asarray(c, dtype=np.float64) for c in calls]))
    below = np.stack([np.searchsorted(np.sort(c), times, side="right") for c in calls])  # (pair, time)
    needed = LOW_QUANTILE * (counts @ below[:, -1])
    low, high = np.zeros(len(counts), dtype=np.int64), np.full(len(counts), len(times) - 1)
    while (low < high).any():
        middle = (low + high) // 2
        reached = np.einsum("rp,pr->r", counts, below[:, middle]) >= needed
        high, low = np.where(reached, middle, high), np.where(reached, low, middle + 1)
    return times[low]


def _drawn_counts(sizes: Sequence[int], seed: int) -> np.ndarray:
    """Return how often each pair is drawn: row 0 every pair once (the estimate), then BOOTSTRAP_RESAMPLES
    rows of the block bootstrap. ``sizes``: the pairs of each round, rounds in order, pairs in time order.

    Rounds are drawn with replacement, then inside each a moving-block resample of its pairs (block
    length n^(1/3), the usual rate for a quantile)."""
    rng = np.random.default_rng(seed)
    offsets = np.cumsum([0, *sizes])
    drawn = []
    for offset, n in zip(offsets, sizes):
        block = max(1, round(n ** (1 / 3)))
        starts = rng.integers(0, n - block + 1, size=(BOOTSTRAP_RESAMPLES, -(-n // block)))
        index = (starts[:, :, None] + np.arange(block)).reshape(BOOTSTRAP_RESAMPLES, -1)[:, :n]
        drawn.append(offset + index)
    width = max(sizes)
    padded = np.full((len(sizes), BOOTSTRAP_RESAMPLES, width), -1)
    for r, index in enumerate(drawn):
        padded[r, :, : index.shape[1]] = index
    picked = rng.integers(0, len(sizes), size=(BOOTSTRAP_RESAMPLES, len(sizes)))
    if len(sizes) == 1:
        picked[:] = 0
    rows = np.arange(BOOTSTRAP_RESAMPLES)[:, None]
    chosen = padded[picked, rows].reshape(BOOTSTRAP_RESAMPLES, -1)  # (replicate, round slot x pair)
    flat = (rows * offsets[-1] + chosen)[chosen >= 0]
    counts = np.bincount(flat, minlength=BOOTSTRAP_RESAMPLES * offsets[-1]).reshape(BOOTSTRAP_RESAMPLES, -1)
    return np.vstack([np.ones((1, offsets[-1]), dtype=np.int64), counts])


def _estimate(log_value: float, replicates: np.ndarray, pairs: int, confidence: float) -> Speedup:
    """Return a speed-up from its log value and the bootstrap replicates of it (percentile interval)."""
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return Speedup(float(np.exp(log_value)), float(np.exp(low)), float(np.exp(high)), pairs)


def speedup(reference: Entry, candidate: Entry, confidence: float = 0.95) -> Speedup:
    """Return a measured candidate's speed-up over the reference: the one estimate every speed verdict,
    the tie rule, the recommendation and the report read.

    Both are backend entries of a results document. Paired slices (schema 4) give the paired estimate;
    a document measured before slices gives the ratio of the round medians with the hierarchical
    bootstrap over rounds, which cannot cancel the machine's states (``pairs`` is 0 then).
    """
    return _estimate(*_replicates(reference, candidate), confidence)


def relative_speedup(
    old_reference: Entry, old: Entry, new_reference: Entry, new: Entry, confidence: float = 0.95
) -> Speedup:
    """Return how much faster NEW runs than OLD (>1: faster) measured against the reference beside each.

    Two documents were measured at different moments, so nothing pairs their slices; but inside each,
    every backend is paired with the reference. Where the reference is the same code in both (the
    caller checks), the ratio of the two paired speed-ups is the backend's own change with the states
    of both runs cancelled. Its replicates are the two documents' independent bootstraps.
    """
    old_log, old_reps, old_pairs = _replicates(old_reference, old)
    # Another stream: the same draws on both sides would make their replicates move together.
    new_log, new_reps, new_pairs = _replicates(new_reference, new, BOOTSTRAP_SEED + 1)
    return _estimate(new_log - old_log, new_reps - old_reps, min(old_pairs, new_pairs), confidence)


def _replicates(
    reference: Entry, candidate: Entry, seed: int = BOOTSTRAP_SEED
) -> tuple[float, np.ndarray, int]:
    """Return (log speed-up, bootstrap replicates, pairs) of two backend entries: paired when both
    have slices, else from their rounds (pairs 0)."""
    if reference.get("slices") and candidate.get("slices"):
        ref, cand = (slices(b["slices"], b["latency_ms"]["samples"]) for b in (reference, candidate))
        paired = _paired_replicates(pairs(ref, cand), seed)
        if paired is not None:
            return paired
    ref_r, cand_r = (_rounds_of(b) for b in (reference, candidate))  # samples round by round
    value = np.log(np.median([np.median(r) for r in ref_r]) / np.median([np.median(r) for r in cand_r]))
    rng = np.random.default_rng(seed)
    replicates = np.log(_bootstrap_medians(ref_r, rng) / _bootstrap_medians(cand_r, rng))
    return float(value), replicates, 0


def _rounds_of(backend: Entry) -> list[np.ndarray]:
    """Return a backend entry's samples round by round (each round record counts its samples)."""
    return split_rounds(backend["latency_ms"]["samples"], [r["n"] for r in backend["rounds"]])


def unpaired_speedup(old: Entry, new: Entry, confidence: float = 0.95) -> Speedup:
    """Return how much faster NEW runs than OLD (>1: faster) from the two entries' rounds, unpaired:
    for one backend in two documents when nothing measured beside both can cancel the machine's
    states (the hierarchical bootstrap over rounds keeps them inside the interval)."""
    before, after = _rounds_of(old), _rounds_of(new)
    value = np.median([np.median(r) for r in before]) / np.median([np.median(r) for r in after])
    low, high = speedup_interval(before, after, confidence)
    return Speedup(float(value), low, high, 0)


def speedups_by_state(
    reference: Entry, candidate: Entry, confidence: float = 0.95
) -> tuple[Speedup | None, Speedup | None]:
    """Return the paired speed-up over the pairs timed in the reference's fast state and over those in
    its slow state (speed_states; a pair counts where every reference slice beside it was in that
    state), each None where fewer than MIN_STATE_PAIRS pairs fell in it.

    Where the two differ, the machine's states hit the two runtimes unequally: no pairing cancels
    that; the speed-up (the machine at its best) is the fast state's.
    """
    if not (reference.get("slices") and candidate.get("slices")):
        return None, None
    ref, cand = (slices(b["slices"], b["latency_ms"]["samples"]) for b in (reference, candidate))
    states = speed_states(ref)
    if not states.seen:
        return None, None
    slow = {s for s, is_slow in zip(ref, states.slow) if is_slow}
    found = pairs(ref, cand)
    split = (
        [p for p in found if not slow.intersection(p.references)],
        [p for p in found if slow.issuperset(p.references)],
    )
    in_fast, in_slow = (_paired_replicates(part) if len(part) >= MIN_STATE_PAIRS else None for part in split)
    return (
        None if in_fast is None else _estimate(*in_fast, confidence),
        None if in_slow is None else _estimate(*in_slow, confidence),
    )


def round_speedups(reference: Entry, candidate: Entry) -> list[float]:
    """Return the paired speed-up of each round (fresh process) of the candidate: how far the processes
    disagree once the states are cancelled (their round medians also differ by the states each round
    happened to see). Empty without slices."""
    if not (reference.get("slices") and candidate.get("slices")):
        return []
    ref, cand = (slices(b["slices"], b["latency_ms"]["samples"]) for b in (reference, candidate))
    found = pairs(ref, cand)
    return [
        float(np.exp(_point([p for p in found if p.round == r]))) for r in sorted({p.round for p in found})
    ]


def _point(found: Sequence[Pair]) -> float:
    """Return the log speed-up of some pairs (at least one): the ratio of the two sides' LOW_QUANTILE."""
    once = np.ones((1, len(found)), dtype=np.int64)
    ref, cand = (_low_quantiles(calls, once)[0] for calls in _calls(found))
    return float(np.log(ref / cand))
