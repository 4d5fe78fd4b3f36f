"""Issue 20's failure battery: the real demo document (8 backends) with backends failed the ways a run
fails them (the runner's own step prefixes and errors), each judged and rendered in every language.
Whatever failed is said once, at the top, and nothing reads as a verdict on what was not measured."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from reportgen.analysis.assess import assess
from reportgen.analysis.steps import PREFIXES
from reportgen.report.render import render_report
from reportgen.results.document import read_results
from reportgen.results.schema import OK_MEASUREMENTS

DEMO = read_results(Path(__file__).parent / "data" / "results_demo.json")
ONNX = ["onnxruntime", "ort-extended", "ort-basic", "ort-disabled", "ort-int8-static", "ort-int8-dynamic"]
EXPORT = "torch.export failed: Could not guard on data-dependent expression u0 < 0"


def fail(doc: dict, names: list[str], error: str) -> None:
    """Fail backends as the runner records one that never ran: its error, no measurement."""
    for name in names:
        b = doc["backends"][name]
        b.update({key: None for key in OK_MEASUREMENTS}, status="failed", error=error, parity=None)
        b.update(slices=None, warmup_ms=None, gflops=None, answers=None)
        b.pop("by_batch_size", None)


def _export(doc):
    fail(doc, ONNX, PREFIXES["export"] + EXPORT)


def _trace(doc):
    fail(doc, ["torchscript"], PREFIXES["trace"] + "TracerWarning: Converting a tensor to a Python boolean")


def _quantization(doc):
    fail(doc, ["ort-int8-static", "ort-int8-dynamic"], PREFIXES["quantization"] + "ValueError: no weights")


def _nothing_ran(doc):
    _export(doc)
    _trace(doc)


def _own_errors(doc):
    for name in doc["backend_order"][1:]:
        fail(doc, [name], f"its worker crashed (signal 9) while {name} loaded")


def _reference(doc):
    fail(doc, ["pytorch"], "the factory model could not be loaded: FileNotFoundError: weights.pt")


# (id, how the run failed, the failing findings' keys, the bottom line's start, whether anything
# but the reference ran)
CASES: list[tuple[str, Callable[[dict], None], list[str], str | None, bool]] = [
    ("export", _export, ["backend.step/export"], None, True),
    ("trace", _trace, ["backend.step/trace"], None, True),
    ("quantization", _quantization, ["backend.step/quantization"], None, True),
    (
        "export-and-trace",
        _nothing_ran,
        ["backend.step/export", "backend.step/trace"],
        "The ONNX export failed, so onnxruntime, ort-extended",
        False,
    ),
    ("own-errors", _own_errors, ["backend.failed"] * 7, "No other backend ran", False),
    ("reference", _reference, ["backend.failed"], "The reference pytorch failed", False),
]


@pytest.mark.parametrize(("case", "make", "failing", "bottom", "compared"), CASES, ids=[c[0] for c in CASES])
def test_a_failure_is_said_once_and_judged_as_such(case, make, failing, bottom, compared):
    doc = copy.deepcopy(DEMO)
    make(doc)
    judged = assess(doc)
    assert [f["key"] for f in judged.findings if f["severity"] == "fail"][: len(failing)] == failing
    assert (judged.recommendation is not None) == compared
    blocked = {n for n, b in judged.backends.items() if b.state and b.state.code.startswith("not_measured.")}
    for step in (f for f in judged.findings if f["id"] == "backend.step"):
        assert set(step["params"]["names"].split(", ")) <= blocked
        assert not step["params"]["error"].startswith(tuple(PREFIXES.values()))  # the step's own line
    page = render_report(doc)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    verdict = re.search(r'<section id="verdict".*?</section>', page, flags=re.S).group(0)
    if bottom:
        assert bottom in re.search(r'class="bottom-line".*?</p>', verdict, flags=re.S).group(0)
    if not compared:  # no advice on what was not compared
        assert "biased conditions" not in text and "No measured alternative is faster" not in text
    for name in blocked:  # said once by its step: no error text of its own anywhere on the page
        assert doc["backends"][name]["error"] not in page
    if judged.recommendation is None or judged.recommendation.uses is None:
        # No recommendation: no backend is starred "recommended" anywhere (issue 20's contradiction).
        assert 'class="star"' not in page and "verdict-line recommended" not in page
    if case == "export":
        assert text.count(EXPORT) <= 3  # the key finding, its cause, the ONNX file's paragraph
    render_report(doc, locale="ko")  # every text exists in Korean too


def test_a_withheld_recommendation_stars_no_backend():
    # The contradiction: the bottom line said "No recommendation" while the headline starred a
    # backend. A disturbed reference withholds the recommendation (recommend.remeasure).
    doc = copy.deepcopy(DEMO)
    doc["environment"]["other_cpu_share"] = 0.5
    judged = assess(doc)
    assert judged.recommendation is not None and judged.recommendation.uses is None
    page = render_report(doc)
    bottom = re.search(r'class="bottom-line".*?</p>', page, flags=re.S).group(0)
    assert "No recommendation" in bottom
    assert 'class="star"' not in page and "verdict-line recommended" not in page


def test_the_same_step_with_two_errors_is_two_findings():
    doc = copy.deepcopy(DEMO)
    fail(doc, ["ort-int8-static"], PREFIXES["quantization"] + "calibration failed")
    fail(doc, ["ort-int8-dynamic"], PREFIXES["quantization"] + "no MatMul to quantize")
    steps = [f["params"] for f in assess(doc).findings if f["id"] == "backend.step"]
    assert steps == [
        {"names": "ort-int8-static", "error": "calibration failed"},
        {"names": "ort-int8-dynamic", "error": "no MatMul to quantize"},
    ]
