"""Latency statistics on known samples."""

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


def test_speedup_interval_brackets_the_ratio_and_is_deterministic():
    ref = [10.0 + 0.1 * (i % 7) for i in range(60)]
    fast = [5.0 + 0.05 * (i % 5) for i in range(60)]
    low, high = stats.speedup_interval(ref, fast)
    assert 1.9 < low <= high < 2.1
    assert stats.speedup_interval(ref, fast) == [low, high]
    same_low, same_high = stats.speedup_interval(ref, ref)
    assert same_low <= 1.0 <= same_high
