"""Findings on the report page: their language, the key findings, causes, recommendations, divergence."""

from __future__ import annotations

import copy
import json
import re

from report_helpers import ESCAPED, EVIL, ROOT, escaped, page_section, page_text

from reportgen.analysis import rules
from reportgen.report import render as site
from reportgen.report.locale import load_catalog
from reportgen.results.document import read_results


def test_findings_render_in_the_pages_language_from_their_key(demo):
    page = site.render_report(demo)
    for f in rules.findings(demo):  # English pages show the English texts of today's findings
        assert escaped(f["title"]) in page, f["key"]
    korean = copy.deepcopy(demo)
    korean["locale"] = "ko"
    page = site.render_report(korean)
    ko = load_catalog("ko")
    advice = next(f for f in rules.findings(demo) if f["id"].startswith("recommend."))  # a key finding
    title = ko[f"rule.{advice['key']}.title"].format(**advice["params"])
    assert escaped(title) in page_section(page, "findings")
    assert advice["title"] not in page


def test_stored_findings_are_ignored_the_page_judges_with_todays_rules(demo, tmp_path):
    # Issue 19: results hold measurements. A results file without its findings renders the same page
    # as with them, and so does one whose findings someone edited: the page judges with today's rules.
    raw = json.loads((ROOT / "tests" / "data" / "results_demo.json").read_text(encoding="utf-8"))
    assert raw["findings"]  # written by a reportgen that still stored them
    without = {k: v for k, v in raw.items() if k != "findings"}
    edited = copy.deepcopy(raw)
    edited["findings"][0].update(title="Stored English title", severity="fail")
    pages = []
    for name, document in (("with", raw), ("without", without), ("edited", edited)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        pages.append(site.render_report(read_results(path)))
    assert pages[0] == pages[1] == pages[2] == site.render_report(demo)
    assert "Stored English title" not in pages[2]
    current = {**demo, "findings": edited["findings"]}  # today's schema does not read them either
    assert site.render_report(current) == pages[0]


def test_key_findings_are_the_problems_and_the_recommendation(demo):
    page = site.render_report(demo)
    key = page_section(page, "findings")
    severities = re.findall(r'<li class="finding finding-(\w+)">', key)
    problems = [f for f in rules.findings(demo) if f["severity"] in ("warn", "fail")]
    assert severities[: len(problems)] == [f["severity"] for f in problems]
    advice = next(f for f in rules.findings(demo) if f["id"].startswith("recommend."))
    assert escaped(advice["title"]) in key
    shown = len(severities)
    assert f"{len(rules.findings(demo)) - shown} more findings" in page_text(key)
    # Every finding appears in the section of its topic, folded.
    speed = page_section(page, "speed")
    assert speed.count('class="finding finding-') == sum(
        f["id"].split(".")[0] in ("speed", "efficiency") for f in rules.findings(demo)
    )


def test_causes_group_the_evidence_of_every_backend_they_explain(demo):
    causes = page_section(site.render_report(demo), "causes")
    dtype = next(f for f in rules.findings(demo) if f["key"] == "size.file/dtype")
    explained = [f for f in rules.findings(demo) if f.get("cause") == dtype["cause"]]
    assert causes.count(escaped(dtype["cause"])) == 1
    for f in explained:
        assert escaped(f["evidence"]) in causes
    advice = page_section(site.render_report(demo), "recommendations")
    first = re.search(r'<p class="finding-title">(.*?)</p>', advice, re.S).group(1)
    named = next(f for f in rules.findings(demo) if f["id"].startswith("recommend."))["backend"]
    assert f"Deploy {named}" in page_text(first)  # the analysis's recommendation leads


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
    quality = page_section(site.render_report(doc), "quality")
    callout = re.search(r'<div class="callout callout-fail"[^>]*>(.*?)</div>', quality, re.S).group(1)
    text = page_text(callout)
    assert "onnxruntime diverges from the reference at node node_Conv_42 (Conv)" in text
    assert "down4.1.cv1.weight , down4.1.cv1.bias" in text and "node_Conv_42 → node_Mul_43" in text
    assert "conv2d_17, off by up to 5.0e-01" in text and "113 intermediate tensors" in text
    assert ESCAPED in callout and EVIL not in callout


def test_the_conclusion_never_names_two_best_backends(demo):
    conclusion = page_text(page_section(site.render_report(demo), "conclusion"))
    named = next(f for f in rules.findings(demo) if f["id"].startswith("recommend."))["backend"]
    sentence = next(s for s in conclusion.split(". ") if "Highest overall score" in s)
    leader = sentence.split(": ")[1].split(" ")[0]
    assert leader == named or f"the recommendation names {named}" in conclusion
