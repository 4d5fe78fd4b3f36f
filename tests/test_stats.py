"""Latency statistics on known samples."""

import numpy as np
import pytest

from reportgen import stats
from reportgen.measure.worker.backend import time_calls


def test_summary_of_known_samples():
    s = stats.summarize([1.0, 2.0, 3.0, 4.0, 10.0])
    assert s["median"] == 3.0 and s["mean"] == 4.0 and s["min"] == 1.0 and s["max"] == 10.0 and s["n"] == 5
    assert s["std"] == pytest.approx(3.5355339, rel=1e-6)  # sample std (ddof=1)
    assert s["cv"] == pytest.approx(3.5355339 / 4.0, rel=1e-6)
    assert s["p90"] == pytest.approx(7.6)
    assert s["samples"] == [1.0, 2.0, 3.0, 4.0, 10.0]
    # IQR 2..4 around the median 3: the outlier 10 moves std, not the robust spread.
    assert s["robust_cv"] == pytest.approx(0.7413 * 2 / 3)


def test_time_calls_honours_minimum_iterations_and_maximum():
    calls = []
    samples = time_calls(lambda: calls.append(1), min_iterations=7, min_time_s=0, max_iterations=100)
    assert len(samples) == len(calls) == 7 and all(s > 0 for s in samples)
    assert len(time_calls(lambda: None, 5, 60.0, 9)) == 9  # the cap wins over min_time_s


def test_speedup_interval_of_one_round_brackets_the_ratio_and_is_deterministic():
    ref = [10.0 + 0.1 * (i % 7) for i in range(60)]
    fast = [5.0 + 0.05 * (i % 5) for i in range(60)]
    low, high = stats.speedup_interval([ref], [fast])
    assert 1.9 < low <= high < 2.1
    assert stats.speedup_interval([ref], [fast]) == [low, high]
    same_low, same_high = stats.speedup_interval([ref], [ref])
    assert same_low <= 1.0 <= same_high


def test_split_rounds_follows_the_counts():
    first, second = stats.split_rounds([1.0, 2.0, 3.0, 4.0, 5.0], [2, 3])
    assert first.tolist() == [1.0, 2.0] and second.tolist() == [3.0, 4.0, 5.0]
    with pytest.raises(ValueError):
        stats.split_rounds([1.0, 2.0], [3])


def test_round_summary_takes_the_median_of_round_medians_and_their_spread():
    # Three fresh processes, each steady inside (8, 10, 12 ms): the headline is the middle process,
    # the spread is (12 - 8) / 10 = 40%, and the noise inside a round is zero.
    s = stats.summarize_rounds([[8.0] * 10, [12.0] * 10, [10.0] * 10])
    assert s["median"] == 10.0 and s["rounds"] == 3 and s["n"] == 30
    assert s["round_spread"] == pytest.approx(0.4) and s["robust_cv"] == 0.0
    assert s["min"] == 8.0 and s["max"] == 12.0 and s["samples"][:10] == [8.0] * 10
    assert stats.summarize_rounds([[5.0, 6.0, 7.0]])["round_spread"] is None


def _interval_width(spread: float) -> float:
    """The speed-up interval of two backends of equal speed whose 5 rounds spread +-spread."""
    medians = [1 - spread, 1 - spread / 2, 1.0, 1 + spread / 2, 1 + spread]
    rounds = [[10 * m] * 30 for m in medians]
    low, high = stats.speedup_interval(rounds, rounds[::-1])
    return high - low


def test_the_interval_carries_the_spread_between_rounds():
    # Identical samples inside each round: any width comes from the rounds disagreeing.
    assert _interval_width(0.0) == 0.0
    narrow, wide = _interval_width(0.02), _interval_width(0.10)
    assert 0.02 < narrow < 0.09 and 0.10 < wide < 0.45
    assert wide == pytest.approx(5 * narrow, rel=0.3)  # linear in the spread
    # Pooling the same samples as if they were one process gives the too-narrow interval of old.
    pooled = [np.concatenate([[10 * m] * 30 for m in (0.9, 0.95, 1.0, 1.05, 1.1)])]
    low, high = stats.speedup_interval(pooled, pooled)
    assert high - low < 0.5 * _interval_width(0.10)


def test_the_interval_does_not_hide_a_real_difference():
    ref = [[10.0 * m] * 30 for m in (0.98, 1.0, 1.02, 0.99, 1.01)]
    fast = [[5.0 * m] * 30 for m in (0.98, 1.0, 1.02, 0.99, 1.01)]
    low, high = stats.speedup_interval(ref, fast)
    assert 1.9 < low < 2.0 < high < 2.1
