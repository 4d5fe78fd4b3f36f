"""The top of the report page: section order, the verdict banner, the headline table, the score."""

from __future__ import annotations

import copy
import math
import re

from documents import set_rounds
from report_helpers import candidates, headline_row, page_section, page_text

from reportgen.analysis import rules, score
from reportgen.analysis.finding import speedup_of
from reportgen.analysis.verdicts import speed_verdict
from reportgen.report import render as site
from reportgen.report.locale import fmt_ms, fmt_pct, fmt_ratio


def test_sections_follow_the_seed_order_and_more(demo):
    page = site.render_report(demo)
    ids = ["verdict", "headline", "findings", "quality", "speed", "memory", "size", "causes", "score"]
    ids += ["recommendations", "conclusion", "changes", "appendix"]
    positions = [page.index(f'<section id="{i}"') for i in ids]
    assert positions == sorted(positions)
    for i in ids[1:]:  # the table of contents links every section
        assert f'<a href="#{i}">' in page


def _speed(demo: dict, name: str) -> str:
    """Return the measured speed verdict of a backend, as every page judges it."""
    speedup = speedup_of(demo, name)
    return speed_verdict((speedup.low, speedup.high), 0.05)


def test_verdict_banner_has_one_sentence_and_three_badges_per_backend(demo):
    page = site.render_report(demo)
    verdict = page_section(page, "verdict")
    lines = re.findall(r'<li class="verdict-line[^"]*">(.*?)</li>', verdict, re.S)
    assert len(lines) == len(candidates(demo)) == 7
    for name, line in zip(candidates(demo), lines):
        assert len(re.findall(r'class="badge badge-', line)) == 3, name
        assert f"{name} gives" in page_text(line)
    texts = {name: page_text(line) for name, line in zip(candidates(demo), lines)}
    speedup = speedup_of(demo, "onnxruntime").value
    assert f"same answers {fmt_ratio(speedup)} faster" in texts["onnxruntime"]
    assert (
        "close answers" in texts["ort-int8-static"]
        and "99.1% of detections matched" in texts["ort-int8-static"]
    )
    dynamic = {"faster": "faster", "same": "as fast", "slower": "slower"}[_speed(demo, "ort-int8-dynamic")]
    assert dynamic in texts["ort-int8-dynamic"] and "smaller on disk" in texts["ort-int8-dynamic"]
    # The bottom line is the analysis's own recommendation, and its column is marked in the headline.
    advice = next(f for f in rules.findings(demo) if f["id"].startswith("recommend."))
    assert page_text(advice["title"]) in page_text(verdict)
    assert 'recommended">' in verdict


def test_verdict_thresholds_come_from_the_documents_config(demo):
    strict = copy.deepcopy(demo)
    strict["config"]["parity"]["min_match_rate"] = 0.995  # INT8 matched 99.1%: now too few
    verdict = page_text(page_section(site.render_report(strict), "verdict"))
    assert "ort-int8-static different answers" in verdict and "gives different answers" in verdict
    tolerant = copy.deepcopy(demo)
    tolerant["config"]["analysis"]["speed_tolerance_pct"] = 300.0  # nothing is 4x faster
    lines = page_text(
        page_section(site.render_report(tolerant), "verdict").split('<ul class="verdict-list">')[1]
    )
    assert "faster" not in lines and lines.count("same speed") == 7


def test_headline_table_has_every_backend_with_its_change_and_direction(demo):
    page = site.render_report(demo)
    ref = demo["backends"]["pytorch"]
    head = re.search(r'<table class="headline">.*?</thead>', page, re.S).group(0)
    for name in demo["backend_order"]:
        assert name in head
    metrics = ["detections_per_image", "mean_confidence", "detection_rate", "map50", "map50_95"]
    metrics += ["mask_map50", "fps", "latency_median", "memory_peak", "file_size"]
    assert re.findall(r'<tr data-metric="(\w+)">', page_section(page, "headline")) == metrics
    for metric in metrics:
        assert len(headline_row(page, metric)) == 1 + 8, metric  # metric, reference, 7 backends
    latency = headline_row(page, "latency_median")
    assert latency[0] == "Median latency ↓ lower" and latency[1] == fmt_ms(ref["latency_ms"]["median"])
    for cell, name in zip(latency[2:], candidates(demo)):
        b = demo["backends"][name]
        change = fmt_pct(b["latency_ms"]["median"] / ref["latency_ms"]["median"] - 1)
        judgement = {"faster": "better", "same": "within noise", "slower": "worse"}[_speed(demo, name)]
        assert cell == f"{fmt_ms(b['latency_ms']['median'])} {change} {judgement}", name
    fps = headline_row(page, "fps")
    assert fps[0].endswith("↑ higher") and fps[2].endswith("better")
    assert fps[-1].endswith(
        {"faster": "better", "same": "within noise", "slower": "worse"}[_speed(demo, "ort-int8-dynamic")]
    )
    size = dict(zip(candidates(demo), headline_row(page, "file_size")[2:]))
    assert size["onnxruntime"].endswith("other precision")  # float32 against the float16 checkpoint
    assert size["ort-int8-static"].endswith("better")
    assert headline_row(page, "detections_per_image")[0].endswith("= reference")
    assert "float16 (2 bytes per value)" in page


def test_changes_judge_direction_and_noise(demo):
    faster = copy.deepcopy(demo)
    ref_ms = faster["backends"]["pytorch"]["latency_ms"]["median"]
    # Faster on the median of its rounds, not beyond the noise between them: the interval spans 1.
    set_rounds(faster["backends"]["torchscript"], [[ref_ms * f] * 30 for f in (0.5, 0.6, 2.0)])
    cells = dict(zip(candidates(demo), headline_row(site.render_report(faster), "latency_median")[2:]))
    assert cells["torchscript"].endswith("within noise") and cells["onnxruntime"].endswith("better")
    bigger = copy.deepcopy(demo)
    b = bigger["backends"]["onnxruntime"]
    b["memory_mb"]["peak"] = bigger["backends"]["pytorch"]["memory_mb"]["peak"] * 2
    b["weight_dtype"] = "float16"
    cells = dict(zip(candidates(demo), headline_row(site.render_report(bigger), "memory_peak")[2:]))
    assert cells["onnxruntime"].endswith("+100.0% worse")
    cells = dict(zip(candidates(demo), headline_row(site.render_report(bigger), "file_size")[2:]))
    assert cells["onnxruntime"].endswith("worse")  # same precision, twice the bytes


def test_score_shows_formula_weights_and_follows_them(demo):
    page = site.render_report(demo)
    section = page_section(page, "score")
    formula = page_text(re.search(r'<p class="formula">(.*?)</p>', section, re.S).group(1))
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
    assert "not ranked" in page_section(site.render_report(doc), "score")
