"""Issue 20: like with like across versions. The real demo document (8 backends, measured) as two
versions that differ in one declared way: the changes table, the index trends and the regression gate
compare only what measures the same thing, and say what changed otherwise."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from documents import scale_latency

from reportgen.analysis.comparable import backend_change, comparable, run_changes
from reportgen.analysis.verdicts import Thresholds
from reportgen.release.compare import INFO, compare
from reportgen.release.gate_report import format_text
from reportgen.report.locale import Locale
from reportgen.report.pages import changes
from reportgen.report.render import render_report
from reportgen.report.trends import trend_figures
from reportgen.results.document import read_results

DATA = Path(__file__).parent / "data" / "results_demo.json"


@pytest.fixture(scope="module")
def demo():
    return read_results(DATA)


def _next(doc, version="0.2.0"):
    newer = copy.deepcopy(doc)
    newer["version"], newer["created_at"] = version, "2026-12-05T10:00:00Z"
    return newer


def _slower(doc, factor=3.0):
    """Return the document with onnxruntime's latency samples slower by ``factor`` (a real regression's
    shape, as tests/test_compare.py plants it)."""
    scale_latency(doc["backends"]["onnxruntime"], factor)
    return doc


def test_the_same_run_twice_is_compared(demo):
    newer = _next(demo)
    assert run_changes(demo, newer) == [] and all(comparable(demo, newer, n) for n in demo["backends"])
    view = changes(newer, demo, Thresholds.of(newer), Locale("en"))
    assert view["not_compared"] == [] and len(view["rows"]) == len(demo["backends"])


def test_another_task_is_not_compared_and_says_so(demo):
    newer = _next(demo)
    newer["model"]["task"] = "detection"
    (change,) = run_changes(demo, newer)
    assert change.sentence() == "not compared: the task changed from segmentation to detection"
    view = changes(newer, demo, Thresholds.of(newer), Locale("en"))
    assert view["rows"] == []
    assert view["not_compared"] == ["Not compared: the task changed from segmentation to detection."]
    page = render_report(newer, demo)
    section = re.search(r'<section id="changes">.*?</section>', page, flags=re.S).group(0)
    assert "Not compared: the task changed from segmentation to detection." in section
    assert "<table" not in section and "No backend was measured in both" not in section
    korean = render_report(newer, demo, locale="ko")
    assert "비교하지 않음: 작업이 segmentation에서 detection(으)로 바뀌었습니다." in korean


def test_the_gate_judges_nothing_across_another_model(demo):
    newer = _slower(_next(demo))
    th = Thresholds.of(newer)
    assert compare(demo, newer, th)["regressions"] > 0  # the control: the same model, slower, is caught
    newer["model"]["name"] = "another-model"
    report = compare(demo, newer, th)
    assert report["regressions"] == 0
    assert [(r["metric"], r["status"]) for r in report["rows"]] == [("model", INFO)]
    summary = format_text(report).splitlines()[-1]
    assert summary.startswith("no verdict from 0.1.0 to 0.2.0: not compared: the model changed from")


def test_a_backend_whose_settings_changed_is_left_out_alone(demo):
    newer = _slower(_next(demo))
    entry = next(b for b in newer["config"]["backends"] if b["name"] == "onnxruntime")
    entry["graph_optimization"] = "basic"
    change = backend_change(demo, newer, "onnxruntime")
    assert (change.old, change.new) == ("graph_optimization all", "graph_optimization basic")
    view = changes(newer, demo, Thresholds.of(newer), Locale("en"))
    assert "onnxruntime" not in [r["backend"] for r in view["rows"]] and len(view["rows"]) == 7
    assert view["not_compared"] == [
        "onnxruntime not compared: its settings changed from graph_optimization all to graph_optimization basic."
    ]
    rows = [r for r in compare(demo, newer, Thresholds.of(newer))["rows"] if r["backend"] == "onnxruntime"]
    assert [(r["metric"], r["status"]) for r in rows] == [("settings", INFO)]


def test_a_trend_line_starts_after_a_change(demo):
    middle, newest = _next(demo, "0.2.0"), _next(demo, "0.3.0")
    for doc in (middle, newest):
        next(b for b in doc["config"]["backends"] if b["name"] == "onnxruntime")["quantization"] = "dynamic"
    figures = trend_figures([demo, middle, newest], Locale("en"))
    lines = {t["name"]: t["y"] for t in figures["latency"]["data"]}
    assert lines["onnxruntime"][0] is None and None not in lines["onnxruntime"][1:]
    assert None not in lines["pytorch"]  # the others' lines run through every version
    # Where the line ends, the chart says why: a dotted line and a label at 0.2.0.
    layout = figures["latency"]["layout"]
    assert [a["text"] for a in layout["annotations"] if a["x"] == "0.2.0"] == [
        "onnxruntime: settings changed"
    ]
    assert [s["x0"] for s in layout["shapes"] if s.get("xref") == "x"] == ["0.2.0"]


def test_a_reference_with_other_settings_leaves_the_speed_ups_uncompared(demo):
    middle, newest = _next(demo, "0.2.0"), _next(demo, "0.3.0")
    for doc in (middle, newest):
        next(b for b in doc["config"]["backends"] if b["name"] == "pytorch")["warmup_iterations"] = 50
    view = changes(middle, demo, Thresholds.of(middle), Locale("en"))
    assert view["metrics"] == ["Median latency", "mAP@0.5", "Peak memory (RSS)", "Model file size"]
    assert "pytorch" not in [r["backend"] for r in view["rows"]]
    figures = trend_figures([demo, middle, newest], Locale("en"))
    speedups = {t["name"]: t["y"] for t in figures["speedup"]["data"]}
    latencies = {t["name"]: t["y"] for t in figures["latency"]["data"]}
    assert speedups["onnxruntime"][0] is None and None not in speedups["onnxruntime"][1:]
    assert None not in latencies["onnxruntime"]  # its own latency still compares
