"""YOLO-style detection and instance segmentation (Ultralytics' export layout), numpy only.

``output0`` is (1, 4 + nc [+ nm], A) with xywh boxes in input pixels and class scores; for
segmentation ``output1`` holds the (1, nm, H/4, W/4) mask prototypes. Images are letterboxed as
Ultralytics does for a fixed-size export: scaled to fit, centred, padded with grey 114.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from reportgen.measure import metrics, parity
from reportgen.measure.detections import Detections, GroundTruth, batched_nms
from reportgen.measure.tasks import output, role_name

# The roles this task needs, with Ultralytics' names for them (config/outputs.py); prototypes are
# optional (a detection export has none).
OUTPUTS = {"detections": ("output0",)}
PROTOTYPES = ("output1",)

PAD_VALUE = 114
STRIDE = 32  # the nets' total downsampling: a rect letterbox pads to a multiple of it


def prepare(image: np.ndarray, size: int, rect: bool = False) -> tuple[np.ndarray, dict]:
    """Letterbox an RGB uint8 image into a size x size square; return it and the scale and padding.

    ``rect`` pads only up to the next multiple of STRIDE (Ultralytics' predict default, auto=True): the
    same scale, less grey, a non-square tensor that a fixed-size export cannot take.
    """
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image, {"scale": 1.0, "pad": [0, 0]}
    scale = min(size / h, size / w)
    new_w, new_h = round(w * scale), round(h * scale)
    resized = resize_bilinear(image, new_h, new_w)
    out_w, out_h = (
        (new_w + (size - new_w) % STRIDE, new_h + (size - new_h) % STRIDE) if rect else (size, size)
    )
    left, top = (out_w - new_w) // 2, (out_h - new_h) // 2
    canvas = np.full((out_h, out_w, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, {"scale": scale, "pad": [left, top]}


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an HxWx3 uint8 image bilinearly without antialiasing, as cv2.INTER_LINEAR (Ultralytics) does.

    PIL's bilinear filter antialiases when it shrinks: pixels then differ from Ultralytics' by up to
    60 levels on textured images, and the networks see other inputs than the user's pipeline gives them.
    """
    rows, cols = _bilinear_matrix(height, image.shape[0]), _bilinear_matrix(width, image.shape[1])
    out = np.einsum("hy,yxc,wx->hwc", rows, image.astype(np.float32), cols, optimize=True)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def rect_to_square(prediction: Detections, rect_meta: dict, square_meta: dict, size: int) -> Detections:
    """Move detections made on a rect-letterboxed image into the square letterbox's coordinates."""
    dx, dy = (s - r for s, r in zip(square_meta["pad"], rect_meta["pad"]))
    boxes = prediction.boxes + np.array([dx, dy, dx, dy], dtype=np.float32)
    masks = None
    if prediction.masks is not None:
        masks = np.zeros((len(prediction.masks), size, size), dtype=bool)
        h, w = prediction.masks.shape[1:]
        masks[:, dy : dy + h, dx : dx + w] = prediction.masks[:, : size - dy, : size - dx]
    return Detections(boxes=boxes, scores=prediction.scores, classes=prediction.classes, masks=masks)


def prepare_truth(truth: GroundTruth | None, meta: dict, size: int) -> GroundTruth | None:
    """Move ground truth into the letterboxed image's coordinates."""
    if truth is None or (meta["scale"] == 1.0 and meta["pad"] == [0, 0]):
        return truth
    left, top = meta["pad"]
    boxes = truth.boxes * meta["scale"] + np.array([left, top, left, top], dtype=np.float32)
    masks = None
    if truth.masks is not None:
        masks = (
            np.stack(
                [
                    prepare(m.astype(np.uint8)[..., None].repeat(3, 2) * 255, size)[0][..., 0] > 127
                    for m in truth.masks
                ]
            )
            if len(truth.masks)
            else np.zeros((0, size, size), bool)
        )
    return GroundTruth(boxes=boxes, classes=truth.classes, masks=masks)


def to_tensor(prepared: np.ndarray, settings: dict) -> np.ndarray:
    """Return the (1, 3, S, S) float32 tensor in [0, 1] of a prepared image."""
    return np.ascontiguousarray(prepared.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255)


@lru_cache(maxsize=8)
def _bilinear_matrix(out_size: int, in_size: int) -> np.ndarray:
    """Return the (out, in) matrix of bilinear resampling (align_corners=False, as torch and cv2)."""
    src = np.clip((np.arange(out_size) + 0.5) * in_size / out_size - 0.5, 0, in_size - 1)
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, in_size - 1)
    weight = (src - low).astype(np.float32)
    matrix = np.zeros((out_size, in_size), dtype=np.float32)
    np.add.at(matrix, (np.arange(out_size), low), 1 - weight)
    np.add.at(matrix, (np.arange(out_size), high), weight)
    return matrix


def decode(outputs: dict[str, np.ndarray], settings: dict) -> Detections:
    """Turn one image's raw outputs into detections (with masks when prototypes are present)."""
    protos_name = role_name(outputs, settings, "prototypes", PROTOTYPES)
    protos = outputs[protos_name][0] if protos_name else None
    num_masks = protos.shape[0] if protos is not None else 0
    pred = output(outputs, settings, "detections", OUTPUTS["detections"])[0].T.astype(np.float32)
    num_classes = pred.shape[1] - 4 - num_masks
    class_scores = pred[:, 4 : 4 + num_classes]
    classes = class_scores.argmax(1)
    scores = class_scores[np.arange(len(pred)), classes]
    keep = scores > settings["conf_threshold"]
    xywh, coefs = pred[keep, :4], pred[keep, 4 + num_classes :]
    boxes = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
    height, width = settings.get("tensor_hw") or (settings["input_size"], settings["input_size"])
    boxes = np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
    order = batched_nms(boxes, scores[keep], classes[keep], settings["iou_threshold"])[
        : settings["max_detections"]
    ]
    masks = None
    if protos is not None:
        masks = _masks(coefs[order], protos, boxes[order], settings["mask_threshold"], height, width)
    return Detections(
        boxes=boxes[order],
        scores=scores[keep][order].astype(np.float32),
        classes=classes[keep][order].astype(np.int64),
        masks=masks,
    )


def _masks(coefs, protos, boxes, threshold, size_h, size_w) -> np.ndarray:
    """Combine prototypes, upsample bilinearly to the input size, crop to each box, threshold."""
    nm, h, w = protos.shape
    logits = (coefs @ protos.reshape(nm, -1)).reshape(-1, h, w)
    upsampled = _bilinear_matrix(size_h, h) @ logits @ _bilinear_matrix(size_w, w).T
    probability = 1 / (1 + np.exp(-upsampled))
    ys = np.arange(size_h)[None, :, None] + 0.5
    xs = np.arange(size_w)[None, None, :] + 0.5
    b = boxes[:, :, None, None]
    inside = (xs >= b[:, 0]) & (xs < b[:, 2]) & (ys >= b[:, 1]) & (ys < b[:, 3])
    return (probability > threshold) & inside


def evaluate(predictions: list[Detections], truths: list[GroundTruth] | None, settings: dict) -> dict:
    """Return detection metrics; without labels, only what needs none (counts and confidences)."""
    if truths is None:
        count = sum(len(p) for p in predictions)
        scores = np.concatenate([p.scores for p in predictions]) if count else np.zeros(0)
        return {
            "images": len(predictions),
            "detections_per_image": count / max(len(predictions), 1),
            "mean_confidence": float(scores.mean()) if count else None,
            "detection_rate": sum(len(p) > 0 for p in predictions) / max(len(predictions), 1),
        }
    if any(t.masks is None for t in truths):  # boxes-only labels: no mask metric
        predictions = [Detections(p.boxes, p.scores, p.classes, None) for p in predictions]
    return metrics.evaluate(predictions, truths)


def compare(reference: list[Detections], candidate: list[Detections], settings: dict) -> dict:
    """Return detection agreement: matches by class and IoU, confidence deltas, threshold flips."""
    return parity.compare_detections(
        reference,
        candidate,
        settings["match_iou"],
        settings["conf_threshold"],
        settings["near_threshold_band"],
    )
