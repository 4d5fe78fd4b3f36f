"""The gate across two documents timed in paired slices (schema 4): a backend's change is measured
against the same reference timed beside it in both runs, so a machine that was slower during one whole
run fails nothing, while a backend's own slowdown is caught; without that yardstick, unpaired; a run
that other processes disturbed is not judged on speed. tests/data/results_paired.json is a real run
(eager PyTorch and ONNX Runtime, 3 rounds of paired slices) on the 2-core VM."""

from __future__ import annotations

import copy
from pathlib import Path

from documents import scale_latency

from reportgen.analysis.verdicts import Thresholds
from reportgen.release import compare
from reportgen.results.document import read_results

PAIRED = read_results(Path(__file__).parent / "data" / "results_paired.json")
THRESHOLDS = Thresholds.of({})


def _new(factors: dict[str, float], **model) -> dict:
    doc = copy.deepcopy(PAIRED)
    doc["version"] = "0.5.0"
    for name, factor in factors.items():
        scale_latency(doc["backends"][name], factor)
    doc["model"] |= model
    return doc


def _latency_row(report: dict, name: str) -> dict:
    return next(r for r in report["rows"] if r["backend"] == name and r["metric"] == "latency_median_ms")


def test_the_fixture_is_a_paired_run():
    assert PAIRED["timing"]["design"] == "paired-slices" and PAIRED["timing"]["rounds"] == 3
    assert all(b["slices"] for b in PAIRED["backends"].values())


def test_a_machine_slower_during_the_whole_new_run_is_no_regression_of_the_backends_beside_the_reference():
    report = compare.compare(PAIRED, _new({"pytorch": 1.4, "onnxruntime": 1.4}), THRESHOLDS)
    row = _latency_row(report, "onnxruntime")
    assert (
        row["status"] == "same" and "against the same reference timed beside it in both runs" in row["detail"]
    )
    assert row["text"]["change"] == "+40.0%"  # the medians as measured, shown; not what is judged
    ref = _latency_row(report, "pytorch")  # the reference itself can only be compared unpaired
    assert "unpaired" in ref["detail"]


def test_a_backend_that_became_slower_beside_the_same_reference_is_a_regression():
    # A short run (3 rounds of 6 cycles) resolves about +-20% at the gate's 97.5%: plant more than that.
    row = _latency_row(compare.compare(PAIRED, _new({"onnxruntime": 1.6}), THRESHOLDS), "onnxruntime")
    assert row["status"] == "regression" and row["detail"].startswith("+60.0%")
    assert row["interval"][0] > 1.05  # the whole interval beyond the speed tolerance


def test_another_model_leaves_no_yardstick_and_the_change_is_judged_unpaired():
    row = _latency_row(
        compare.compare(PAIRED, _new({"onnxruntime": 1.25}, flops=1), THRESHOLDS), "onnxruntime"
    )
    assert "unpaired" in row["detail"] and "against the same reference" not in row["detail"]


def test_a_disturbed_run_is_not_judged_on_speed_and_says_why():
    new = _new({"onnxruntime": 1.5})
    new["environment"]["other_cpu_share"] = 0.3
    row = _latency_row(compare.compare(PAIRED, new, THRESHOLDS), "onnxruntime")
    assert row["status"] == "info"
    assert row["detail"].startswith("not judged: other processes took 30% of the CPU during NEW (over 10%)")
