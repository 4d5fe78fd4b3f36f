"""Task metrics against ground truth: COCO-style box and mask AP, precision and recall.

Numpy only: this module runs in processes that never load torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from reportgen.measure.detections import (
    Detections,
    GroundTruth,
    box_iou,
    class_aware_iou,
    greedy_match,
    mask_iou,
)

# pycocotools builds these with np.linspace, which yields 0.6000000000000001 and 0.8500000000000001,
# so an IoU of exactly 0.6 fails its "0.6" threshold; rounding keeps each threshold at its stated value.
IOU_THRESHOLDS = np.round(np.linspace(0.5, 0.95, 10), 2)
# The same 101 recall points as pycocotools (recThrs), so AP values agree with it.
RECALL_THRESHOLDS = np.linspace(0.0, 1.0, 101)

IouFunction = Callable[[Detections, GroundTruth], np.ndarray]


def _box_ious(prediction: Detections, truth: GroundTruth) -> np.ndarray:
    """Return the (D, G) box IoU of one image."""
    return box_iou(prediction.boxes, truth.boxes)


def _mask_ious(prediction: Detections, truth: GroundTruth) -> np.ndarray:
    """Return the (D, G) mask IoU of one image; no masks are needed when either side is empty."""
    if len(prediction) == 0 or len(truth) == 0:
        return np.zeros((len(prediction), len(truth)))
    return mask_iou(prediction.masks, truth.masks)


def _true_positives(
    prediction: Detections, truth: GroundTruth, iou_function: IouFunction, thresholds: np.ndarray
) -> np.ndarray:
    """Return (D, T) flags: detection d matched a ground truth of its class at threshold t."""
    ious = class_aware_iou(iou_function(prediction, truth), prediction.classes, truth.classes)
    flags = np.zeros((len(prediction), len(thresholds)), dtype=bool)
    for column, threshold in enumerate(thresholds):
        pairs = greedy_match(ious, prediction.scores, threshold)
        flags[pairs[:, 0], column] = True
    return flags


def average_precision(true_positive: np.ndarray, ground_truth_count: int) -> float:
    """Return the 101-point interpolated AP of detections already sorted by score desc."""
    if true_positive.size == 0:
        return 0.0
    tp = np.cumsum(true_positive, dtype=np.float64)
    fp = np.cumsum(~true_positive, dtype=np.float64)
    recall = tp / ground_truth_count
    precision = tp / (tp + fp)
    # The envelope makes precision non-increasing in recall, as pycocotools does before sampling.
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    index = np.searchsorted(recall, RECALL_THRESHOLDS, side="left")
    sampled = np.where(index < len(recall), envelope[np.minimum(index, len(recall) - 1)], 0.0)
    return float(sampled.mean())


def _flags(
    predictions: Sequence[Detections],
    ground_truths: Sequence[GroundTruth],
    iou_function: IouFunction,
    thresholds: np.ndarray,
) -> np.ndarray:
    """Return (all detections, T) true-positive flags, images concatenated in order."""
    per_image = [
        _true_positives(p, t, iou_function, thresholds)
        for p, t in zip(predictions, ground_truths, strict=True)
    ]
    return np.concatenate(per_image)


def _mean_ap(
    flags: np.ndarray, predictions: Sequence[Detections], ground_truths: Sequence[GroundTruth]
) -> np.ndarray | None:
    """Return mAP at each threshold (column of flags) over classes with ground truth, or None."""
    truth_classes = np.concatenate([truth.classes for truth in ground_truths])
    labels = np.unique(truth_classes)
    if labels.size == 0:
        return None
    scores = np.concatenate([p.scores for p in predictions])
    classes = np.concatenate([p.classes for p in predictions])
    # Concatenating in image order then sorting stably ranks score ties by (image, index), as
    # pycocotools' mergesort over per-image lists does.
    order = np.argsort(-scores, kind="stable")
    flags, classes = flags[order], classes[order]
    ap = np.zeros((labels.size, flags.shape[1]))
    for row, label in enumerate(labels):
        mine = flags[classes == label]
        count = int(np.count_nonzero(truth_classes == label))
        ap[row] = [average_precision(mine[:, column], count) for column in range(flags.shape[1])]
    return ap.mean(axis=0)


def _has_masks(items: Sequence[Detections | GroundTruth]) -> bool:
    """Return whether every non-empty item carries masks."""
    return all(item.masks is not None or len(item) == 0 for item in items)


def _validate(predictions: Sequence[Detections], ground_truths: Sequence[GroundTruth]) -> None:
    """Raise ValueError unless predictions and ground truths pair up image by image."""
    if len(predictions) != len(ground_truths):
        raise ValueError(f"{len(predictions)} predictions for {len(ground_truths)} ground truths")
    for index, (prediction, truth) in enumerate(zip(predictions, ground_truths, strict=True)):
        if not isinstance(prediction, Detections) or not isinstance(truth, GroundTruth):
            raise ValueError(f"image {index}: expected Detections and GroundTruth")


def _ratio(numerator: float, denominator: float) -> float | None:
    """Return numerator / denominator as a float, or None when the denominator is 0."""
    return float(numerator / denominator) if denominator else None


def evaluate(predictions: Sequence[Detections], ground_truths: Sequence[GroundTruth]) -> dict:
    """Return detection counts, precision, recall, box mAP and mask mAP against ground truth."""
    _validate(predictions, ground_truths)
    images = len(predictions)
    detections = sum(len(p) for p in predictions)
    objects = sum(len(t) for t in ground_truths)
    result = {
        "images": images,
        "ground_truth_objects": objects,
        "detections_per_image": _ratio(detections, images),
        "detection_rate": _ratio(sum(len(p) > 0 for p in predictions), images),
        "mean_confidence": None,
        "precision": None,
        "recall": None,
        "map50": None,
        "map50_95": None,
        "mask_map50": None,
    }
    if images == 0:
        return result
    scores = np.concatenate([p.scores for p in predictions])
    result["mean_confidence"] = float(scores.mean(dtype=np.float64)) if detections else None
    box_flags = _flags(predictions, ground_truths, _box_ious, IOU_THRESHOLDS)
    matched = int(np.count_nonzero(box_flags[:, 0]))  # column 0 is IoU 0.5
    result["precision"] = _ratio(matched, detections)
    result["recall"] = _ratio(matched, objects)
    box_map = _mean_ap(box_flags, predictions, ground_truths)
    if box_map is not None:
        result["map50"] = float(box_map[0])
        result["map50_95"] = float(box_map.mean())
    if _has_masks(predictions) and _has_masks(ground_truths):
        mask_flags = _flags(predictions, ground_truths, _mask_ious, IOU_THRESHOLDS[:1])
        mask_map = _mean_ap(mask_flags, predictions, ground_truths)
        result["mask_map50"] = None if mask_map is None else float(mask_map[0])
    return result
