"""Pages of failed backends, a failed reference, documents with gaps and older documents."""

from __future__ import annotations

import copy

from report_helpers import as_version, escaped, headline_row, page_figures, page_section, page_text

from reportgen.analysis import rules
from reportgen.release import archive
from reportgen.report import render as site
from reportgen.report.locale import LOCALES
from reportgen.results import reader


def test_failed_backend_shows_status_and_error(demo, tmp_path):
    doc = copy.deepcopy(demo)
    error = "ONNXRuntimeError: INVALID_GRAPH : Load model failed"
    b = doc["backends"]["ort-int8-dynamic"]
    for key in list(b):
        if key not in ("kind", "threads", "settings"):
            b[key] = None
    b["status"], b["error"] = "failed", error
    doc["model"]["onnx"].update(status="failed", error="export failed: Split opset 17")
    page = site.render_report(doc)
    assert page.count(error) >= 4  # verdict, parity, speed, memory, size...
    assert "export failed: Split opset 17" in page
    assert headline_row(page, "latency_median")[-1] == "failed — not comparable"
    assert "Failed to run: ort-int8-dynamic." in page_text(page_section(page, "conclusion"))
    index = archive.build_site(tmp_path / "site", doc, None).parent.parent / "index.html"
    assert "differs or failed" in index.read_text(encoding="utf-8")


def test_failed_reference_renders(demo):
    doc = copy.deepcopy(demo)
    ref = doc["backends"][doc["reference"]]
    for key in ("latency_ms", "fps", "memory_mb", "metrics", "load_ms", "first_inference_ms", "warmup_ms"):
        ref[key] = None
    ref["status"], ref["error"] = "failed", "RuntimeError: out of memory"
    page = site.render_report(doc)
    assert "RuntimeError: out of memory" in page
    assert "cannot be compared" in page and "The reference pytorch failed" in page


def test_a_document_with_gaps_still_renders(demo):
    """Every value the results schema lets be null or absent, missing at once: the page shows dashes,
    never a template error. (A successful backend's metrics and memory are never null: the reader
    refuses such a file, so the page need not guard them.)"""
    doc = copy.deepcopy(demo)
    doc["backends"]["onnxruntime"]["parity"].update(
        outputs={},
        max_abs_diff=None,
        max_rel_diff=None,
        cosine_min=None,
        allclose=False,
        abs_confidence_deltas=[],
        mean_abs_confidence_delta=None,
        mask_iou_mean=None,
    )
    doc["backends"]["torchscript"]["parity"] = None
    doc["backends"]["ort-basic"].update(speedup_interval=None, weight_dtypes=None, file_size_mb=None)
    doc["backends"]["ort-extended"]["metrics"] = {}  # a task that measures nothing against labels
    doc["backends"]["ort-disabled"].update(gflops=None, speedup=None, weight_dtype=None, model_path=None)
    doc["backends"]["ort-int8-static"]["warmup_ms"] = None
    doc["environment"].update(peak_gflops=None, cpu_mhz=None, steal_share=None, load_average_per_core=None)
    doc["model"].update(flops=None, class_names=None, input_shape=[], checkpoint=None, onnx=None)
    doc["examples"][1]["pictures"] = {}
    doc["dataset"] = {"source": "folder", "path": "x", "images": 3, "image_size": 640, "labelled": False}
    doc["dataset"]["warnings"] = ["skipped broken.jpg: cannot identify image file"]
    assert reader.problems(doc) == []  # gaps a results file may have
    for code in LOCALES:
        page = site.render_report({**doc, "locale": code}, demo)
        assert "skipped broken.jpg" in page
        assert "torchscript" in page_section(page, "quality")
        site.render_index([{**doc, "locale": code}, demo])


def test_an_older_document_still_renders(v1):
    assert v1["schema_version"] >= 2  # upgraded in memory by read_results
    page = site.render_report(v1)
    for f in rules.findings(v1):  # judged by today's rules; the stored keyless findings are ignored
        assert escaped(f["title"]) in page
    assert len(page_figures(page)) >= 5
    korean = copy.deepcopy(v1)
    korean["locale"] = "ko"
    assert "판정" in site.render_report(korean)
    assert "<tr data-version" in site.render_index([v1, as_version(v1, "0.0.9", "2026-01-01T00:00:00Z")])
