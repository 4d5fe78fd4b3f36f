"""Too few to judge: agreement and accuracy figures on too few detections or images are not verdicts.

The rule: a share is read as a verdict only when its 95% Wilson interval is narrower than 10 points.
"""

import copy

import pytest
from report_helpers import classification, escaped

from reportgen.analysis import rules
from reportgen.analysis.method import biased_backends, enough, too_few, wilson_interval
from reportgen.analysis.verdicts import Thresholds
from reportgen.report import render as site
from reportgen.report.locale import load_catalog


def _few(demo: dict) -> dict:
    """The demo measured on 2 images: 2 detections compared, 1 matched; 3 ground-truth objects."""
    doc = copy.deepcopy(demo)
    doc["dataset"].update(images=2, objects=3)
    for b in doc["backends"].values():
        b["metrics"].update(images=2, ground_truth_objects=3, map50=2 / 3)
        if b["parity"]:
            b["parity"].update(
                detection_match_rate=0.5, matched=1, unmatched_reference=1, unmatched_candidate=0
            )
    return doc


def test_the_wilson_interval_and_what_is_enough():
    low, high = wilson_interval(0.5, 2)  # "50% of detections matched" on 2 detections
    assert (round(low, 3), round(high, 3)) == (0.095, 0.905)
    assert wilson_interval(1.0, 3)[0] == pytest.approx(0.4385, abs=1e-4)  # 100% is not certain either
    assert wilson_interval(0.3, 0) == (0.0, 1.0)
    for share in (0.0, 0.5, 0.9, 0.99, 1.0):
        needed = enough(share)
        assert (wilson_interval(share, needed)[1] - wilson_interval(share, needed)[0]) * 100 < 10
        assert (wilson_interval(share, needed - 1)[1] - wilson_interval(share, needed - 1)[0]) * 100 >= 10
    assert (enough(0.5), enough(1.0)) == (381, 35)


def test_two_detections_are_too_few_to_judge(demo):
    found = {f["key"]: f for f in too_few(_few(demo), Thresholds.of(demo))}
    agreement, accuracy = found["method.too_few/agreement"], found["method.too_few/accuracy"]
    assert agreement["severity"] == accuracy["severity"] == "warn"
    assert agreement["params"]["count"] == 2 and agreement["params"]["needed"] == 381
    assert agreement["title"] == (
        "2 detections are too few to judge agreement: 50% matched could be anywhere from 9% to 91%."
    )
    assert "narrower than 10 points" in agreement["cause"] and "381 detections" in agreement["cause"]
    assert accuracy["params"]["count"] == 3 and "3 ground-truth objects" in accuracy["title"]
    # A finding on the data set, not on timing: no backend's speed verdict is put in doubt by it.
    assert found.keys() == {"method.too_few/agreement", "method.too_few/accuracy"}
    assert found.keys() <= {f["key"] for f in rules.findings(_few(demo))}
    assert biased_backends(_few(demo), Thresholds.of(demo)) == biased_backends(demo, Thresholds.of(demo))


def test_the_widest_interval_among_the_backends_is_judged(demo):
    doc = copy.deepcopy(demo)
    doc["backends"]["ort-basic"]["parity"].update(
        detection_match_rate=0.75, matched=3, unmatched_reference=1, unmatched_candidate=0
    )
    (finding,) = [f for f in too_few(doc, Thresholds.of(demo)) if f["key"] == "method.too_few/agreement"]
    assert finding["params"]["name"] == "ort-basic" and finding["params"]["count"] == 4


def test_the_demo_data_set_is_big_enough(demo):
    # 200 images, 559-564 detections compared (99.1-100% matched), 530 objects: intervals under 2 points.
    assert demo["dataset"]["images"] == 200
    assert too_few(demo, Thresholds.of(demo)) == []
    assert not [f for f in rules.findings(demo) if f["id"] == "method.too_few"]
    low, high = wilson_interval(558 / 564, 564)  # the INT8 backends' agreement, the widest
    assert (high - low) * 100 < 2


def test_classification_counts_images(demo):
    doc = classification(demo)  # 50 images, top-1 agreement 96%, accuracy 83-90%
    found = {f["key"]: f["params"] for f in too_few(doc, Thresholds.of(demo))}
    assert found["method.too_few/agreement_images"]["count"] == 50
    assert found["method.too_few/accuracy_images"]["count"] == 50
    doc["dataset"]["images"] = 5000
    for b in doc["backends"].values():
        b["metrics"]["images"] = 5000
    assert too_few(doc, Thresholds.of(demo)) == []


def test_the_finding_renders_in_both_languages(demo):
    doc = _few(demo)
    finding = next(f for f in rules.findings(doc) if f["key"] == "method.too_few/agreement")
    assert escaped(finding["title"]) in site.render_report(doc)
    ko = load_catalog("ko")["rule.method.too_few/agreement.title"].format(**finding["params"])
    assert escaped(ko) in site.render_report({**doc, "locale": "ko"})
