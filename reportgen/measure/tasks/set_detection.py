"""Set-prediction detection (DETR, YOLOS, RT-DETR, Deformable DETR), numpy only.

These models answer with a fixed set of queries: per query class scores (``logits``) and a box
normalized to the input (``pred_boxes``: cx, cy, w, h in [0, 1]). There is no NMS: the set is already
deduplicated by training (Hungarian matching), so a query is a detection when its best class scores
above the threshold. DETR and YOLOS end the logits with a "no object" class (softmax); RT-DETR and
Deformable DETR have none (sigmoid, role ``sigmoid_logits``). Images are resized to the square input
(no letterbox) and normalized as Hugging Face's image processors do; box matching, confidence deltas
and mAP are the detection task's (measure/parity.py, measure/metrics.py).
"""

from __future__ import annotations

import numpy as np

from reportgen.measure.detections import Detections, GroundTruth
from reportgen.measure.tasks import classification, output, role_name, yolo

OUTPUTS = {"boxes": ("pred_boxes",)}  # and logits or sigmoid_logits, read by _scores
LOGITS = ("logits",)


def prepare(image: np.ndarray, size: int) -> tuple[np.ndarray, dict]:
    """Resize to size x size; return it and the scale of each axis (for the ground truth)."""
    h, w = image.shape[:2]
    resized = image if (h, w) == (size, size) else yolo.resize_bilinear(image, size, size)
    return resized, {"scale": [size / w, size / h]}


def prepare_truth(truth: GroundTruth | None, meta: dict, size: int) -> GroundTruth | None:
    """Scale ground-truth boxes with the image (masks are not scored by this task)."""
    if truth is None:
        return None
    sx, sy = meta["scale"]
    return GroundTruth(truth.boxes * np.array([sx, sy, sx, sy], np.float32), truth.classes)


def to_tensor(prepared: np.ndarray, settings: dict) -> np.ndarray:
    """Scale to [0, 1] and normalize with the configured mean and std (ImageNet's by default)."""
    return classification.to_tensor(prepared, settings)


def _scores(outputs: dict[str, np.ndarray], settings: dict) -> np.ndarray:
    """Return (queries, classes) probabilities: sigmoid logits as they are, softmax ones without the
    last (no-object) class."""
    sigmoid = role_name(outputs, settings, "sigmoid_logits", ())
    if sigmoid:
        return 1 / (1 + np.exp(-outputs[sigmoid][0].astype(np.float64)))
    logits = output(outputs, settings, "logits", LOGITS)[0].astype(np.float64)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True))[:, :-1]


def decode(outputs: dict[str, np.ndarray], settings: dict) -> Detections:
    """Return the queries whose best class scores above conf_threshold, as xyxy pixel boxes."""
    probabilities = _scores(outputs, settings)
    classes = probabilities.argmax(1)
    scores = probabilities[np.arange(len(classes)), classes]
    keep = np.flatnonzero(scores > settings["conf_threshold"])
    keep = keep[np.argsort(-scores[keep], kind="stable")][: settings["max_detections"]]
    cxcywh = output(outputs, settings, "boxes", OUTPUTS["boxes"])[0][keep].astype(np.float32)
    size = settings["input_size"]
    xyxy = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], 1)
    return Detections(
        boxes=np.clip(xyxy, 0, 1) * np.float32(size),
        scores=scores[keep].astype(np.float32),
        classes=classes[keep].astype(np.int64),
    )


def evaluate(predictions: list[Detections], truths: list[GroundTruth] | None, settings: dict) -> dict:
    """Return detection metrics (box mAP with labels; counts and confidences without)."""
    return yolo.evaluate(predictions, truths, settings)


def compare(reference: list[Detections], candidate: list[Detections], settings: dict) -> dict:
    """Return detection agreement: box matching by class and IoU, confidence deltas, threshold flips."""
    return yolo.compare(reference, candidate, settings)
