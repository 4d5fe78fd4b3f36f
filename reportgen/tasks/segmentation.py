"""YOLO-style instance segmentation: pre-processing, decoding, NMS, masks (numpy only).

Every backend's raw outputs go through this same code, so differences in detections measure the
network, not two pipelines. Output layout as in Ultralytics' segmentation export:
``output0`` (1, 4 + nc + nm, A) with xywh boxes in input pixels and class scores, and
``output1`` (1, nm, H/4, W/4) mask prototypes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from reportgen.detections import Detections, batched_nms

OUTPUT_NAMES = ("output0", "output1")


def preprocess(image: np.ndarray, input_size: int) -> np.ndarray:
    """Return the (1, 3, S, S) float32 tensor in [0, 1] for an RGB uint8 image of size S."""
    if image.shape[:2] != (input_size, input_size):
        raise ValueError(
            f"image is {image.shape[1]}x{image.shape[0]}, the model expects {input_size}x{input_size}"
        )
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255)


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


def decode(
    output0: np.ndarray,
    output1: np.ndarray,
    num_classes: int,
    conf_threshold: float,
    iou_threshold: float,
    max_detections: int,
    mask_threshold: float,
) -> Detections:
    """Turn one image's raw outputs into detections with boxes, scores, classes and masks."""
    pred = output0[0].T.astype(np.float32)
    class_scores = pred[:, 4 : 4 + num_classes]
    classes = class_scores.argmax(1)
    scores = class_scores[np.arange(len(pred)), classes]
    keep = scores > conf_threshold
    xywh, coefs = pred[keep, :4], pred[keep, 4 + num_classes :]
    boxes = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
    protos = output1[0]
    size_h, size_w = protos.shape[1] * 4, protos.shape[2] * 4
    boxes = np.clip(boxes, 0, [size_w, size_h, size_w, size_h]).astype(np.float32)
    order = batched_nms(boxes, scores[keep], classes[keep], iou_threshold)[:max_detections]
    boxes, coefs = boxes[order], coefs[order]
    masks = _masks(coefs, protos, boxes, mask_threshold, size_h, size_w)
    return Detections(
        boxes=boxes,
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
