"""Time-paired slices: the plan, memory groups, the paired speed-up and its interval on hand-made
slices with known machine states, the states seen, and the stopping rule."""

from __future__ import annotations

import random

import numpy as np
import pytest

from reportgen import stats
from reportgen.measure import slices
from reportgen.measure.slices import Measured, Plan
from reportgen.states import speed_states

MEASUREMENT = {
    "slice_s": 0.25,
    "pause_s": 0.05,
    "min_time_s": 2.0,
    "min_iterations": 20,
    "max_iterations": 2000,
    "rounds": 3,
    "precision": 0.05,
    "max_time_s": 120.0,
    "timeout_s": 900.0,
}


def _series(
    levels_ms: float,
    states: list[float],
    rounds: int = 3,
    noise: float = 0.02,
    seed: int = 0,
    offset: float = 0.0,
):
    """Slices of one backend per cycle: its level times the machine's state at that cycle, with noise."""
    rng = np.random.default_rng(seed)
    per_round = len(states) // rounds
    return [
        stats.Slice(
            1 + c // per_round, c, 3.0 * c + offset, levels_ms * state * (1 + noise * rng.standard_normal())
        )
        for c, state in enumerate(states)
    ]


def _states(cycles: int, length: int = 7, factor: float = 1.5) -> list[float]:
    """A machine that switches between a fast and a slow state every ``length`` cycles."""
    return [factor if (c // length) % 2 else 1.0 for c in range(cycles)]


def test_the_plan_cuts_the_time_per_round_into_at_least_four_slices_and_spreads_the_call_bounds():
    plan = Plan.of(MEASUREMENT)
    assert (plan.cycles, plan.min_calls, plan.max_calls) == (8, 3, 250)
    short = Plan.of({**MEASUREMENT, "min_time_s": 0.1, "min_iterations": 5, "max_iterations": 5})
    assert (short.cycles, short.min_calls, short.max_calls) == (4, 2, 2)


def test_every_cycle_puts_each_candidate_between_two_reference_slices_in_a_shuffled_order():
    rng = random.Random(0)
    orders = [slices._sandwich(["ref", "a", "b", "c"], "ref", rng) for _ in range(6)]
    for order in orders:
        assert order[::2] == ["ref"] * 4 and sorted(order[1::2]) == ["a", "b", "c"]
    assert len({tuple(o) for o in orders}) > 1  # shuffled per cycle
    again = random.Random(0)
    assert [slices._sandwich(["ref", "a", "b", "c"], "ref", again) for _ in range(6)] == orders  # seeded


def test_backends_that_fit_stay_alive_together_and_groups_always_hold_the_reference():
    names = ["pytorch", "a", "b", "c"]
    sizes = {"pytorch": 400.0, "a": 300.0, "b": 300.0, "c": 300.0}
    assert slices.groups(names, "pytorch", sizes, available_mb=10_000) == [names]
    tight = slices.groups(names, "pytorch", sizes, available_mb=2_000)  # 1,000 MB for live workers
    assert all(g[0] == "pytorch" for g in tight) and len(tight) > 1
    assert sorted(n for g in tight for n in g[1:]) == ["a", "b", "c"]
    assert all(sum(sizes[n] for n in g) <= 1_000 for g in tight)


def test_pairs_in_time_cancel_machine_states_that_unpaired_rounds_do_not():
    states = _states(36)
    ref, cand = _series(13.0, states), _series(4.0, states, seed=1, offset=0.3)
    paired = stats.paired_speedup(ref, cand)
    assert paired.pairs == 36 and paired.low <= 3.25 <= paired.high and paired.half_width < 0.03
    # The same machine, each backend timed at other moments: the reference in slow states, the
    # candidate in fast ones, as rounds in separate processes could fall.
    ref_rounds = [[13.0 * 1.5] * 10 + [13.0] * 2, [13.0 * 1.5] * 12, [13.0] * 12]
    cand_rounds = [[4.0] * 12, [4.0] * 10 + [6.0] * 2, [4.0] * 12]
    unpaired = stats.speedup_interval(ref_rounds, cand_rounds)
    assert not (unpaired[0] <= 3.25 <= unpaired[1]) or unpaired[1] - unpaired[0] > 1.0


def test_a_stretch_where_a_state_slows_one_runtime_only_barely_moves_the_estimate():
    states = _states(60)
    ref = _series(13.0, states)
    cand = _series(4.0, states, seed=1)
    hit = [
        stats.Slice(s.round, s.cycle, s.start_s, s.median_ms * (1.4 if 20 <= s.cycle < 32 else 1.0))
        for s in cand
    ]
    clean, moved = stats.paired_speedup(ref, cand), stats.paired_speedup(ref, hit)
    assert abs(moved.value / clean.value - 1) < 0.03  # a mean of the ratios would move ~8%
    mean_moved = float(np.mean([r.median_ms / c.median_ms for r, c in zip(ref, hit)]))
    assert mean_moved / clean.value - 1 < -0.05


def test_processes_that_disagree_widen_the_interval():
    states = _states(36)
    ref = _series(13.0, states)
    same = _series(4.0, states, seed=1)
    # The candidate's second process runs 12% slower throughout (its layout, its threads' placement).
    apart = [
        stats.Slice(s.round, s.cycle, s.start_s, s.median_ms * (1.12 if s.round == 2 else 1.0)) for s in same
    ]
    assert stats.paired_speedup(ref, apart).half_width > 2 * stats.paired_speedup(ref, same).half_width


def test_only_the_moments_both_were_timed_in_count():
    # The machine was fast (the reference at 10 ms) only in cycles the candidate missed; in the cycles
    # both ran it was slow for both (20 and 10 ms): 2x, not the 1x that all reference slices would give.
    ref = [stats.Slice(1, c, 3.0 * c, 10.0 if c % 2 else 20.0) for c in range(12)]
    cand = [stats.Slice(1, c, 3.0 * c + 1.0, 10.0) for c in range(0, 12, 2)]
    assert stats.paired_speedup(ref, cand).value == pytest.approx(2.0)


def test_the_speedup_reads_each_side_at_its_best_whatever_the_share_of_slow_time():
    # The slow state costs the reference 50% and the candidate 20%: 3.25x fast, 4.06x slow. A run
    # that spent 20% of its time slow and one that spent 70% give the same speed-up; the median of
    # the pairs' ratios moves with the share.
    def run(slow_share: float, seed: int) -> tuple[list, list]:
        states = [1.5 if (c % 10) < 10 * slow_share else 1.0 for c in range(60)]
        ref = _samples(_series(13.0, states, seed=seed), seed)
        cand = _samples(
            _series(4.0, [1.2 if x > 1 else 1.0 for x in states], seed=seed + 1, offset=0.3), seed
        )
        return ref, cand

    mostly_fast, mostly_slow = run(0.2, 0), run(0.7, 10)
    a, b = stats.paired_speedup(*mostly_fast), stats.paired_speedup(*mostly_slow)
    assert a.value == pytest.approx(3.25, rel=0.04) and b.value == pytest.approx(3.25, rel=0.04)
    medians = [
        float(np.median([r.median_ms / c.median_ms for r, c in zip(*side)]))
        for side in (mostly_fast, mostly_slow)
    ]
    assert medians[1] / medians[0] > 1.1


def _samples(series: list[stats.Slice], seed: int, calls: int = 8) -> list[stats.Slice]:
    """The slices with their calls: each call its slice's level with 3% noise that only adds time."""
    rng = np.random.default_rng(seed)
    return [
        stats.Slice(
            s.round,
            s.cycle,
            s.start_s,
            s.median_ms,
            tuple(s.median_ms * (1 + 0.03 * rng.exponential(size=calls))),
        )
        for s in series
    ]


def test_the_bootstrap_draws_blocks_of_consecutive_pairs_inside_rounds_drawn_with_replacement():
    counts = stats._drawn_counts([8, 8, 8], seed=0)
    assert counts.shape == (1 + stats.BOOTSTRAP_RESAMPLES, 24)
    assert (counts[0] == 1).all()  # row 0: the estimate, every pair once
    assert (counts[1:].sum(axis=1) == 24).all()  # three rounds of eight drawn each time
    per_round = counts[1:].reshape(-1, 3, 8).sum(axis=2)
    assert (per_round % 8 == 0).all() and (per_round == 0).any()  # whole rounds, some left out
    # In blocks (of 3 for 27 pairs): neighbouring pairs are drawn together (drawn one by one, their
    # counts would correlate at -1/26).
    single = stats._drawn_counts([27], seed=0)[1:].astype(float)
    neighbours = np.mean([np.corrcoef(single[:, i], single[:, i + 1])[0, 1] for i in range(5, 20)])
    assert neighbours > 0.3
    assert stats._drawn_counts([8, 8, 8], seed=0).tolist() == counts.tolist()  # seeded: the same interval


def test_only_slices_of_the_same_cycle_are_paired():
    ref = _series(10.0, [1.0] * 12)
    cand = [s for s in _series(5.0, [1.0] * 12) if s.cycle % 2 == 0]  # the candidate missed every other cycle
    assert stats.paired_speedup(ref, cand).pairs == 6  # one state: every pair
    assert stats.paired_speedup(ref, cand[:1]) is None


def test_states_are_found_with_their_levels_shares_and_switches():
    found = speed_states(_series(13.0, _states(42, length=7)))
    assert found.seen and found.switches == 5 and found.slow_share == pytest.approx(0.5, abs=0.01)
    assert found.fast_ms == pytest.approx(13.0, rel=0.03) and found.slow_ms == pytest.approx(19.5, rel=0.03)
    steady = speed_states(_series(13.0, [1.0] * 42, noise=0.03))
    assert not steady.seen and steady.switches == 0 and not any(steady.slow)
    # Two outlying slices are not a state.
    outliers = speed_states(_series(13.0, [1.0] * 20 + [1.6, 1.6] + [1.0] * 20))
    assert not outliers.seen


def _measured(level: float, states: list[float], seed: int) -> Measured:
    m = Measured()
    for s in _series(level, states, seed=seed):
        m.slices.append(
            {"round": s.round, "cycle": s.cycle, "start_ns": int(s.start_s * 1e9), "samples": [s.median_ms]}
        )
    return m


def test_stopping_waits_for_the_minimum_rounds_then_for_precision_or_the_budget():
    plan = Plan.of(MEASUREMENT)
    states = _states(24)
    measured = {
        "ref": _measured(13.0, states, 0),
        "fast": _measured(4.0, states, 1),
        "slow": _measured(20.0, states, 2),
    }
    assert slices.stop(2, 30.0, plan, measured, "ref") is None  # fewer than 3 rounds
    assert slices.stop(3, 30.0, plan, measured, "ref") == "precision"
    noisy = {
        **measured,
        "fast": _measured(
            4.0, [s * f for s, f in zip(states, np.random.default_rng(5).uniform(0.6, 1.6, 24))], 1
        ),
    }
    assert slices.worst_half_width(noisy, "ref") > plan.precision
    assert slices.stop(3, 60.0, plan, noisy, "ref") is None
    assert slices.stop(3, 121.0, plan, noisy, "ref") == "budget"


def test_the_slowest_backends_do_not_decide_when_to_stop():
    plan = Plan.of(MEASUREMENT)
    states = _states(24)
    wild = [s * f for s, f in zip(states, np.random.default_rng(5).uniform(0.5, 2.0, 24))]
    measured = {
        "ref": _measured(13.0, states, 0),
        "fast": _measured(4.0, states, 1),
        "slow": _measured(40.0, wild, 2),
    }
    assert slices.stop(3, 30.0, plan, measured, "ref") == "precision"  # 'slow' is far from the fastest


def test_a_reference_that_ended_stops_at_once():
    plan = Plan.of(MEASUREMENT)
    measured = {"ref": Measured(ended={"status": "failed", "error": "boom"}), "a": Measured()}
    assert slices.stop(1, 5.0, plan, measured, "ref") == "reference-failed"
    measured = {"ref": Measured(), "a": Measured(ended={"status": "failed", "error": "boom"})}
    assert slices.stop(1, 5.0, plan, measured, "ref") == "nothing-to-pair"


def _entry(series: list[stats.Slice]) -> dict:
    """A backend entry as a results document stores it: slice records and their samples, in time order."""
    return {
        "slices": [{"round": s.round, "cycle": s.cycle, "start_s": s.start_s, "n": 1} for s in series],
        "latency_ms": {"samples": [s.median_ms for s in series]},
    }


def test_states_that_hit_the_runtimes_unequally_give_two_speedups_and_the_ranking_keeps_the_fast_one():
    states = _states(48)
    ref = _series(13.0, states)
    # The slow state costs the reference 50% but the candidate only 20%: 3.25x when fast, 4.06x when slow.
    cand = _series(4.0, [1.2 if s > 1 else 1.0 for s in states], seed=1, offset=0.3)
    fast, slow = stats.speedups_by_state(_entry(ref), _entry(cand))
    assert fast.value == pytest.approx(3.25, rel=0.03) and slow.value == pytest.approx(4.06, rel=0.03)
    assert stats.speedup(_entry(ref), _entry(cand)).value == pytest.approx(
        3.25, rel=0.03
    )  # the fast state's 21
    alike = _series(4.0, states, seed=1, offset=0.3)
    fast, slow = stats.speedups_by_state(_entry(ref), _entry(alike))
    assert fast.value == pytest.approx(slow.value, rel=0.03)


def test_the_same_backend_in_two_runs_is_compared_against_the_reference_beside_it():
    # Run 2 was 40% slower for everyone (another state of the machine) and the candidate also became
    # 20% slower on its own: only the 20% is the candidate's.
    run1 = _states(36)
    ref1, cand1 = _series(13.0, run1), _series(4.0, run1, seed=1, offset=0.3)
    run2 = [1.4 * s for s in run1]
    ref2, cand2 = _series(13.0, run2, seed=2), _series(4.8, run2, seed=3, offset=0.3)
    change = stats.relative_speedup(_entry(ref1), _entry(cand1), _entry(ref2), _entry(cand2))
    assert change.value == pytest.approx(1 / 1.2, rel=0.03) and change.high < 1 / 1.1


def test_the_weighted_low_quantile_is_the_quantile_of_the_calls_of_the_pairs_drawn():
    rng = np.random.default_rng(3)
    calls = [tuple(rng.uniform(1.0, 3.0, size=rng.integers(1, 9)).round(2)) for _ in range(12)]  # ties too
    counts = rng.integers(0, 4, size=(50, 12))
    counts[:, 0] += 1  # every row draws something
    found = stats._low_quantiles(calls, counts)
    for row, value in zip(counts, found):
        drawn = np.concatenate([np.repeat(c, k) for c, k in zip(calls, row)])
        assert value == np.percentile(drawn, 100 * stats.LOW_QUANTILE, method="inverted_cdf")
