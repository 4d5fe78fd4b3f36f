"""Pages in the model's own words (issue 21): the nouns follow the task and the input kind.

A token classifier's page speaks of sequences and top classes, a semantic segmentation's of pixels and
mIoU, a detector's of detections; top-5 figures only with more than five classes. The fast tests read
documents reshaped from the real demo results; the slow test renders the pages of real Hugging Face
architectures (BERT, SegFormer, YOLOS, ViT built from small configs, tests/test_hf_models.py) measured
end to end by `reportgen build`, in English and Korean.
"""

from __future__ import annotations

import html
import re

import pytest
from report_helpers import classification, page_figures, page_section, semantic, sequences

from reportgen.analysis.vocabulary import vocabulary
from reportgen.report import render as site

# Words that must not appear on a page whose inputs are not images / whose model does not detect.
IMAGE_WORDS = {"en": r"\bimages?\b|\bFPS\b|\bframes?\b|GFLOP per image", "ko": r"이미지|프레임"}
DETECTION_WORDS = {"en": r"\bdetections?\b|\bmAP\b|Detection quality", "ko": r"감지"}
TOP5 = r"top-5"


# Finding texts take the document's nouns too: a rule stores the code of its inputs, the page's
# language fills {items} (analysis.vocabulary.fill); the page's own words are checked apart from them.
_FINDINGS = r'<p class="finding-(?:title|text)">.*?</p>|<ul class="evidence-list">.*?</ul>'


def visible(page: str, findings: bool = True) -> str:
    """Return what a reader sees of a page: its text and its charts' texts, not the config it echoes
    (the appendix's YAML has the key dataset.images whatever the inputs) nor config key names;
    without ``findings``, the page's own words only (no finding titles, evidence, causes)."""
    page = re.sub(r'<pre class="config">.*?</pre>', " ", page, flags=re.S)
    if not findings:
        page = re.sub(_FINDINGS, " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"\bdataset\.images\b", " ", text)


def found(pattern: str, page: str, findings: bool = True) -> list[str]:
    text = visible(page, findings)
    return [text[max(0, m.start() - 60) : m.end() + 30] for m in re.finditer(pattern, text, re.I)]


def parity_columns(page: str) -> list[str]:
    return re.findall(r'data-parity="(\w+)"', page_section(page, "quality"))


def metric_ids(page: str, section: str) -> list[str]:
    return re.findall(r'data-metric="(\w+)"', page_section(page, section))


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_a_token_classifier_speaks_of_sequences_and_has_no_top5_with_three_classes(demo, locale):
    doc = sequences(demo)
    assert vocabulary(doc).item == "sequence" and not vocabulary(doc).top5
    page = site.render_report(doc, locale=locale)
    assert found(IMAGE_WORDS[locale], page, findings=False) == []
    assert found(DETECTION_WORDS[locale], page, findings=False) == []
    assert found(TOP5, page, findings=False) == []
    assert "top5_overlap" not in parity_columns(page) and "top1_agreement" in parity_columns(page)
    assert "top5" not in " ".join(metric_ids(page, "headline") + metric_ids(page, "quality"))
    assert all("top-5" not in trace["name"] for trace in page_figures(page)["chart-agreement"]["data"])
    assert {"en": "What each backend answers", "ko": "각 백엔드의 결과"}[locale] in visible(page)  # no labels
    words = {
        "en": ("Classification quality and parity", "sequences/s", "Sequences"),
        "ko": ("분류 품질", "시퀀스/초", "시퀀스 수"),
    }
    assert all(w in visible(page) for w in words[locale])


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_a_token_classifiers_findings_speak_of_sequences_too(demo, locale):
    page = site.render_report(sequences(demo), locale=locale)
    assert found(IMAGE_WORDS[locale] + "|" + TOP5, page) == []


def test_top5_stays_where_the_model_has_more_than_five_classes(demo):
    page = site.render_report(classification(demo))  # ten classes
    assert "top5_overlap" in parity_columns(page) and "top5_accuracy" in metric_ids(page, "headline")


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_a_semantic_segmentation_page_shows_miou_and_pixel_agreement_and_no_detections(demo, locale):
    doc = semantic(demo)
    page = site.render_report(doc, locale=locale)
    assert found(DETECTION_WORDS[locale], page) == []
    quality = page_section(page, "quality")
    assert {"miou", "pixel_accuracy", "per_class_iou"} <= set(metric_ids(page, "quality"))
    assert ["pixel_agreement", "changed_pixel_share", "miou_vs_reference"] == [
        c for c in parity_columns(page) if "pixel" in c or "miou" in c
    ]
    assert "miou" in metric_ids(page, "headline")
    # the per-class table names the classes as the model does; a class never seen is a dash
    table = quality.split('data-metric="per_class_iou"')[1].split("</table>")[0]
    rows = re.findall(r'<tr><th scope="row">(\w+)</th>(.*?)</tr>', table)
    assert [name for name, _ in rows] == ["background", "circle", "square"] and "—" in rows[2][1]
    title = {"en": "Segmentation quality and parity", "ko": "분할 품질과 출력 일치"}[locale]
    assert title in visible(page)
    # Where pixels change class: the INT8 backends' most changed inputs, most first; none for the others.
    changes = quality.split('class="pixel-changes"')[1].split("</table>")[0]
    int8 = [n for n in doc["backend_order"] if "int8" in n]
    assert int8 and all(name in changes for name in int8) and "onnxruntime<" not in changes
    assert "#3 (40.0%) · #1 (20.0%)" in html.unescape(changes)


def test_without_label_masks_the_share_of_pixels_per_class_is_shown(demo):
    page = site.render_report(semantic(demo, labelled=False))
    assert "class_pixel_share" in metric_ids(page, "quality") and "miou" not in metric_ids(page, "quality")
    assert "The images carry no labels" in visible(page)  # synthetic shapes: the inputs are images


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_a_raw_model_on_vectors_speaks_of_samples(demo, locale):
    doc = classification(demo)
    doc["model"]["task"] = "raw"
    doc["dataset"] = {"source": "random", "seed": 1, "images": 8, "shape": [1, 3], "labelled": False}
    for b in doc["backends"].values():
        b["metrics"] = {"images": 8}
        if b["parity"]:
            b["parity"] = {k: v for k, v in b["parity"].items() if "top" not in k and "prob" not in k}
    page = site.render_report(doc, locale=locale)
    assert found(IMAGE_WORDS[locale], page) == [] and found(DETECTION_WORDS[locale], page) == []
    assert {"en": "Answers and parity", "ko": "결과와 출력 일치"}[locale] in visible(page)
    assert {"en": "samples/s", "ko": "샘플/초"}[locale] in visible(page)


# The four Hugging Face models of issue 21, configured as tests/test_hf_models.py configures them.
_TOKENS = {"dtype": "int64", "shape": ["batch", 16], "keyword": True}
HF_MODELS = {
    "bert": (
        {
            "task": "classification",
            "inputs": [
                {**_TOKENS, "name": "input_ids", "values": {"kind": "integers", "low": 0, "high": 100}},
                {**_TOKENS, "name": "attention_mask", "values": {"kind": "ones"}},
            ],
        },
        {"source": "random"},
        {},
    ),
    "segformer": ({"task": "semantic_segmentation", "input_size": 64}, {}, {}),
    "yolos": (
        {"task": "set_detection", "input_size": 64, "outputs": {"last_hidden_state": "shown"}},
        {},
        {"postprocess": {"conf_threshold": 0.05}},
    ),
    "vit": ({"task": "classification", "input_size": 32}, {}, {}),
}


@pytest.fixture(scope="module")
def hf_documents(tmp_path_factory):
    """Measure the four models end to end (`reportgen build`) once; return their results documents."""
    pytest.importorskip("transformers")
    from test_hf_models import _build

    from reportgen.results.document import read_results

    documents = {}
    for kind, (model, dataset, sections) in HF_MODELS.items():
        folder = tmp_path_factory.mktemp(kind)
        _build(folder, kind, model, dataset, **sections)
        documents[kind] = read_results(folder / "site" / kind / "results.json")
    return documents


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", "ko"])
def test_real_models_pages_speak_of_what_they_measure(hf_documents, locale):
    pages = {kind: site.render_report(doc, locale=locale) for kind, doc in hf_documents.items()}
    # BERT: sequences and top classes, three classes so no top-5; nothing of images or detections.
    bert = pages["bert"]
    assert found(IMAGE_WORDS[locale], bert, False) == [] and found(DETECTION_WORDS[locale], bert, False) == []
    assert found(TOP5, bert, False) == [] and "top1_agreement" in parity_columns(bert)
    # SegFormer: images, mIoU and pixel agreement, per-class IoU; no detections.
    segformer = pages["segformer"]
    assert found(DETECTION_WORDS[locale], segformer, False) == []
    assert {"miou", "pixel_accuracy", "per_class_iou"} <= set(metric_ids(segformer, "quality"))
    assert {"pixel_agreement", "changed_pixel_share", "miou_vs_reference"} <= set(parity_columns(segformer))
    # YOLOS (set prediction): box mAP and box matching; the shown hidden state is listed, not judged.
    yolos = pages["yolos"]
    assert {"map50", "map50_95", "ground_truth_objects"} <= set(metric_ids(yolos, "quality"))
    assert {"detection_match_rate", "matched", "mean_abs_confidence_delta"} <= set(parity_columns(yolos))
    assert "last_hidden_state" in page_section(yolos, "quality")
    # ViT: images and top classes, four classes so no top-5; nothing of detections.
    vit = pages["vit"]
    assert found(DETECTION_WORDS[locale], vit, False) == [] and found(TOP5, vit, False) == []
    titles = {
        "en": (
            "Classification quality",
            "Segmentation quality",
            "Detection quality",
            "Classification quality",
        ),
        "ko": ("분류 품질", "분할 품질", "감지 품질", "분류 품질"),
    }[locale]
    for kind, title in zip(("bert", "segformer", "yolos", "vit"), titles):
        assert title in page_section(pages[kind], "quality"), kind


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", "ko"])
def test_real_models_findings_speak_of_what_they_measure(hf_documents, locale):
    bert = site.render_report(hf_documents["bert"], locale=locale)
    vit = site.render_report(hf_documents["vit"], locale=locale)
    segformer = site.render_report(hf_documents["segformer"], locale=locale)
    assert found(IMAGE_WORDS[locale] + "|" + TOP5, bert) == [] and found(TOP5, vit) == []
    assert found(DETECTION_WORDS[locale], bert) + found(DETECTION_WORDS[locale], segformer) == []


@pytest.mark.browser
def test_segmentation_and_token_pages_render_in_a_browser(chromium_browser, demo, tmp_path):
    from test_browser import _open

    from reportgen.release import archive

    site_dir = tmp_path / "site"
    for version, doc, locale in (("0.1.0", semantic(demo), "en"), ("0.2.0", sequences(demo), "ko")):
        doc = {**doc, "version": version, "locale": locale}
        archive.build_site(site_dir, doc, f"version: {version}\n", locale=locale)
        page = site_dir / version / "index.html"
        figures = page_figures(page.read_text(encoding="utf-8"))
        charts = len(figures)
        dots = {"en": "pixels with the same class (%)", "ko": "top-1 클래스 일치 (%)"}[locale]
        assert figures["chart-agreement"]["data"][0]["name"] == dots
        # Every chart draws (the pixel agreement among them), no console error, the per-class table
        # and the parity table scroll inside a phone's width.
        seen = _open(chromium_browser, page.as_uri(), charts)
        _open(chromium_browser, page.as_uri(), charts, width=375)
        title = {"en": "Segmentation quality and parity", "ko": "분류 품질과 출력 일치"}[locale]
        assert title in seen["headings"]
