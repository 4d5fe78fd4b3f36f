"""Issue 20, the page side: a run that went wrong says so once, at the top, and gives no verdict on
nothing. Real runs of small models of ours (tests/factories/), real torch, ONNX Runtime and pages."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reportgen.analysis import rules
from reportgen.analysis.assess import assess
from reportgen.report.render import render_report
from reportgen.results.document import read_results

pytestmark = pytest.mark.slow

FACTORIES = Path(__file__).parent  # the config's folder goes on the import path: factories.<module>:...
ROOT = Path(__file__).parents[1]
QUICK = "max_time_s: 1, profile: false"  # the fewest rounds the plan allows; no profile pass


def run(
    tmp: Path, name: str, body: str, extra: str = "", build: bool = False
) -> tuple[subprocess.CompletedProcess, Path]:
    """Run `reportgen run` (or `build`, into tmp/site) on a config beside tests/factories; return the
    process and the results path."""
    config = FACTORIES / f".tmp-{tmp.name}-{name}.yaml"
    measurement = f"measurement: {{{QUICK}{extra}}}\n"
    site = f"site: {{dir: {tmp / 'site'}}}\n" if build else ""
    config.write_text(f"version: {name}\n" + textwrap.dedent(body) + measurement + site)
    out = tmp / "site" / name / "results.json" if build else tmp / f"{name}.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's reportgen
    try:
        where = ["build"] if build else ["run", "-o", str(out)]
        command = [sys.executable, "-m", "reportgen", *where, "-c", str(config)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp, timeout=300, env=env)
    finally:
        config.unlink()
    return result, out


def text_of(page: str) -> str:
    """Return a page's visible text, one space between words."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def section(page: str, anchor: str) -> str:
    """Return the visible text of one <section id=anchor>."""
    found = re.search(rf'<section id="{anchor}".*?</section>', page, flags=re.S)
    assert found, anchor
    return text_of(found.group(0))


EXPORT_FAILS = """\
model:
  source: factory
  factory: "factories.preflight:kwargs_tokens"
  task: raw
  inputs:
    - {name: input_ids, dtype: int64, shape: [batch, 12], values: {kind: integers, low: 0, high: 100}}
    - {name: attention_mask, dtype: int64, shape: [batch, 12], values: {kind: ones}, keyword: true}
    - {name: extra_features, dtype: int64, shape: [batch, 12], values: {kind: zeros}, keyword: true}
dataset: {source: random, images: 4}
backends:
  - {name: pytorch, kind: pytorch}
  - {name: onnxruntime, kind: onnxruntime}
  - {name: ort-int8, kind: onnxruntime, quantization: dynamic}
"""
KEY_LINE = "dynamic_shapes names ['input_ids', 'attention_mask', 'extra_features'] against forward's"


@pytest.fixture(scope="module")
def export_failure(tmp_path_factory):
    # A keyword that forward() takes only through **kwargs: torch.export refuses the dynamic_shapes
    # (a dynamic batch: two batch sizes) that name it; the reference runs, the ONNX backends cannot.
    tmp = tmp_path_factory.mktemp("export")
    result, out = run(tmp, "export-fails", EXPORT_FAILS, ", batch_sizes: [1, 2]")
    assert result.returncode == 1, result.stderr
    return read_results(out)


def test_an_export_failure_is_said_once_at_the_top(export_failure):
    page = render_report(export_failure)
    verdict = section(page, "verdict")
    bottom = "The ONNX export failed, so onnxruntime, ort-int8 could not be measured."
    assert f"bottom line {bottom}" in verdict
    assert "biased conditions" not in text_of(page) and "\x1b" not in page
    # Each backend that needed the export: one short line, not the exporter's paragraph.
    assert verdict.count("not measured: the export failed") == 2 and KEY_LINE not in verdict
    findings = section(page, "findings")
    assert findings.count(KEY_LINE) == 1 and findings.count("The ONNX export failed") == 1
    assert "did not complete" not in findings  # no per-backend failure finding besides the step's
    # Tables say "not measured" instead of repeating the error in every section.
    for anchor in ("headline", "quality"):
        assert KEY_LINE not in section(page, anchor)
    for anchor in ("speed", "memory"):
        assert KEY_LINE not in section(page, anchor)
    # The whole page: the key finding and its cause; the size section points at it (before, the line
    # was printed in every verdict, every finding and every table row of each backend).
    assert text_of(page).count(KEY_LINE) == 2
    assert "The ONNX export failed (the finding at the top says why)." in text_of(section(page, "size"))
    judged = assess(export_failure)
    assert judged.recommendation is None
    assert [f["key"] for f in judged.findings if f["severity"] == "fail"] == ["backend.step/export"]
    assert {b.state.code for b in judged.backends.values() if b.state} == {"not_measured.export"}


def test_the_failure_page_in_korean_says_it_once_too(export_failure):
    page = render_report(export_failure, locale="ko")
    verdict = section(page, "verdict")
    assert "ONNX 내보내기가 실패하여 onnxruntime, ort-int8를 측정할 수 없었습니다." in verdict
    assert verdict.count("측정 안 됨: 내보내기 실패") == 2


def test_a_failed_quantization_is_its_own_step_and_the_export_still_counts(export_failure):
    # The same real document, as a run whose export worked and whose INT8 step failed would store it:
    # the runner's prefix and the quantizer's line in the INT8 backend, the FP32 backend measured.
    doc = json.loads(json.dumps(export_failure))
    doc["backends"]["ort-int8"]["error"] = "INT8 quantization failed: ValueError: no float weights"
    doc["backends"]["onnxruntime"]["error"] = "its worker crashed (signal 9)"
    keys = {f["key"]: f for f in rules.findings(doc)}
    assert keys["backend.step/quantization"]["params"] == {
        "names": "ort-int8",
        "error": "ValueError: no float weights",
    }
    assert keys["backend.failed"]["backend"] == "onnxruntime"  # a failure of its own stays one
    assert "backend.step/export" not in keys


CONSTANT = """\
model: {source: factory, factory: "factories.nothing:constant", task: raw, input_shape: [1, 3, 8, 8]}
dataset: {source: random, images: 4}
backends: [{name: pytorch, kind: pytorch}, {name: onnxruntime, kind: onnxruntime}]
"""
ONE_CLASS = """\
model: {source: factory, factory: "factories.nothing:one_class", task: classification,
        input_size: 32, class_names: [a, b, c, d]}
dataset: {source: synthetic, images: 6}
backends: [{name: pytorch, kind: pytorch}, {name: onnxruntime, kind: onnxruntime}]
"""
SEMANTIC = """\
model: {source: factory, factory: "factories.nothing:background", task: semantic_segmentation,
        input_size: 32, class_names: [background, a, b, c]}
dataset: {source: synthetic, images: 4}
backends: [{name: pytorch, kind: pytorch}, {name: onnxruntime, kind: onnxruntime}]
"""
BLIND = """\
model: {source: factory, factory: "factories.nothing:blind_detector", task: detection, input_size: 96}
dataset: {source: synthetic, images: 4}
backends: [{name: pytorch, kind: pytorch}, {name: onnxruntime, kind: onnxruntime}]
"""


@pytest.mark.parametrize(
    ("name", "body", "why"),
    [
        ("constant", CONSTANT, "constant"),
        ("one-class", ONE_CLASS, "one_class"),
        ("background", SEMANTIC, "one_class"),  # every pixel of every image
        ("blind", BLIND, "detections"),
    ],
)
def test_no_verdict_on_nothing(tmp_path, name, body, why):
    result, out = run(tmp_path, name, body)
    assert result.returncode == 0, result.stderr
    doc = read_results(out)
    judged = assess(doc)
    keys = [f["key"] for f in judged.findings]
    assert f"method.nothing/{why}" in keys
    assert not [k for k in keys if k.startswith(("parity.detections", "parity.classes", "accuracy.map"))]
    assert judged.recommendation is None
    assert {b.answers.code for b in judged.backends.values()} == {"answers.withheld"}
    page = render_report(doc)
    verdict = section(page, "verdict")
    assert "No verdict on the answers: the reference pytorch" in verdict
    assert "answers not judged" in verdict and "same answers" not in verdict
    quality = section(page, "quality")
    if why == "detections":
        assert doc["backends"]["pytorch"]["metrics"]["detections_per_image"] == 0
        assert "100.0%" not in quality  # 0 of 0 is never 100%
        assert "0 of 0 detections" in quality
        row = re.search(r'<tr data-metric="map50">.*?</tr>', page, flags=re.S)
        assert row and "no change" not in text_of(row.group(0))  # mAP 0 against 0
        assert "answers not judged" in text_of(row.group(0))


def test_a_reference_whose_answers_vary_is_judged(tmp_path):
    # The control: the same classifier without the forced class answers several classes.
    body = ONE_CLASS.replace("nothing:one_class", "models:tiny_classifier")
    result, out = run(tmp_path, "varied", body)
    assert result.returncode == 0, result.stderr
    doc = read_results(out)
    assert doc["backends"]["pytorch"]["answers"]["distinct_top1"] > 1
    judged = assess(doc)
    assert not [f for f in judged.findings if f["id"] == "method.nothing"]
    assert {b.answers.code for b in judged.backends.values()} != {"answers.withheld"}


@pytest.mark.browser
def test_the_failure_page_in_a_browser(export_failure, chromium_browser, tmp_path):
    from reportgen.release import archive

    site = tmp_path / "site"
    archive.build_site(site, export_failure, "version: export-fails\n")
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto((site / "export-fails" / "index.html").as_uri(), wait_until="load")
        bottom = page.locator(".bottom-line").inner_text()
        first = page.locator("#findings .finding").first.inner_text()
        badges = page.locator(".verdict-list .badge").all_inner_texts()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    finally:
        context.close()
    assert problems == []
    assert "The ONNX export failed, so onnxruntime, ort-int8 could not be measured." in bottom
    assert "The ONNX export failed" in first and KEY_LINE in first
    assert badges == ["not measured: the export failed"] * 2
    assert overflow <= 0


NO_LOGITS = """\
model: {source: factory, factory: "factories.nothing:no_logits", task: classification, input_size: 32}
dataset: {source: synthetic, images: 6}
backends: [{name: pytorch, kind: pytorch}, {name: onnxruntime, kind: onnxruntime}]
"""


def test_outputs_no_task_can_decode_still_write_results_and_report(tmp_path):
    # Logits of zero classes: the task's decoder raises after every round was measured. Exit 1, with
    # the results and the page saying why, not a traceback with nothing written.
    result, out = run(tmp_path, "no-logits", NO_LOGITS, build=True)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    doc = read_results(out)
    error = doc["backends"]["pytorch"]["error"]
    assert error.startswith("its outputs could not be decoded as task classification: ValueError")
    page = (out.parent / "index.html").read_text(encoding="utf-8")
    assert "The reference pytorch failed" in text_of(page)
    # build also keeps the measurement where `run` writes it, before rendering (a page that cannot be
    # rendered does not cost the minutes of measuring).
    assert (tmp_path / "build" / "reportgen" / "no-logits" / "results.json").is_file()
