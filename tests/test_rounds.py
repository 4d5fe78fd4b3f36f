"""Rounds: one backend's fresh processes and their slices combined, the machine readings, and a
schema-2 file (one process per backend) read as one round."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

from reportgen.measure import environment, rounds, runner
from reportgen.results.document import SCHEMA_VERSION, latency_rounds, read_results

DATA = Path(__file__).parent / "data"


def _result(load_ms: float, peak: float, share: float) -> dict:
    """One round's result as a live worker returns it when it finishes (measure/worker/backend.py)."""
    return {
        "status": "ok",
        "error": None,
        "threads": 2,
        "load_ms": load_ms,
        "first_inference_ms": 2 * load_ms,
        "warmup_samples_ms": [1.0],
        "memory_mb": {"at_start": 10.0, "before_load": 20.0, "after_load": 30.0, "peak": peak},
        "round": {"other_cpu_share": share, "steal_share": 0.0, "cpu_mhz": None, "started_at": "t"},
    }


def _slice(number: int, cycle: int, start_s: float, samples: list[float]) -> dict:
    return {"round": number, "cycle": cycle, "start_ns": int(1e9 * (100 + start_s)), "samples": samples}


def test_rounds_combine_into_one_backend_with_medians_of_the_process_figures():
    results = [_result(10.0, 90.0, 0.0), _result(30.0, 100.0, 0.1), _result(20.0, 95.0, 0.2)]
    timed = [
        _slice(1, 0, 0.0, [5.0, 6.0]),
        _slice(1, 1, 1.0, [7.0]),
        _slice(2, 2, 5.0, [8.0, 9.0]),
        _slice(3, 3, 9.0, [6.0, 6.0]),
        _slice(3, 4, 10.0, [6.0, 6.0]),
    ]
    raw = rounds.combine(results, timed, t0_ns=int(100e9))
    assert raw["latency_rounds_ms"] == [[5.0, 6.0, 7.0], [8.0, 9.0], [6.0, 6.0, 6.0, 6.0]]
    assert raw["load_ms"] == 20.0 and raw["first_inference_ms"] == 40.0 and raw["memory_mb"]["peak"] == 95.0
    assert raw["other_cpu_share"] == pytest.approx(0.1) and [r["n"] for r in raw["rounds"]] == [3, 2, 4]
    assert [r["median_ms"] for r in raw["rounds"]] == [6.0, 8.5, 6.0]
    assert raw["slices"] == [
        {"round": 1, "cycle": 0, "start_s": 0.0, "n": 2},
        {"round": 1, "cycle": 1, "start_s": 1.0, "n": 1},
        {"round": 2, "cycle": 2, "start_s": 5.0, "n": 2},
        {"round": 3, "cycle": 3, "start_s": 9.0, "n": 2},
        {"round": 3, "cycle": 4, "start_s": 10.0, "n": 2},
    ]


Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")


def test_steal_is_measured_apart_from_other_processes(monkeypatch):
    # Over one second on two cores: two CPU seconds of steal and one of someone else's work.
    readings = iter([Times(10, 0, 5, 100, 1, 0, 0, 3, 0, 0), Times(11, 0, 5, 100, 1, 0, 0, 5, 0, 0)] * 2)
    clock = iter([100.0, 101.0] * 2)
    monkeypatch.setattr(environment.psutil, "cpu_times", lambda: next(readings))
    monkeypatch.setattr(environment.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(environment, "_own_cpu_seconds", lambda: 0.0)
    monkeypatch.setattr(environment, "_usable_cores", lambda: 2)
    assert environment.CpuContention().steal_share() == 1.0  # 2 s of steal / (1 s x 2 cores)
    assert environment.CpuContention().other_share() == 0.5  # 1 s of others' work; steal is not busy


def test_the_cpu_clock_reads_as_mhz_or_nothing():
    mhz = environment.cpu_mhz()
    assert mhz is None or 100 < mhz < 10_000


def test_a_schema_2_file_reads_as_one_round_per_backend():
    doc = read_results(DATA / "results_v2.json")
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["config"]["measurement"]["rounds"] == 1 and doc["environment"]["steal_share"] is None
    for backend in doc["backends"].values():
        if backend["status"] != "ok":
            continue
        (only,) = backend["rounds"]
        assert (
            only["n"] == backend["latency_ms"]["n"] and only["median_ms"] == backend["latency_ms"]["median"]
        )
        assert backend["latency_ms"]["round_spread"] is None
        (samples,) = latency_rounds(backend)
        assert samples.tolist() == backend["latency_ms"]["samples"]


def test_a_run_that_compared_nothing_says_why():
    doc = read_results(DATA / "results_v2.json")
    assert runner.unmeasured(doc) is None
    for name in doc["backend_order"][1:]:
        doc["backends"][name].update(status="failed", error="boom")
    assert (
        runner.unmeasured(doc)
        == f"every backend but the reference failed ({', '.join(doc['backend_order'][1:])}): boom"
    )
    doc["backends"]["pytorch"].update(status="failed", error="no weights")
    assert runner.unmeasured(doc) == "the reference pytorch failed: no weights"
