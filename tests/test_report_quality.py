"""Detection quality and output agreement: example pictures, classification and raw models."""

from __future__ import annotations

import copy
import re

from report_helpers import classification, page_figures, page_section, page_text

from reportgen.report import render as site


def test_example_images_show_reference_and_candidate_side_by_side(demo):
    page = site.render_report(demo)
    quality = page_section(page, "quality")
    examples = re.findall(r'<figure class="example">(.*?)</figure>', quality, re.S)
    assert len(examples) == len(demo["examples"]) == 4
    for ex, fragment in zip(demo["examples"], examples):
        images = re.findall(r'<img src="(data:image/jpeg;base64,[^"]+)" alt="([^"]+)"', fragment)
        assert [src for src, _ in images] == [ex["pictures"][n] for n in ex["backends"]]
        assert all(str(ex["image"]) in alt for _, alt in images)
        for name in ex["backends"]:
            for d in ex["detections"][name]:
                assert f'{d["class_name"]} <span class="num">{d["score"]:.3f}</span>' in fragment
        assert "no match" in fragment  # these were picked because the backends disagree
    # Image #183: the reference's weak circle and the INT8 model's extra square have no partner.
    first = page_text(examples[0])
    assert "2 unmatched detections" in first and "circle 0.290 no match" in first
    bad = copy.deepcopy(demo)
    bad["examples"][0]["pictures"]["pytorch"] = "javascript:alert(1)"
    page = site.render_report(bad)
    assert "javascript:" not in page and page.count("<img src=") == 7


def test_a_classification_run_shows_top1_metrics_and_agreement(demo):
    doc = classification(demo)
    page = site.render_report(doc)
    assert [m for m in re.findall(r'<tr data-metric="(\w+)">', page_section(page, "headline"))] == [
        "mean_confidence",
        "top1_accuracy",
        "top5_accuracy",
        "fps",
        "latency_median",
        "memory_peak",
        "file_size",
    ]
    quality = page_section(page, "quality")
    assert "Same top-1 class" in quality and "Detections matched" not in quality
    assert "96.0% top-1 agreement" in page_text(page_section(page, "verdict"))
    assert "ort-int8-static different answers" in page_text(page_section(page, "verdict"))  # 96% < 98%
    figures = page_figures(page)
    assert "chart-confidence" not in figures and figures["chart-agreement"]["data"][0]["name"].startswith(
        "same top-1"
    )
    assert "50 images from images/" in page


def test_a_raw_model_is_judged_by_its_outputs(demo):
    doc = classification(demo)
    doc["model"]["task"] = "raw"
    doc["dataset"] = {"source": "random", "seed": 1, "images": 8, "shape": [1, 3, 8, 8], "labelled": False}
    for b in doc["backends"].values():
        b["metrics"] = {"images": 8}
        if b["parity"]:
            for key in ("top1_agreement", "top5_overlap", "max_abs_probability_delta"):
                b["parity"].pop(key)
    page = site.render_report(doc)
    verdict = page_text(page_section(page, "verdict"))
    assert "onnxruntime same answers" in verdict and "raw outputs outside the tolerance" in verdict
    assert "8 random input tensors of shape 1 × 3 × 8 × 8" in page
    assert "chart-agreement" not in page_figures(page)
