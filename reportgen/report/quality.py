"""The quality section of a report: the metrics each task measured, the parity table with the columns
the task has, where outputs first diverge, and the example images with their differences marked; and
the words every section names the inputs and answers with (analysis/vocabulary.py, in the page's language).
"""

from __future__ import annotations

import re
from typing import Any, cast

import numpy as np

from reportgen.analysis.nothing import compared
from reportgen.analysis.verdicts import Thresholds, is_ok, ordered
from reportgen.analysis.vocabulary import Vocabulary, vocabulary
from reportgen.analysis.vocabulary import words as nouns
from reportgen.measure.detections import Detections
from reportgen.measure.parity import match_detections
from reportgen.report.locale import Locale
from reportgen.results.schema import Detection, Document, OutputParity, Parity

# The accuracy metrics a task may report, in the order the table shows them (formatter per metric).
METRICS = (
    ("detections_per_image", "num"),
    ("mean_confidence", "num"),
    ("detection_rate", "rate"),
    ("precision", "num"),
    ("recall", "num"),
    ("map50", "num"),
    ("map50_95", "num"),
    ("mask_map50", "num"),
    ("miou", "num"),
    ("pixel_accuracy", "rate"),
    ("top1_accuracy", "rate"),
    ("top5_accuracy", "rate"),
    ("images", "num"),
    ("ground_truth_objects", "num"),
)
# The parity columns a task may have: detection and segmentation match detections, classification
# compares top classes, semantic segmentation the class of each pixel, every task compares raw outputs.
PARITY = (
    ("allclose", "yes_no"),
    ("max_abs_diff", "sci"),
    ("max_rel_diff", "sci"),
    ("cosine_min", "cosine"),
    ("detection_match_rate", "agreement"),
    ("matched", "matched"),
    ("mean_abs_confidence_delta", "sci"),
    ("mask_iou_mean", "num"),
    ("near_threshold", "near"),
    ("top1_agreement", "agreement"),
    ("top5_overlap", "rate"),
    ("max_abs_probability_delta", "sci"),
    ("pixel_agreement", "agreement"),
    ("changed_pixel_share", "rate"),
    ("miou_vs_reference", "num"),
)
# Figures that mean nothing with five classes or fewer (Vocabulary.top5).
TOP5 = ("top5_accuracy", "top5_overlap")
# Per-class lists a task may report: IoU against label masks, or without labels the share of pixels.
PER_CLASS = ("per_class_iou", "class_pixel_share")
# A picture in the results document must be an image data URI, nothing a browser would execute.
_PICTURE = re.compile(r"data:image/(?:jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}")


def words(results: Document, loc: Locale) -> dict[str, str]:
    """Return the nouns of this document in the page's language (analysis.vocabulary.words), the quality
    section's title, the task's name and what the parity score counts."""
    vocab = vocabulary(results)
    found = nouns(vocab, loc.t)
    task = results["model"]["task"]
    return {
        **found,
        "quality_title": loc.t(f"section.quality.{vocab.answers}"),
        "task": loc.t(f"task.{task}", item=found["item"]) if loc.has(f"task.{task}") else task,
        "measure": loc.t(f"score.measure.{vocab.answers}"),
        "accuracy": loc.t(f"score.accuracy.{vocab.answers}"),
    }


def _shown(key: str, vocab: Vocabulary) -> bool:
    return vocab.top5 or key not in TOP5


def metric_rows(results: Document, loc: Locale) -> list[dict]:
    """Return one row per accuracy metric any backend reported: its name and each backend's value."""
    backends, vocab = ordered(results), vocabulary(results)
    rows = []
    for key, kind in METRICS:
        if not _shown(key, vocab):
            continue
        values = [(b["metrics"] or {}).get(key) if is_ok(b) else None for _, b in backends]
        if all(v is None for v in values):
            continue
        cells = [
            getattr(loc, kind)(v) if is_ok(b) else loc.t(f"status.{b['status']}")
            for v, (_, b) in zip(values, backends)
        ]
        label = nouns(vocab, loc.t)["items_title"] if key == "images" else loc.t(f"metric.{key}")
        rows.append({"id": key, "label": label, "cells": cells})
    return rows


def per_class(results: Document, loc: Locale) -> dict | None:
    """Return the per-class table (IoU per class, or the share of pixels per class): one row per class,
    named as the model names it, one cell per backend; None where the task reports no such list."""
    backends = ordered(results)
    for key in PER_CLASS:
        lists = [(b["metrics"] or {}).get(key) if is_ok(b) else None for _, b in backends]
        if any(isinstance(v, list) for v in lists):
            break
    else:
        return None
    count = max(len(v) for v in lists if isinstance(v, list))
    names = results["model"].get("class_names") or []
    rows = []
    for i in range(count):
        cells = [loc.num(v[i]) if isinstance(v, list) and i < len(v) else loc.text(None) for v in lists]
        rows.append({"name": names[i] if i < len(names) else str(i), "cells": cells})
    return {"id": key, "caption": loc.t(f"metric.{key}"), "rows": rows}


def _parity_cell(kind: str, key: str, p: Parity, th: Thresholds, loc: Locale) -> dict:
    value: Any = p.get(key)  # read by a computed key: a number, a count or a flag
    if kind == "yes_no":
        if value is None:
            return {"text": loc.text(None), "severity": None}
        return {
            "text": loc.t("common.yes" if value else "common.no"),
            "severity": "pass" if value else "fail",
        }
    if kind == "agreement":
        if compared(p) == 0:  # 0 of 0 detections: no agreement at all, never "100%"
            return {"text": loc.t("parity.nothing_compared"), "severity": None}
        low = value is not None and value < th.min_match_rate
        return {"text": loc.rate(value), "severity": "fail" if low else None}
    if kind == "matched":
        text = loc.t(
            "parity.matched_value",
            matched=loc.num(value),
            reference=loc.num(p.get("unmatched_reference")),
            candidate=loc.num(p.get("unmatched_candidate")),
        )
        return {"text": text, "severity": None}
    if kind == "near":
        near, flips = loc.num(value), loc.num(p.get("unmatched_near_threshold"))
        return {"text": loc.t("parity.near_threshold_value", near=near, unmatched=flips), "severity": None}
    return {"text": getattr(loc, kind)(value), "severity": None}


def parity_table(results: Document, th: Thresholds, loc: Locale) -> dict:
    """Return the parity table: the columns this task measured, one row per non-reference backend."""
    candidates, vocab = ordered(results)[1:], vocabulary(results)
    measured = [b["parity"] for _, b in candidates if is_ok(b) and b["parity"]]
    columns = [(key, kind) for key, kind in PARITY if _shown(key, vocab) and any(key in p for p in measured)]
    rows = []
    for name, b in candidates:
        if not is_ok(b):
            rows.append(
                {"backend": name, "failed": True, "status": b["status"], "error": b["error"], "cells": []}
            )
        elif not b["parity"]:
            rows.append({"backend": name, "failed": False, "error": None, "cells": None})
        else:
            cells = [_parity_cell(kind, key, b["parity"], th, loc) for key, kind in columns]
            rows.append({"backend": name, "failed": False, "error": None, "cells": cells})
    return {
        "columns": [loc.t(f"parity.{key}") for key, _ in columns],
        "ids": [key for key, _ in columns],
        "rows": rows,
    }


def outputs(results: Document) -> list[tuple[str, str, OutputParity]]:
    """Return (backend, output name, comparison) for every raw output of every compared backend."""
    return [
        (name, output, values)
        for name, b in ordered(results)[1:]
        if is_ok(b) and b["parity"]
        for output, values in sorted(b["parity"]["outputs"].items())
    ]


# How many of the inputs where pixels change class most are named per backend.
CHANGED_SHOWN = 5


def pixel_changes(results: Document, loc: Locale) -> list[dict]:
    """Return, per backend whose pixels change class, the inputs where most change, most first, with
    the share of their pixels that changed (semantic segmentation's disagreeing_images)."""
    out = []
    for name, b in ordered(results)[1:]:
        p: dict = dict(b["parity"] or {}) if is_ok(b) else {}
        shares, worst = p.get("changed_pixel_share_per_image") or [], p.get("disagreeing_images") or []
        shown = [i for i in worst if isinstance(i, int) and 0 <= i < len(shares)][:CHANGED_SHOWN]
        if shown:
            inputs = [
                loc.t("quality.changed_input", index=loc.num(i), share=loc.rate(shares[i])) for i in shown
            ]
            out.append({"backend": name, "inputs": inputs, "count": loc.num(len(worst))})
    return out


def divergences(results: Document) -> list[dict]:
    """Return where each backend's outputs first diverge from the reference, where that was located."""
    out = []
    for name, b in ordered(results)[1:]:
        found = b["parity"]["first_divergence"] if b["parity"] else None
        if is_ok(b) and found is not None and found.get("found"):
            out.append(
                {
                    "backend": name,
                    **{key: found.get(key) for key in ("node", "op_type", "module", "diverging_output")},
                    **{key: found.get(key) for key in ("max_abs_diff", "compared", "image")},
                    # against: "torch" (its graph), or the exporter of a fresh export paired by structure
                    **{key: found.get(key) for key in ("against", "aligned", "nodes")},
                    "initializers": found.get("initializers") or [],
                    "suspects": found.get("suspects") or [],
                }
            )
    return out


def _detections(found: list[Detection]) -> Detections:
    boxes = np.asarray([d["box"] for d in found], dtype=np.float64).reshape(-1, 4)
    scores, classes = np.asarray([d["score"] for d in found]), np.asarray([d["class_id"] for d in found])
    return Detections(boxes, scores, classes)


def _unmatched(
    reference: list[Detection], candidate: list[Detection], min_iou: float
) -> tuple[set[int], set[int]]:
    """Return the indexes of the reference's and of the candidate's detections left unmatched by the
    parity measurement's own matching (reportgen.measure.parity.match_detections)."""
    pairs = match_detections(_detections(reference), _detections(candidate), min_iou)
    return (
        set(range(len(reference))) - set(pairs[:, 0].tolist()),
        set(range(len(candidate))) - set(pairs[:, 1].tolist()),
    )


def examples(results: Document, th: Thresholds, loc: Locale) -> list[dict]:
    """Return the example images: each shown backend's picture and detections, differences marked."""
    reference, order = results["reference"], [n for n, _ in ordered(results)]
    out = []
    for ex in results["examples"]:
        detections = ex["detections"]
        shown = ex["backends"] or [n for n in order if n in detections]
        dets = {name: detections.get(name) or [] for name in shown}
        others = [n for n in shown if n != reference]
        panels: list[dict[str, Any]] = []
        for name in shown:
            if name == reference:  # what any candidate shown lacks
                missing = set().union(*(_unmatched(dets[name], dets[o], th.match_iou)[0] for o in others))
            elif reference in dets:  # what the reference lacks
                missing = _unmatched(dets[reference], dets[name], th.match_iou)[1]
            else:
                missing = set()
            picture = ex["pictures"].get(name)
            panels.append(
                {
                    "backend": name,
                    "picture": picture if picture is not None and _PICTURE.fullmatch(picture) else None,
                    "detections": [
                        {**d, "score_text": loc.fixed(d["score"], 3), "unmatched": i in missing}
                        for i, d in enumerate(dets[name])
                    ],
                    "differences": len(missing),
                }
            )
        reason = ex["reason"]
        if loc.has(f"examples.reason.{reason}"):
            reason = loc.t(f"examples.reason.{reason}")
        out.append(
            {
                "image": ex["image"],
                "name": ex["name"],
                "reason": reason,
                "ground_truth": ex["ground_truth_objects"],
                "panels": panels,
                "differences": sum(p["differences"] for p in panels),
            }
        )
    return out


def dataset_sentence(results: Document, loc: Locale) -> str:
    """Return what the backends ran on, in one sentence that fits the data's source (whose own keys,
    seed, image_size, path or shape, the sentence reads where the source has them)."""
    data = results["dataset"]
    source = data["source"]
    found = nouns(vocabulary(results), loc.t)
    values = {
        "count": loc.num(data["images"]),
        "items": found["items"],
        "seed": loc.text(data.get("seed")),
        "size": loc.text(data.get("image_size")),
        "objects": loc.num(data.get("objects")),
        "path": loc.text(data.get("path")),
        "shape": " × ".join(str(d) for d in cast("list[int]", data.get("shape") or [])) or loc.text(None),
        "source": loc.text(source),
        "inputs": _inputs_text(results, loc),
    }
    key = f"quality.dataset.{source}" if loc.has(f"quality.dataset.{source}") else "quality.dataset.other"
    if source == "random" and results["model"].get("inputs"):  # declared by model.inputs (issue 12)
        key = "quality.dataset.inputs"
    sentence = loc.t(key, **values)
    if data.get("objects") is not None and source != "synthetic":
        sentence += " " + loc.t("quality.dataset.objects", objects=values["objects"])
    if data["labelled"] is False:
        sentence += " " + loc.t("quality.unlabelled", items=found["items"])
    return sentence


def _inputs_text(results: Document, loc: Locale) -> str:
    """Return the declared inputs as ``name dtype [batch, 32]``, comma-separated."""
    specs = results["model"].get("inputs") or []
    return ", ".join(
        f"{s['name']} {s['dtype']} [{', '.join(map(str, s['shape']))}]" for s in specs
    ) or loc.text(None)
