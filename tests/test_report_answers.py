"""The answers chart (report/answer_charts.py) draws what was compared, and nothing where nothing was."""

from __future__ import annotations

import copy

from reportgen.report.answer_charts import agreement_figure
from reportgen.report.locale import get_locale


def test_zero_of_zero_detections_draw_no_agreement_dot(demo):
    doc = copy.deepcopy(demo)
    parity = doc["backends"]["onnxruntime"]["parity"]
    # A detector that finds nothing in either backend: the match rate of 0 of 0 is no agreement at all.
    parity.update(matched=0, unmatched_reference=0, unmatched_candidate=0, detection_match_rate=1.0)
    figure = agreement_figure(doc, 0.98, get_locale("en"))
    dots = figure["data"][0]
    shares = dict(zip(dots["y"], dots["x"]))
    assert shares["onnxruntime"] is None
    # Every other backend compared some detections: its dot is its match rate.
    others = {
        n: 100 * doc["backends"][n]["parity"]["detection_match_rate"] for n in shares if n != "onnxruntime"
    }
    assert others and all(abs(shares[n] - rate) < 0.01 for n, rate in others.items())
