"""Render tests for the site stage, on the REAL results document of the 8-backend demo.

tests/data/results_demo.json is the output of `reportgen run` on the built-in demo (PyTorch reference,
ONNX Runtime at four optimization levels, TorchScript, static and dynamic INT8). The tests compute what
they expect from the document itself. tests/data/results_v1.json is older and hand-written (schema 1,
two backends, findings without keys): it is read through read_results and checked for compatibility.
"""

from __future__ import annotations

import copy
import html
import json
import math
import re
from importlib import resources
from pathlib import Path

import markupsafe
import pytest
import yaml

from reportgen.analysis import score
from reportgen.errors import ReportgenError
from reportgen.report import locale as locale_module
from reportgen.report import pages
from reportgen.report import render as site
from reportgen.report.locale import (
    LOCALES,
    Locale,
    fmt_mb,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_ratio,
    fmt_sci,
    get_locale,
    load_catalog,
    placeholders,
)
from reportgen.results import merge
from reportgen.results.document import is_merged, read_results

DATA = Path(__file__).parent / "data"
# The modules that turn a results document into page text.
MODULES = (
    "report/charts.py",
    "analysis/verdicts.py",
    "report/locale.py",
    "results/merge.py",
    "report/narrative.py",
    "report/pages.py",
    "report/quality.py",
    "report/render.py",
)
ROOT = Path(__file__).resolve().parent.parent
EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def demo() -> dict:
    return read_results(DATA / "results_demo.json")


@pytest.fixture
def v1() -> dict:
    return read_results(DATA / "results_v1.json")


def _version(results: dict, version: str, created_at: str, latency_factor: float = 1.0) -> dict:
    """Return a copy of the results as another version, every non-reference latency scaled."""
    other = copy.deepcopy(results)
    other["version"], other["created_at"] = version, created_at
    ref = other["backends"][other["reference"]]
    for name, b in other["backends"].items():
        if name == other["reference"] or b["status"] != "ok":
            continue
        b["latency_ms"] = {
            k: (v * latency_factor if k not in ("n", "cv", "robust_cv", "samples") else v)
            for k, v in b["latency_ms"].items()
        } | {"samples": [s * latency_factor for s in b["latency_ms"]["samples"]]}
        b["fps"] = 1000 / b["latency_ms"]["median"]
        b["speedup"] = ref["latency_ms"]["median"] / b["latency_ms"]["median"]
        b["speedup_interval"] = None
    return other


def _escaped(text: str) -> str:
    """Return text as the pages write it (Jinja2 autoescaping)."""
    return str(markupsafe.escape(text))


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _row(page: str, metric: str) -> list[str]:
    """Return the texts of the cells of the headline row of one metric."""
    match = re.search(rf'<tr data-metric="{metric}">(.*?)</tr>', page, re.S)
    assert match, f"no headline row {metric}"
    return [_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1), re.S)]


def _section(page: str, section: str) -> str:
    start = page.index(f'<section id="{section}"')
    return page[start : page.index("</section>", start)]


def _figures(page: str) -> dict[str, dict]:
    scripts = re.findall(
        r'<script type="application/json" id="([\w-]+)-data"[^>]*>(.*?)</script>', page, re.S
    )
    return {name: json.loads(text) for name, text in scripts}


def _candidates(results: dict) -> list[str]:
    return [n for n in results["backend_order"] if n != results["reference"]]


# --- formatting -----------------------------------------------------------------------------------


def test_number_filters_format_in_one_place():
    assert fmt_ms(12.3449) == "12.34 ms"
    assert fmt_mb(110.44) == "110.4 MB"
    assert fmt_pct(0.123) == "+12.3%"
    assert fmt_pct(-0.5) == "-50.0%"
    assert fmt_pct(0.00001) == "0.0%"
    assert fmt_ratio(2.013) == "2.01×"
    assert fmt_sci(3.1e-6) == "3.1e-06"
    assert fmt_rate(1.0) == "100.0%"
    assert [fmt_num(x) for x in (3011043, 1234.5, 153.84, 13.0, 0.95123, 0.0000031)] == [
        "3,011,043",
        "1,234",
        "153.8",
        "13.00",
        "0.9512",
        "3.1e-06",
    ]
    for fmt in (fmt_ms, fmt_mb, fmt_pct, fmt_ratio, fmt_sci, fmt_rate, fmt_num):
        assert fmt(None) == "—"
        assert fmt(float("nan")) == "—"


def test_numbers_and_dates_are_written_the_locales_way(monkeypatch):
    from datetime import datetime, timezone

    moment = datetime(2026, 11, 28, 5, 42, tzinfo=timezone.utc)
    assert get_locale("en").date(moment) == "28 November 2026, 05:42 UTC"
    assert get_locale("ko").date(moment) == "2026년 11월 28일 05:42 UTC"
    assert get_locale("ko").ratio(3.3222) == "3.32배"
    # The separators come from the catalog: a locale writing 1.234,5 needs no code change.
    german = {**load_catalog("en"), "format.decimal": ",", "format.group": ".", "format.percent": "{value} %"}
    monkeypatch.setattr(locale_module, "load_catalog", lambda code: german)
    loc = Locale("en")
    assert (loc.num(1234.5), loc.num(0.9512), loc.ms(1234.567), loc.pct(0.123)) == (
        "1.234",
        "0,9512",
        "1.234,57 ms",
        "+12,3 %",
    )
    assert loc.num(3011043) == "3.011.043" and loc.sci(3.1e-6) == "3,1e-06"


# --- the report page ------------------------------------------------------------------------------


def test_sections_follow_the_seed_order_and_more(demo):
    page = site.render_report(demo)
    ids = ["verdict", "headline", "findings", "quality", "speed", "memory", "size", "causes", "score"]
    ids += ["recommendations", "conclusion", "changes", "appendix"]
    positions = [page.index(f'<section id="{i}"') for i in ids]
    assert positions == sorted(positions)
    for i in ids[1:]:  # the table of contents links every section
        assert f'<a href="#{i}">' in page


def test_verdict_banner_has_one_sentence_and_three_badges_per_backend(demo):
    page = site.render_report(demo)
    verdict = _section(page, "verdict")
    lines = re.findall(r'<li class="verdict-line[^"]*">(.*?)</li>', verdict, re.S)
    assert len(lines) == len(_candidates(demo)) == 7
    for name, line in zip(_candidates(demo), lines):
        assert len(re.findall(r'class="badge badge-', line)) == 3, name
        assert f"{name} gives" in _text(line)
    texts = {name: _text(line) for name, line in zip(_candidates(demo), lines)}
    speedup = demo["backends"]["onnxruntime"]["speedup"]
    assert f"same answers {fmt_ratio(speedup)} faster" in texts["onnxruntime"]
    assert (
        "close answers" in texts["ort-int8-static"]
        and "99.1% of detections matched" in texts["ort-int8-static"]
    )
    assert "slower" in texts["ort-int8-dynamic"] and "smaller on disk" in texts["ort-int8-dynamic"]
    # The bottom line is the analysis's own recommendation, and its column is marked in the headline.
    assert "Fastest configuration that keeps the answers: ort-int8-static" in _text(verdict)
    assert 'recommended">' in verdict


def test_verdict_thresholds_come_from_the_documents_config(demo):
    strict = copy.deepcopy(demo)
    strict["config"]["parity"]["min_match_rate"] = 0.995  # INT8 matched 99.1%: now too few
    verdict = _text(_section(site.render_report(strict), "verdict"))
    assert "ort-int8-static different answers" in verdict and "gives different answers" in verdict
    tolerant = copy.deepcopy(demo)
    tolerant["config"]["analysis"]["speed_tolerance_pct"] = 300.0  # nothing is 4x faster
    lines = _text(_section(site.render_report(tolerant), "verdict").split('<ul class="verdict-list">')[1])
    assert "faster" not in lines and lines.count("same speed") == 7


def test_headline_table_has_every_backend_with_its_change_and_direction(demo):
    page = site.render_report(demo)
    ref = demo["backends"]["pytorch"]
    head = re.search(r'<table class="headline">.*?</thead>', page, re.S).group(0)
    for name in demo["backend_order"]:
        assert name in head
    metrics = ["detections_per_image", "mean_confidence", "detection_rate", "map50", "map50_95"]
    metrics += ["mask_map50", "fps", "latency_median", "memory_peak", "file_size"]
    assert re.findall(r'<tr data-metric="(\w+)">', _section(page, "headline")) == metrics
    for metric in metrics:
        assert len(_row(page, metric)) == 1 + 8, metric  # metric, reference, 7 backends
    latency = _row(page, "latency_median")
    assert latency[0] == "Median latency ↓ lower" and latency[1] == fmt_ms(ref["latency_ms"]["median"])
    for cell, name in zip(latency[2:], _candidates(demo)):
        b = demo["backends"][name]
        change = fmt_pct(b["latency_ms"]["median"] / ref["latency_ms"]["median"] - 1)
        judgement = "worse" if b["speedup"] < 1 else "better"
        assert cell == f"{fmt_ms(b['latency_ms']['median'])} {change} {judgement}", name
    fps = _row(page, "fps")
    assert fps[0].endswith("↑ higher") and fps[2].endswith("better") and fps[-1].endswith("worse")
    size = dict(zip(_candidates(demo), _row(page, "file_size")[2:]))
    assert size["onnxruntime"].endswith("other precision")  # float32 against the float16 checkpoint
    assert size["ort-int8-static"].endswith("better")
    assert _row(page, "detections_per_image")[0].endswith("= reference")
    assert "float16 (2 bytes per value)" in page


def test_changes_judge_direction_and_noise(demo):
    faster = copy.deepcopy(demo)
    faster["backends"]["torchscript"]["speedup_interval"] = [0.97, 1.04]  # inside the noise
    cells = dict(zip(_candidates(demo), _row(site.render_report(faster), "latency_median")[2:]))
    assert cells["torchscript"].endswith("within noise") and cells["onnxruntime"].endswith("better")
    bigger = copy.deepcopy(demo)
    b = bigger["backends"]["onnxruntime"]
    b["memory_mb"]["peak"] = bigger["backends"]["pytorch"]["memory_mb"]["peak"] * 2
    b["weight_dtype"] = "float16"
    cells = dict(zip(_candidates(demo), _row(site.render_report(bigger), "memory_peak")[2:]))
    assert cells["onnxruntime"].endswith("+100.0% worse")
    cells = dict(zip(_candidates(demo), _row(site.render_report(bigger), "file_size")[2:]))
    assert cells["onnxruntime"].endswith("worse")  # same precision, twice the bytes


def test_findings_render_in_the_pages_language_from_their_key(demo):
    page = site.render_report(demo)
    for f in demo["findings"]:  # English pages reproduce the stored English texts exactly
        assert _escaped(f["title"]) in page, f["key"]
    korean = copy.deepcopy(demo)
    korean["locale"] = "ko"
    page = site.render_report(korean)
    ko = load_catalog("ko")
    slow = next(f for f in demo["findings"] if f["key"] == "speed.latency/slower_dynamic")
    title = ko["rule.speed.latency/slower_dynamic.title"].format(**slow["params"])
    assert _escaped(title) in _section(page, "findings")
    assert slow["title"] not in page
    # No key (an older document), or params that no longer fit the message: the stored text stays.
    keyless = copy.deepcopy(korean)
    keyless["findings"][0].pop("key")
    keyless["findings"][0]["title"] = "Stored English title"
    broken = keyless["findings"][1]
    broken["params"] = {}
    broken_title = _escaped(broken["title"])
    page = site.render_report(keyless)
    assert "Stored English title" in page and broken_title in page


def test_key_findings_are_the_problems_and_the_recommendation(demo):
    page = site.render_report(demo)
    key = _section(page, "findings")
    severities = re.findall(r'<li class="finding finding-(\w+)">', key)
    problems = [f for f in demo["findings"] if f["severity"] in ("warn", "fail")]
    assert severities[: len(problems)] == [f["severity"] for f in problems]
    assert "Fastest configuration that keeps the answers" in key
    shown = len(severities)
    assert f"{len(demo['findings']) - shown} more findings" in _text(key)
    # Every finding appears in the section of its topic, folded.
    speed = _section(page, "speed")
    assert speed.count('class="finding finding-') == sum(
        f["id"].split(".")[0] in ("speed", "efficiency") for f in demo["findings"]
    )


def test_causes_group_the_evidence_of_every_backend_they_explain(demo):
    causes = _section(site.render_report(demo), "causes")
    dtype = next(f for f in demo["findings"] if f["key"] == "size.file/dtype")
    explained = [f for f in demo["findings"] if f.get("cause") == dtype["cause"]]
    assert causes.count(_escaped(dtype["cause"])) == 1
    for f in explained:
        assert _escaped(f["evidence"]) in causes
    advice = _section(site.render_report(demo), "recommendations")
    first = re.search(r'<p class="finding-title">(.*?)</p>', advice, re.S).group(1)
    assert "Deploy ort-int8-static" in _text(first)  # the analysis's recommendation leads


def test_first_divergence_gets_a_callout(demo):
    doc = copy.deepcopy(demo)
    doc["backends"]["onnxruntime"]["parity"]["first_divergence"] = {
        "status": "ok",
        "found": True,
        "node": "node_Conv_42",
        "op_type": "Conv",
        "module": f"down4.1.cv1 {EVIL}",
        "initializers": ["down4.1.cv1.weight", "down4.1.cv1.bias"],
        "diverging_output": "conv2d_17",
        "max_abs_diff": 0.5,
        "suspects": ["node_Conv_42", "node_Mul_43"],
        "compared": 113,
        "image": 0,
    }
    quality = _section(site.render_report(doc), "quality")
    callout = re.search(r'<div class="callout callout-fail"[^>]*>(.*?)</div>', quality, re.S).group(1)
    text = _text(callout)
    assert "onnxruntime diverges from the reference at node node_Conv_42 (Conv)" in text
    assert "down4.1.cv1.weight , down4.1.cv1.bias" in text and "node_Conv_42 → node_Mul_43" in text
    assert "conv2d_17, off by up to 5.0e-01" in text and "113 intermediate tensors" in text
    assert ESCAPED in callout and EVIL not in callout


def test_score_shows_formula_weights_and_follows_them(demo):
    page = site.render_report(demo)
    section = _section(page, "score")
    formula = _text(re.search(r'<p class="formula">(.*?)</p>', section, re.S).group(1))
    assert formula == "Formula score = " + " + ".join(f"{w:.2f} × {p}" for p, w in score.WEIGHTS.items())
    assert math.isclose(sum(score.WEIGHTS.values()), 1.0)
    rows = {r["backend"]: r for r in score.scores(demo, demo["config"]["parity"]["min_match_rate"])}
    ok = {n: b for n, b in demo["backends"].items()}
    fastest = min(b["latency_ms"]["median"] for b in ok.values())
    smallest = min(b["file_size_mb"] for b in ok.values())
    lowest = min(b["memory_mb"]["peak"] for b in ok.values())
    best_map = max(b["metrics"]["map50_95"] for b in ok.values())
    for name, b in ok.items():
        parts = {
            "parity": 100.0 if name == "pytorch" else 100 * b["parity"]["detection_match_rate"],
            "accuracy": 100 * b["metrics"]["map50_95"] / best_map,
            "speed": 100 * fastest / b["latency_ms"]["median"],
            "size": 100 * smallest / b["file_size_mb"],
            "memory": 100 * lowest / b["memory_mb"]["peak"],
        }
        expected = sum(score.WEIGHTS[p] * v for p, v in parts.items())
        assert math.isclose(rows[name]["score"], expected), name
        assert f"<strong>{expected:.1f}</strong>" in section
    assert max(rows.values(), key=lambda r: r["score"])["rank"] == 1
    # A backend whose answers differ is scored but never ranked.
    doc = copy.deepcopy(demo)
    doc["backends"]["ort-int8-dynamic"]["parity"]["detection_match_rate"] = 0.5
    rows = {r["backend"]: r for r in score.scores(doc, 0.98)}
    assert rows["ort-int8-dynamic"]["rank"] is None and rows["ort-int8-dynamic"]["score"] is not None
    assert "not ranked" in _section(site.render_report(doc), "score")


def test_every_chart_has_title_axes_caption_and_the_measured_data(demo):
    page = site.render_report(demo)
    figures = _figures(page)
    assert set(figures) == {
        "chart-latency",
        "chart-fps",
        "chart-memory",
        "chart-size",
        "chart-agreement",
        "chart-confidence",
        "chart-score",
    }
    for name, figure in figures.items():
        layout = figure["layout"]
        assert figure["data"] and layout["title"]["text"], name
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"], name
        units = layout["xaxis"]["title"]["text"] + layout["yaxis"]["title"]["text"]
        assert "(" in units, name  # a unit in parentheses on the value axis
        caption = re.search(rf'id="{name}-data".*?</script>\s*<figcaption>(.+?)</figcaption>', page, re.S)
        assert caption and caption.group(1).strip(), name
    latency = figures["chart-latency"]["data"]
    assert [t["name"] for t in latency] == demo["backend_order"]
    for trace in latency:
        samples = demo["backends"][trace["name"]]["latency_ms"]["samples"]
        assert (
            len(trace["x"]) == len(samples)
            and max(abs(a - b) for a, b in zip(trace["x"], samples)) <= 5.001e-4
        )
    for trace in figures["chart-confidence"]["data"]:
        assert sum(trace["y"]) == len(demo["backends"][trace["name"]]["parity"]["abs_confidence_deltas"])
    agreement = figures["chart-agreement"]["data"][0]
    rates = [100 * demo["backends"][n]["parity"]["detection_match_rate"] for n in _candidates(demo)]
    assert agreement["y"] == _candidates(demo) and [round(r, 2) for r in agreement["x"]] == [
        round(r, 2) for r in rates
    ]
    size = figures["chart-size"]["data"]
    for i, name in enumerate(demo["backend_order"]):
        total = sum(t["x"][i] for t in size)
        assert math.isclose(total, demo["backends"][name]["file_size_mb"], rel_tol=1e-3), name
    assert {t["name"] for t in size} >= {"float16", "float32", "int8"}
    memory = figures["chart-memory"]["data"]
    assert [t["name"] for t in memory] == ["Before load", "After load", "Peak"]
    assert "onclick" not in page.lower() and "javascript:" not in page.lower()


def test_example_images_show_reference_and_candidate_side_by_side(demo):
    page = site.render_report(demo)
    quality = _section(page, "quality")
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
    first = _text(examples[0])
    assert "2 unmatched detections" in first and "circle 0.290 no match" in first
    bad = copy.deepcopy(demo)
    bad["examples"][0]["pictures"]["pytorch"] = "javascript:alert(1)"
    page = site.render_report(bad)
    assert "javascript:" not in page and page.count("<img src=") == 7


def test_user_text_is_escaped(demo):
    doc = copy.deepcopy(demo)
    doc["model"]["name"] = f"demo {EVIL}"
    doc["title"] = None  # the default title carries the model name
    doc["environment"]["cpu"] = EVIL
    doc["findings"][0]["params"]["name"] = EVIL  # through the catalog message
    doc["examples"][0]["reason"] = EVIL
    doc["examples"][0]["detections"]["pytorch"][0]["class_name"] = EVIL
    doc["config"]["title"] = EVIL
    doc["backends"]["pytorch"]["settings"]["torch"] = EVIL
    for page in (site.render_report(doc), site.render_index([doc])):
        assert ESCAPED in page
        assert "<script>alert" not in page.lower()
    # Inside the chart data too: tojson escapes <, so the browser never sees a closing tag.
    doc["backend_order"] = [f"{n}{EVIL}" if n == "torchscript" else n for n in doc["backend_order"]]
    doc["backends"][f"torchscript{EVIL}"] = doc["backends"].pop("torchscript")
    page = site.render_report(doc)
    assert "<script>alert" not in page.lower()
    names = [t["name"] for t in _figures(page)["chart-latency"]["data"]]
    assert f"torchscript{ESCAPED}" in names  # Plotly shows entities as text, never as markup


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
    assert _row(page, "latency_median")[-1] == "failed — not comparable"
    assert "Failed to run: ort-int8-dynamic." in _text(_section(page, "conclusion"))
    index = site.build_site(tmp_path / "site", doc, None).parent.parent / "index.html"
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


def _classification(demo: dict) -> dict:
    """Return the demo reshaped as a classification run: top-1/top-5 metrics and agreement, no boxes."""
    doc = copy.deepcopy(demo)
    doc["model"]["task"] = "classification"
    doc["dataset"] = {
        "source": "folder",
        "path": "images/",
        "images": 50,
        "image_size": 224,
        "labelled": True,
    }
    doc["examples"] = []
    for i, (name, b) in enumerate(doc["backends"].items()):
        b["metrics"] = {
            "images": 50,
            "mean_confidence": 0.8,
            "top1_accuracy": 0.9 - 0.01 * i,
            "top5_accuracy": 0.99,
        }
        if b["parity"]:
            outputs = {k: b["parity"][k] for k in ("outputs", "max_abs_diff", "max_rel_diff", "cosine_min")}
            b["parity"] = {
                **outputs,
                "allclose": b["parity"]["allclose"],
                "atol": 1e-4,
                "rtol": 1e-3,
                "first_divergence": None,
                "top1_agreement": 0.96 if "int8" in name else 1.0,
                "top5_overlap": 0.99,
                "max_abs_probability_delta": 0.01,
                "disagreeing_images": [],
            }
    doc["findings"] = []
    return doc


def test_a_classification_run_shows_top1_metrics_and_agreement(demo):
    doc = _classification(demo)
    page = site.render_report(doc)
    assert [m for m in re.findall(r'<tr data-metric="(\w+)">', _section(page, "headline"))] == [
        "mean_confidence",
        "top1_accuracy",
        "top5_accuracy",
        "fps",
        "latency_median",
        "memory_peak",
        "file_size",
    ]
    quality = _section(page, "quality")
    assert "Same top-1 class" in quality and "Detections matched" not in quality
    assert "96.0% top-1 agreement" in _text(_section(page, "verdict"))
    assert "ort-int8-static different answers" in _text(_section(page, "verdict"))  # 96% < 98%
    figures = _figures(page)
    assert "chart-confidence" not in figures and figures["chart-agreement"]["data"][0]["name"].startswith(
        "same top-1"
    )
    assert "50 images from images/" in page


def test_a_raw_model_is_judged_by_its_outputs(demo):
    doc = _classification(demo)
    doc["model"]["task"] = "raw"
    doc["dataset"] = {"source": "random", "seed": 1, "images": 8, "shape": [1, 3, 8, 8], "labelled": False}
    for b in doc["backends"].values():
        b["metrics"] = {"images": 8}
        if b["parity"]:
            for key in ("top1_agreement", "top5_overlap", "max_abs_probability_delta"):
                b["parity"].pop(key)
    page = site.render_report(doc)
    verdict = _text(_section(page, "verdict"))
    assert "onnxruntime same answers" in verdict and "raw outputs outside the tolerance" in verdict
    assert "8 random input tensors of shape 1 × 3 × 8 × 8" in page
    assert "chart-agreement" not in _figures(page)


def test_korean_page_speaks_korean(demo):
    doc = copy.deepcopy(demo)
    doc["locale"] = "ko"
    page = site.render_report(doc)
    assert '<html lang="ko">' in page
    headings = [_text(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page, re.S)]
    assert headings[:4] == ["판정", "핵심 비교", "주요 발견사항", "감지 품질과 출력 일치"]
    assert all(re.search(r"[\uac00-\ud7a3]", h) for h in headings)
    assert "2026년 11월 28일" in page and "3.32배 빠름" in page
    assert site.render_report(demo, locale="ko") == page  # the --locale override


def test_a_document_with_gaps_still_renders(demo):
    """Every optional value missing at once: the page shows dashes, never a template error."""
    doc = copy.deepcopy(demo)
    doc["backends"]["onnxruntime"]["parity"].update(
        outputs={},
        max_abs_diff=None,
        max_rel_diff=None,
        cosine_min=None,
        allclose=None,
        abs_confidence_deltas=[],
        mean_abs_confidence_delta=None,
        mask_iou_mean=None,
    )
    doc["backends"]["torchscript"]["parity"] = None
    doc["backends"]["ort-basic"].update(speedup_interval=None, weight_dtypes=None)
    doc["backends"]["ort-extended"]["metrics"] = None
    doc["backends"]["ort-disabled"]["memory_mb"] = None
    doc["backends"]["ort-int8-static"]["warmup_ms"] = None
    doc["environment"]["peak_gflops"] = None
    doc["model"].update(flops=None, class_names=None, input_shape=None, checkpoint=None, onnx=None)
    doc["examples"][1]["pictures"] = {}
    doc["dataset"] = {"source": "folder", "path": "x", "images": 3, "image_size": 640, "labelled": False}
    doc["dataset"]["warnings"] = ["skipped broken.jpg: cannot identify image file"]
    future = {"id": "new.rule", "key": "new.rule/x", "severity": "info", "backend": None, "params": {}}
    doc["findings"].append({**future, "title": "A rule from the future", "evidence": None})
    doc["findings"][-1].update(cause=None, recommendation=None)
    for code in LOCALES:
        page = site.render_report({**doc, "locale": code}, demo)
        assert "A rule from the future" in page and "skipped broken.jpg" in page
        assert "torchscript" in _section(page, "quality")
        site.render_index([{**doc, "locale": code}, demo])


def test_unknown_locale_is_refused(demo):
    doc = copy.deepcopy(demo)
    doc["locale"] = "fr"
    with pytest.raises(ReportgenError, match="unknown locale 'fr'"):
        site.render_report(doc)


def test_an_older_document_still_renders(v1):
    assert v1["schema_version"] >= 2  # upgraded in memory by read_results
    page = site.render_report(v1)
    for f in v1["findings"]:  # no keys: the stored English texts
        assert _escaped(f["title"]) in page
    assert len(_figures(page)) >= 5
    korean = copy.deepcopy(v1)
    korean["locale"] = "ko"
    assert "판정" in site.render_report(korean)
    assert "<tr data-version" in site.render_index([v1, _version(v1, "0.0.9", "2026-01-01T00:00:00Z")])


def _render_with_recorded_keys(monkeypatch, documents: list[dict]) -> set[str]:
    """Render every page kind of these documents in every locale; return the message keys used."""
    used: set[str] = set()
    original = locale_module.translate

    def recording(code: str, key: str, **values: object) -> str:
        used.add(key)
        return original(code, key, **values)

    monkeypatch.setattr(locale_module, "translate", recording)
    for code in LOCALES:
        for doc in documents:
            doc = {**doc, "locale": code}
            previous = None if is_merged(doc) else _version(doc, "0.0.1", "2020-01-01T00:00:00Z", 1.3)
            site.render_report(doc, previous)
        site.render_index([{**d, "locale": code} for d in documents])
    return used


def test_every_message_key_exists_in_every_catalog_and_is_used(monkeypatch, demo, v1):
    failed, ref_failed = copy.deepcopy(demo), copy.deepcopy(demo)
    failed["backends"]["onnxruntime"].update(status="failed", error="boom")
    ref_failed["backends"]["pytorch"].update(status="failed", error="boom")
    raw = _classification(demo)
    raw["model"]["task"] = "raw"
    raw["dataset"] = {"source": "random", "seed": 1, "images": 8, "shape": [1, 3], "labelled": False}
    for b in raw["backends"].values():
        if b["parity"]:
            b["parity"] = {k: v for k, v in b["parity"].items() if "top" not in k}
    single = copy.deepcopy(demo)
    single["backend_order"] = ["pytorch"]
    single["backends"] = {"pytorch": single["backends"]["pytorch"]}
    slow = _version(demo, "0.0.2", "2020-01-02T00:00:00Z", 100.0)
    detection = copy.deepcopy(demo)
    detection["model"]["task"] = "detection"
    other = copy.deepcopy(demo)
    other["environment"]["cpu"] = "AMD EPYC 7763"
    merged = merge.merge([("a", demo), ("b", other)])  # a page with a section per machine
    documents = [demo, v1, failed, ref_failed, _classification(demo), raw, single, slow, detection, merged]
    used = _render_with_recorded_keys(monkeypatch, documents)
    english = load_catalog("en")
    # Keys a document may need that these renders do not reach (a unit test of each follows).
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "templates").glob("*.html"))
    sources += "".join((ROOT / "reportgen" / m).read_text() for m in MODULES)
    literal = {k for k in english if f'"{k}"' in sources or f"'{k}'" in sources}
    # Verdict parts are named by code in narrative.py; each code has a sentence, a badge and a count.
    narrative = (ROOT / "reportgen" / "report" / "narrative.py").read_text()
    codes = set(re.findall(r'"((?:answers|speed|size)\.\w+|failed|not_comparable)"', narrative))
    assert len(codes) >= 14
    families = {f"{prefix}.{code}" for prefix in ("verdict", "badge") for code in codes}
    families |= {f"index.count.{code}" for code in codes if not code.startswith("size.")}  # answers, speed
    assert families <= set(english), sorted(families - set(english))
    conclusions = {f"conclusion.{c}" for c in codes if c.startswith("answers.") or c == "failed"}
    assert conclusions <= set(english), sorted(conclusions - set(english))
    literal |= families | conclusions
    literal |= {"examples.reason.agreement", "examples.reason.disagreement"}  # examples.py's reasons
    rules = {k for k in english if k.startswith("rule.")}
    for code in LOCALES:
        catalog = load_catalog(code)
        assert used <= set(catalog), f"{code}: missing {sorted(used - set(catalog))}"
        assert set(catalog) == set(english), f"{code}: keys differ from en"
        for key, message in catalog.items():
            assert placeholders(message) == placeholders(english[key]), f"{code}: {key}"
    unused = set(english) - used - literal - rules
    assert not unused, sorted(unused)
    # Findings texts: every "rule.key" that analysis.py names has a title in every catalog.
    named = set(
        re.findall(
            r'"([a-z0-9_]+\.[a-z0-9_]+(?:/[a-z0-9_]+)?)"', (ROOT / "reportgen/analysis/rules.py").read_text()
        )
    )
    keys = {k for k in named if f"rule.{k}.title" in english}
    assert len(keys) > 30
    for f in demo["findings"]:
        assert f"rule.{f['key']}.title" in english


# --- the index ------------------------------------------------------------------------------------


def test_index_lists_versions_newest_first_with_badges_and_trends(demo, tmp_path):
    old = _version(demo, "0.1.0", "2026-11-28T05:40:00Z")
    new = _version(demo, "0.2.0", "2026-12-05T10:00:00Z", latency_factor=0.8)
    site.build_site(tmp_path / "site", new, None)  # built first, yet newer by created_at
    site.build_site(tmp_path / "site", old, None)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<tr data-version="([^"]+)">', index) == ["0.2.0", "0.1.0"]
    assert 'href="0.2.0/index.html"' in index and 'href="0.1.0/index.html"' in index
    assert 'href="assets/style.css"' in index
    row = _text(re.search(r'<tr data-version="0.1.0">(.*?)</tr>', index, re.S).group(1))
    assert "5 same answers" in row and "2 close answers" in row and "6 faster" in row and "1 slower" in row
    assert "ort-int8-static (3.68× faster)" in row and "close, not identical" in row
    assert "28 November 2026, 05:40 UTC" in row
    figures = _figures(index)
    assert list(figures) == [
        f"chart-trend-{k}" for k in ("latency", "speedup", "size", "max_abs_diff", "detections")
    ]
    latency = {t["name"]: t["y"] for t in figures["chart-trend-latency"]["data"]}
    for name in demo["backend_order"]:
        medians = [r["backends"][name]["latency_ms"]["median"] for r in (old, new)]
        assert all(math.isclose(a, b, rel_tol=1e-3) for a, b in zip(latency[name], medians)), name
    assert figures["chart-trend-max_abs_diff"]["layout"]["yaxis"]["type"] == "log"
    assert site.render_index([old, new]) == site.render_index([new, old])
    single = site.render_index([old])
    assert "chart-trend" not in single and "plotly.min.js" not in single


def test_index_speaks_the_newest_versions_language(demo):
    old = _version(demo, "0.1.0", "2026-11-28T05:40:00Z")
    new = _version(demo, "0.2.0", "2026-12-05T10:00:00Z")
    new["locale"] = "ko"
    index = site.render_index([old, new])
    assert '<html lang="ko">' in index and "변환 보고서" in index
    assert index.count("결과 동일 5") == 2 and "same answers" not in index
    assert "2026년 12월 5일" in index


# --- the archive ----------------------------------------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_writes_version_files_and_one_copy_of_the_assets(demo, tmp_path):
    page = site.build_site(tmp_path / "site", demo, "version: 0.1.0\n")
    folder = tmp_path / "site" / demo["version"]
    assert page == folder / "index.html"
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml", "index.html", "results.json"]
    text = (folder / "results.json").read_text(encoding="utf-8")
    assert json.loads(text) == demo and text.endswith("}\n")
    assert text == json.dumps(demo, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert (folder / "config.yaml").read_text() == "version: 0.1.0\n"
    assets = tmp_path / "site" / "assets"
    bundle = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    assert (assets / "plotly.min.js").read_bytes() == bundle
    assert sorted(p.name for p in assets.iterdir()) == ["charts.js", "plotly.min.js", "style.css"]
    assert (assets / "style.css").read_bytes() == (ROOT / "templates/assets/style.css").read_bytes()
    html_text = page.read_text(encoding="utf-8")
    assert 'href="../assets/style.css"' in html_text and 'src="../assets/plotly.min.js"' in html_text
    assert "//cdn" not in html_text.lower() and "<style" not in html_text
    assert len(page.read_bytes()) < 300_000  # the report page, pictures included, without the bundle
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


def test_locale_option_renders_and_archives_the_language(demo, tmp_path):
    page = site.build_site(tmp_path / "site", demo, None, locale="ko").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page
    archived = json.loads((tmp_path / "site" / demo["version"] / "results.json").read_text(encoding="utf-8"))
    assert archived["locale"] == "ko"
    site.rebuild_pages(tmp_path / "site")  # render --all keeps the language
    assert '<html lang="ko">' in (tmp_path / "site" / demo["version"] / "index.html").read_text(
        encoding="utf-8"
    )
    with pytest.raises(ReportgenError, match="unknown locale"):
        site.build_site(tmp_path / "other", demo, None, locale="fr")
    assert not (tmp_path / "other").exists()


def test_without_config_there_is_no_config_link(demo, tmp_path):
    page = site.build_site(tmp_path / "site", demo, None).read_text(encoding="utf-8")
    assert not (tmp_path / "site" / demo["version"] / "config.yaml").exists()
    assert 'href="config.yaml"' not in page and 'href="results.json"' in page
    assert (
        yaml.safe_load(
            html.unescape(re.search(r'<pre class="config"><code>(.*?)</code>', page, re.S).group(1))
        )
        == demo["config"]
    )


def test_same_results_give_the_same_bytes(demo, tmp_path):
    site.build_site(tmp_path / "a", demo, "x: 1\n")
    site.build_site(tmp_path / "b", demo, "x: 1\n")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert site.render_report(demo) == site.render_report(copy.deepcopy(demo))


def test_existing_version_is_refused_without_force(demo, tmp_path):
    site.build_site(tmp_path / "site", demo, "a: 1\n")
    before = _tree(tmp_path / "site")
    changed = copy.deepcopy(demo)
    changed["title"] = "Changed title"
    with pytest.raises(ReportgenError) as info:
        site.build_site(tmp_path / "site", changed, "a: 2\n")
    message = str(info.value)
    assert demo["version"] in message and "--force" in message and "\n" not in message
    assert _tree(tmp_path / "site") == before
    with pytest.raises(ReportgenError, match="--force"):
        site.ensure_version_free(tmp_path / "site", demo["version"])
    site.build_site(tmp_path / "site", changed, "a: 2\n", force=True)
    folder = tmp_path / "site" / demo["version"]
    assert "Changed title" in (folder / "index.html").read_text(encoding="utf-8")
    assert (folder / "config.yaml").read_text() == "a: 2\n"
    assert [p.name for p in (tmp_path / "site").iterdir() if p.name.startswith(".")] == []


def test_a_crash_never_leaves_a_half_written_version(demo, tmp_path, monkeypatch):
    def boom(_results):
        raise OSError("disk full")

    monkeypatch.setattr(site, "dump_results", boom)
    with pytest.raises(OSError, match="disk full"):
        site.build_site(tmp_path / "site", demo, None)
    assert list((tmp_path / "site").iterdir()) == []


def test_version_must_be_a_folder_name(demo, tmp_path):
    for bad in ("../evil", "a/b", "assets", ".hidden", ""):
        doc = copy.deepcopy(demo)
        doc["version"] = bad
        with pytest.raises(ReportgenError, match="cannot name a folder"):
            site.build_site(tmp_path / "site", doc, None)


def test_changes_since_the_previous_version(demo, tmp_path):
    site.build_site(tmp_path / "site", _version(demo, "0.1.0", "2026-11-28T05:40:00Z"), None)
    site.build_site(tmp_path / "site", _version(demo, "0.3.0", "2026-12-09T00:00:00Z"), None)
    middle = _version(demo, "0.2.0", "2026-12-01T00:00:00Z", latency_factor=1.25)
    middle["backend_order"].remove("ort-basic")
    del middle["backends"]["ort-basic"]
    page = site.build_site(tmp_path / "site", middle, None).read_text(encoding="utf-8")
    changes = _section(page, "changes")
    assert "against the previous archived version, 0.1.0" in _text(changes) and "0.3.0" not in changes
    assert 'href="../0.1.0/index.html"' in changes and "No longer measured: ort-basic." in _text(changes)
    row = _text(re.search(r'<tr data-backend="onnxruntime">(.*?)</tr>', changes, re.S).group(1))
    old_ms = demo["backends"]["onnxruntime"]["latency_ms"]["median"]
    assert f"{fmt_ms(old_ms)} → {fmt_ms(old_ms * 1.25)} +25.0% worse" in row
    assert "same" not in row.split("worse")[0]
    first = (tmp_path / "site" / "0.1.0" / "index.html").read_text(encoding="utf-8")
    assert "This is the first version in the archive" in first


def test_rebuild_pages_rerenders_every_version(demo, tmp_path):
    site.build_site(tmp_path / "site", _version(demo, "0.1.0", "2026-11-28T05:40:00Z"), None)
    site.build_site(tmp_path / "site", _version(demo, "0.2.0", "2026-12-01T00:00:00Z"), None)
    before = _tree(tmp_path / "site")
    (tmp_path / "site" / "0.1.0" / "index.html").write_text("stale")
    pages_written = site.rebuild_pages(tmp_path / "site")
    assert len(pages_written) == 2 and _tree(tmp_path / "site") == before


def test_every_url_in_the_pages_is_relative(demo, tmp_path):
    site.build_site(tmp_path / "site", _version(demo, "0.1.0", "2026-11-28T05:40:00Z"), "a: 1\n")
    site.build_site(tmp_path / "site", _version(demo, "0.2.0", "2026-12-01T00:00:00Z"), "a: 1\n")
    written = sorted((tmp_path / "site").rglob("*.html"))
    assert len(written) == 3
    for page in written:
        text = page.read_text(encoding="utf-8")
        assert "http:" not in text and "https:" not in text, page
        urls = re.findall(r'\b(?:href|src)="([^"]*)"', text)
        assert urls, page
        for url in urls:
            if url.startswith("data:"):
                assert url == "data:," or url.startswith("data:image/jpeg;base64,"), (page, url[:40])
                continue
            assert not re.match(r"^(/|[a-z][a-z0-9+.-]*:)", url, re.I), (page, url)
            target = url.split("#")[0]
            if target:
                assert (page.parent / target).resolve().is_file(), (page, url)


def test_locales_folder_holds_only_catalogs():
    for path in (ROOT / "templates" / "locales").iterdir():
        assert path.suffix == ".yaml" and path.stem in LOCALES
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)


def test_environment_is_strict_and_autoescaping():
    env = site.make_environment()
    assert env.autoescape is True
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render(loc=get_locale("en"))
    assert pages.HEADLINE and all(m.better in ("higher", "lower", "same") for m in pages.HEADLINE)
