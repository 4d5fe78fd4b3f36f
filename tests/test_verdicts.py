"""The shared speed verdict and the tie rule of the recommendation, on hand-made intervals."""

from __future__ import annotations

from pathlib import Path

import pytest
from documents import set_rounds

from reportgen.analysis import assess, recommend, rules
from reportgen.analysis.finding import speedup_of
from reportgen.analysis.verdicts import FASTER, SAME, SLOWER, simplicity, speed_verdict
from reportgen.results.document import read_results
from reportgen.stats import Speedup

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "interval, verdict",
    [
        ((1.06, 1.2), FASTER),  # all of it beyond +5%
        ((1.04, 1.2), SAME),  # reaches into the tolerance
        ((0.9, 1.1), SAME),
        ((0.8, 0.96), SAME),
        ((0.8, 0.94), SLOWER),
    ],
)
def test_faster_or_slower_only_when_the_whole_interval_is_beyond_the_tolerance(interval, verdict):
    assert speed_verdict(interval, 0.05) == verdict


def test_simplest_is_fp32_with_default_options_first():
    plain = {"settings": {"graph_optimization": "all", "quantization": "none"}}
    tuned = {"settings": {"graph_optimization": "extended", "quantization": "none"}}
    int8 = {"settings": {"graph_optimization": "all", "quantization": "static"}}
    torch = {"settings": {}}
    assert sorted([int8, tuned, plain], key=simplicity) == [plain, tuned, int8]
    assert simplicity(torch) == simplicity(plain)


@pytest.fixture
def document(monkeypatch) -> dict:
    """The demo document with five steady rounds per backend, so nothing biases the speed findings;
    each candidate's speed-up is the hand-made one that ``_speed`` writes (the tie rule alone)."""

    def hand_made(doc: dict, name: str) -> Speedup | None:
        b = doc["backends"][name]
        if "hand_made" not in b:  # a test that did not set one: the measured estimate
            return speedup_of(doc, name)
        return Speedup(*b["hand_made"], pairs=0) if b["status"] == "ok" else None

    for module in (rules, recommend, assess):  # every reader of finding.speedup_of
        monkeypatch.setattr(module, "speedup_of", hand_made)
    doc = read_results(DATA / "results_v2.json")
    for b in doc["backends"].values():
        if b["status"] == "ok":
            set_rounds(b, [[b["latency_ms"]["median"]] * 40] * 5)
            b["other_cpu_share"] = 0.0
    return doc


def _speed(doc: dict, name: str, speedup: float, low: float, high: float) -> None:
    doc["backends"][name]["hand_made"] = (speedup, low, high)  # read by the fixture's speedup_of


def _recommendation(doc: dict) -> dict:
    return next(f for f in rules.findings(doc) if f["id"].startswith("recommend."))


def test_backends_inside_the_fastest_ones_interval_are_tied_and_the_simplest_is_named(document):
    for name in document["backend_order"][1:]:
        _speed(document, name, 0.5, 0.45, 0.55)  # slower: out of the running
    _speed(document, "ort-int8-static", 3.5, 3.2, 3.8)  # measured fastest
    _speed(document, "ort-extended", 3.4, 3.1, 3.7)  # tuned, inside the interval
    _speed(document, "onnxruntime", 3.3, 3.0, 3.6)  # default options, FP32, inside the interval
    found = _recommendation(document)
    assert found["key"] == "recommend.tied" and found["backend"] == "onnxruntime"
    assert found["params"]["fastest"] == "ort-int8-static"
    assert (
        "ort-int8-static 3.50×" in found["params"]["tied"] and "ort-extended 3.40×" in found["params"]["tied"]
    )
    assert "onnxruntime" in found["title"] and "simplest" in found["title"]


def test_a_backend_faster_beyond_the_others_intervals_is_named_alone(document):
    for name in document["backend_order"][1:]:
        _speed(document, name, 0.5, 0.45, 0.55)
    _speed(document, "ort-int8-static", 3.5, 3.45, 3.55)
    _speed(document, "onnxruntime", 3.3, 3.2, 3.4)
    found = _recommendation(document)
    assert found["key"] == "recommend.fastest" and found["backend"] == "ort-int8-static"


def test_a_backend_inside_the_noise_of_the_reference_is_never_recommended(document):
    for name in document["backend_order"][1:]:
        _speed(document, name, 1.3, 0.9, 1.8)  # faster on the median, not beyond the noise
    assert _recommendation(document)["key"] == "recommend.keep"


def test_a_file_of_one_process_per_backend_withholds_the_recommendation():
    doc = read_results(DATA / "results_v2.json")  # schema 2: one round each
    found = rules.findings(doc)
    assert "method.rounds" in {f["key"] for f in found}
    assert _recommendation(doc)["key"] == "recommend.remeasure"


def test_rounds_that_disagree_say_how_close_this_machine_can_rank(document):
    b = document["backends"]["onnxruntime"]
    set_rounds(b, [[m] * 30 for m in (3.0, 3.1, 3.6, 3.2, 3.05)])
    found = next(f for f in rules.findings(document) if f["key"] == "method.repeatability")
    assert found["backend"] == "onnxruntime" and found["severity"] == "info"
    assert found["params"]["spread"] == pytest.approx(100 * 0.6 / 3.1)
    assert "3.00, 3.10, 3.60, 3.20, 3.05" in found["evidence"] and "19%" in found["title"]


def test_no_difference_under_a_method_mistake_blames_the_method(document):
    _speed(document, "onnxruntime", 1.02, 0.8, 1.3)
    document["backends"]["onnxruntime"]["settings"]["warmup_iterations"] = 0
    keys = {(f["key"], f["backend"]) for f in rules.findings(document)}
    assert ("speed.latency/same_method", "onnxruntime") in keys and (
        "speed.latency/same",
        "onnxruntime",
    ) not in keys


def test_a_backend_whose_interval_reaches_the_fastest_ones_is_tied(document):
    # Its median (3.0x) is below the fastest's interval, but its own interval overlaps it: noise decides.
    for name in document["backend_order"][1:]:
        _speed(document, name, 0.5, 0.45, 0.55)
    _speed(document, "ort-int8-static", 3.7, 3.2, 4.5)
    _speed(document, "onnxruntime", 3.0, 2.6, 3.8)
    found = _recommendation(document)
    assert found["key"] == "recommend.tied" and found["backend"] == "onnxruntime"
    assert "ort-int8-static 3.70×" in found["params"]["tied"]
