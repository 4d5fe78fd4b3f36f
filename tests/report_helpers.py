"""Helpers of the report tests: documents made from the real demo results, and the pages' parts by name.

tests/data/results_demo.json is the output of `reportgen run` on the built-in demo (PyTorch reference,
ONNX Runtime at four optimization levels, TorchScript, static and dynamic INT8). The tests compute what
they expect from the document itself. tests/data/results_v1.json is older and hand-written (schema 1,
two backends, findings without keys): it is read through read_results and checked for compatibility.
The ``demo`` and ``v1`` fixtures (tests/conftest.py) read them.
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import markupsafe

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent
EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# The statistics of latency_ms that are times (counts, ratios and other keys are not scaled).
TIMES = ("median", "mean", "p90", "p99", "std", "min", "max")


def as_version(results: dict, version: str, created_at: str, latency_factor: float = 1.0) -> dict:
    """Return a copy of the results as another version, every non-reference latency scaled."""
    other = copy.deepcopy(results)
    other["version"], other["created_at"] = version, created_at
    for name, b in other["backends"].items():
        if name == other["reference"] or b["status"] != "ok":
            continue
        b["latency_ms"] = {
            k: (v * latency_factor if k in TIMES else v) for k, v in b["latency_ms"].items()
        } | {"samples": [s * latency_factor for s in b["latency_ms"]["samples"]]}
        b["fps"] = 1000 / b["latency_ms"]["median"]
    return other


def escaped(text: str) -> str:
    """Return text as the pages write it (Jinja2 autoescaping)."""
    return str(markupsafe.escape(text))


def page_text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def headline_row(page: str, metric: str) -> list[str]:
    """Return the texts of the cells of the headline row of one metric."""
    match = re.search(rf'<tr data-metric="{metric}">(.*?)</tr>', page, re.S)
    assert match, f"no headline row {metric}"
    return [page_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1), re.S)]


def page_section(page: str, section: str) -> str:
    start = page.index(f'<section id="{section}"')
    return page[start : page.index("</section>", start)]


def page_figures(page: str) -> dict[str, dict]:
    scripts = re.findall(
        r'<script type="application/json" id="([\w-]+)-data"[^>]*>(.*?)</script>', page, re.S
    )
    return {name: json.loads(text) for name, text in scripts}


def candidates(results: dict) -> list[str]:
    return [n for n in results["backend_order"] if n != results["reference"]]


def classification(demo: dict) -> dict:
    """Return the demo reshaped as a classification run of ten classes: top-1/top-5 metrics and
    agreement, no boxes."""
    doc = copy.deepcopy(demo)
    doc["model"].update(task="classification", class_names=[f"class {i}" for i in range(10)])
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
    return doc


def sequences(demo: dict) -> dict:
    """Return the classification document as a token classifier's: int64 [batch, 16] inputs from
    model.inputs, three classes without names (as a BERT with LABEL_i), no labels; its top-5 overlap
    is 100% by construction (a document measured before classification counted its classes)."""
    doc = classification(demo)
    spec = {"dtype": "int64", "shape": ["batch", 16], "keyword": True}
    doc["model"].update(
        class_names=None, inputs=[{**spec, "name": "input_ids"}, {**spec, "name": "attention_mask"}]
    )
    doc["dataset"] = {"source": "random", "seed": 1, "images": 8, "shape": [1, 16], "labelled": False}
    for b in doc["backends"].values():
        b["metrics"] = {"images": 8, "mean_confidence": 0.5, "classes": 3}
        if b["parity"]:
            b["parity"]["top5_overlap"] = 1.0
    return doc


def semantic(demo: dict, labelled: bool = True) -> dict:
    """Return the demo reshaped as a semantic segmentation run (the shapes with per-pixel class masks):
    mIoU, per-class IoU and pixel accuracy (without label masks: the share of pixels per class),
    pixel agreement with the reference."""
    doc = copy.deepcopy(demo)
    doc["dataset"]["labelled"] = labelled
    doc["model"].update(task="semantic_segmentation", class_names=["background", "circle", "square"])
    doc["examples"] = []
    for i, (name, b) in enumerate(doc["backends"].items()):
        b["metrics"] = {
            "images": 20,
            "miou": 0.7 - 0.01 * i,
            "per_class_iou": [0.9, 0.6 - 0.01 * i, None],
            "pixel_accuracy": 0.9,
        }
        if not labelled:
            b["metrics"] = {"images": 20, "class_pixel_share": [0.8, 0.15 + 0.01 * i, 0.05 - 0.01 * i]}
        if b["parity"]:
            changed = 0.03 if "int8" in name else 0.0  # on two of the 20 inputs: 40% and 20% of their pixels
            per_image = (
                [0.4 if i == 3 else 0.2 if i == 1 else 0.0 for i in range(20)] if changed else [0.0] * 20
            )
            b["parity"] = {
                **{k: b["parity"][k] for k in ("outputs", "max_abs_diff", "max_rel_diff", "cosine_min")},
                "allclose": b["parity"]["allclose"],
                "atol": 1e-4,
                "rtol": 1e-3,
                "first_divergence": None,
                "pixel_agreement": 1 - changed,
                "changed_pixel_share": changed,
                "changed_pixel_share_per_image": per_image,
                "miou_vs_reference": 0.9 if changed else 1.0,
                "disagreeing_images": [3, 1] if changed else [],
            }
    return doc


def file_tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def version(results: dict, label: str, day: int, title: str | None = None) -> dict:
    """Return a copy of the results as version `label`, created on day `day` of December 2026."""
    doc = copy.deepcopy(results)
    doc["version"], doc["created_at"], doc["title"] = label, f"2026-12-{day:02d}T00:00:00Z", title
    return doc


def site_tree(folder: Path) -> dict[str, bytes]:
    """Return relative path -> bytes of every file under folder, hidden staging folders left out."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).parts[0].startswith(".")
    }


def _cell(size: int, ms: float, memory: float) -> dict:
    latency = {"median": ms, "p90": ms, "n": 20, "robust_cv": 0.01, "round_spread": 0.02, "rounds": 9}
    return {
        "status": "ok",
        "error": None,
        "latency_ms": latency,
        "throughput_per_s": size * 1000 / ms,
        "memory_mb": memory,
    }


def with_batches(demo: dict) -> dict:
    """The demo as if measured at batch sizes 1 and 8 (batch 8 taking 6x as long); INT8 fixed at 1."""
    doc = copy.deepcopy(demo)
    doc["config"]["measurement"]["batch_sizes"] = [1, 8]
    for b in doc["backends"].values():
        if b["status"] == "ok":
            one, memory = b["latency_ms"]["median"], b["memory_mb"]["peak"]
            b["by_batch_size"] = {"1": _cell(1, one, memory), "8": _cell(8, one * 6, memory + 10)}
    doc["backends"]["ort-int8-static"]["by_batch_size"]["8"] = {"status": "unsupported", "error": EVIL}
    doc["backends"]["ort-int8-dynamic"]["by_batch_size"]["8"] = {"status": "failed", "error": None}
    from reportgen.results.document import check_invariants

    check_invariants(doc)
    return doc
