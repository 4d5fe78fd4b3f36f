"""The batch-size section: only when asked for; throughput per backend and size, escaped errors."""

from __future__ import annotations

from report_helpers import ESCAPED, EVIL, page_figures, page_text, with_batches

from reportgen.analysis import rules
from reportgen.report import render as site


def test_no_batch_section_at_batch_size_one(demo):
    page = site.render_report(demo)
    assert 'id="batch-sizes"' not in page and "chart-batch" not in page_figures(page)
    assert not [f for f in rules.findings(demo) if f["id"] == "recommend.batch"]


def test_the_batch_section_shows_every_size_and_why_one_is_missing(demo):
    doc = with_batches(demo)
    page = site.render_report(doc)
    section = page[page.index('id="batch-sizes"') :]
    section = section[: section.index("</table>")]
    text = page_text(section)
    assert "batch 1" in text and "batch 8" in text and "not supported by this file" in text
    assert ESCAPED in section and EVIL not in page
    figure = page_figures(page)["chart-batch"]
    ref = doc["backends"][doc["reference"]]["by_batch_size"]
    (trace,) = [t for t in figure["data"] if t["name"] == doc["reference"]]
    assert trace["x"] == [1, 8]
    assert abs(trace["y"][1] - ref["8"]["throughput_per_s"]) / ref["8"]["throughput_per_s"] < 1e-3
    int8 = [t for t in figure["data"] if t["name"] == "ort-int8-static"]
    assert not int8 or int8[0]["x"] == [1]  # the size its file does not take is not drawn


def test_the_recommendation_names_its_batch_size(demo):
    doc = with_batches(demo)
    (found,) = [f for f in rules.findings(doc) if f["id"] == "recommend.batch"]
    rates = {
        n: b["by_batch_size"]["8"]["throughput_per_s"]
        for n, b in doc["backends"].items()
        if b.get("by_batch_size", {}).get("8", {}).get("status") == "ok"
    }
    assert found["backend"] == max(rates, key=rates.get)
    assert found["params"]["batch"] == 1 and found["params"]["largest"] == 8
    assert "batch size 1" in found["title"] and "batch size 8" in found["title"]


def test_declared_token_inputs_are_described_as_sequences_not_images(demo):
    from report_helpers import classification

    doc = classification(demo)
    doc["dataset"] = {"source": "random", "seed": 7, "images": 40, "shape": [1, 32], "labelled": True}
    doc["model"]["inputs"] = [
        {"name": "input_ids", "dtype": "int64", "shape": ["batch", 32], "keyword": False},
        {"name": EVIL, "dtype": "int64", "shape": ["batch", 32], "keyword": False},
    ]
    page = site.render_report(doc)
    assert "40 sequences of the inputs input_ids int64 [batch, 32]" in page_text(page)
    assert EVIL not in page
