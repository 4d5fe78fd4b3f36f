"""No verdict on nothing: a reference whose answers are empty or the same for every sample.

A detector with random weights finds no object on any image; agreement is then "0 of 0" and the two
mAPs are both 0, which would read "same answers, 100%" and "no change". A classifier that answers one
class for every sample, or a model whose outputs do not depend on its inputs, agrees with any backend
that does the same for the same empty reason. One finding says so, and the agreement verdicts, the
agreement and mAP findings and the recommendation are withheld (assess.py, rules.py, recommend.py).
"""

from __future__ import annotations

from reportgen.analysis.finding import Finding, finding
from reportgen.analysis.verdicts import Thresholds
from reportgen.results.schema import Document, Parity, measured


def nothing(document: Document) -> str | None:
    """Return why the reference's answers leave nothing to judge agreement on: ``detections`` (none
    found over the set), ``one_class`` (one top-1 class for every sample), ``constant`` (the same
    outputs for every sample); None when its answers vary (or the document cannot tell)."""
    ref = measured(document["backends"][document["reference"]])
    if ref is None:
        return None
    answers = ref.get("answers")
    if ref["metrics"].get("detections_per_image") == 0:
        return "detections"
    if answers and answers["distinct_top1"] == 1 and answers["samples"] > 1:
        return "one_class"
    if answers and answers["constant_outputs"]:
        return "constant"
    return None


def compared(parity: Parity) -> int | None:
    """Return how many detections an agreement was judged on (None: not a detection agreement)."""
    if "detection_match_rate" not in parity:
        return None
    return parity["matched"] + max(parity["unmatched_reference"], parity["unmatched_candidate"])


def nothing_findings(document: Document, th: Thresholds) -> list[Finding]:
    """Return the finding that withholds the agreement verdicts, when the reference's answers are empty."""
    why = nothing(document)
    if why is None:
        return []
    ref_name = document["reference"]
    answers = document["backends"][ref_name].get("answers")
    samples = answers["samples"] if answers else document["dataset"]["images"]
    return [finding(f"method.nothing/{why}", "warn", ref_name, ref=ref_name, images=samples)]
