"""Semantic segmentation (SegFormer, DeepLab, U-Net style): one class per pixel, numpy only.

The model's ``logits`` are (1, classes, h, w) at any stride (SegFormer answers at 1/4 of the input);
they are upsampled bilinearly to the input, as Hugging Face's post-processing does, and each pixel
takes its best class. Ground truth is a mask of class ids per image (PNG label masks; 255 = ignored, as
in ADE20K and Cityscapes). Two backends agree on a pixel when they give it the same class.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from reportgen.measure.tasks import classification, output, yolo

OUTPUTS = {"logits": ("logits", "output0")}
IGNORE = 255  # the label of pixels no class is scored on


def prepare(image: np.ndarray, size: int) -> tuple[np.ndarray, dict]:
    """Resize to size x size (Hugging Face's segmentation processors resize without a letterbox)."""
    h, w = image.shape[:2]
    return (image if (h, w) == (size, size) else yolo.resize_bilinear(image, size, size)), {}


def prepare_truth(truth: np.ndarray | None, meta: dict, size: int) -> np.ndarray | None:
    """Resize a class-id mask to the input with nearest neighbours (class ids must not be blended)."""
    if truth is None or truth.shape == (size, size):
        return truth
    return np.asarray(Image.fromarray(truth).resize((size, size), Image.Resampling.NEAREST))


def to_tensor(prepared: np.ndarray, settings: dict) -> np.ndarray:
    """Scale to [0, 1] and normalize with the configured mean and std (ImageNet's by default)."""
    return classification.to_tensor(prepared, settings)


def decode(outputs: dict[str, np.ndarray], settings: dict) -> np.ndarray:
    """Return the (S, S) class map: logits upsampled to the input, best class per pixel."""
    logits = output(outputs, settings, "logits", OUTPUTS["logits"])[0].astype(np.float32)
    classes, h, w = logits.shape
    size = settings["input_size"]
    if (h, w) != (size, size):
        rows, cols = yolo._bilinear_matrix(size, h), yolo._bilinear_matrix(size, w)
        logits = np.einsum("yh,chw,xw->cyx", rows, logits, cols, optimize=True)
    return logits.argmax(0).astype(np.uint8 if classes <= IGNORE else np.int32)


def _confusion(predictions: list[np.ndarray], truths: list[np.ndarray], classes: int) -> np.ndarray:
    """Return the (truth, prediction) pixel-count matrix over all images, ignored pixels left out."""
    counts = np.zeros((classes, classes), np.int64)
    for prediction, truth in zip(predictions, truths):
        scored = (truth != IGNORE) & (truth < classes)
        pairs = truth[scored].astype(np.int64) * classes + prediction[scored]
        counts += np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)
    return counts


def _ious(confusion: np.ndarray) -> list[float | None]:
    """Return each class's IoU; None for a class neither predicted nor present."""
    hit = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - hit
    return [float(h / u) if u else None for h, u in zip(hit, union)]


def _classes(predictions: list[np.ndarray], truths: list[np.ndarray] | None, settings: dict) -> int:
    """Return the number of classes: the logits' channels, or past the largest id seen."""
    seen = [int(p.max()) for p in predictions] + [int(t[t != IGNORE].max(initial=0)) for t in truths or []]
    return max([settings.get("num_classes") or 0, *seen]) + 1


def evaluate(predictions: list[np.ndarray], truths: list[np.ndarray] | None, settings: dict) -> dict:
    """Return mIoU, per-class IoU and pixel accuracy against the label masks (class shares without)."""
    classes = _classes(predictions, truths, settings)
    out: dict = {"images": len(predictions)}
    if truths is None:
        counts = np.sum([np.bincount(p.ravel(), minlength=classes) for p in predictions], axis=0)
        out["class_pixel_share"] = [float(c) for c in counts / max(counts.sum(), 1)]
        return out
    confusion = _confusion(predictions, truths, classes)
    ious = _ious(confusion)
    present = [iou for iou in ious if iou is not None]
    out["miou"] = float(np.mean(present)) if present else None
    out["per_class_iou"] = ious
    out["pixel_accuracy"] = float(np.trace(confusion) / confusion.sum()) if confusion.sum() else None
    return out


def compare(reference: list[np.ndarray], candidate: list[np.ndarray], settings: dict) -> dict:
    """Return per-pixel class agreement, the share of pixels that change class, and where (per image,
    and the mIoU of the candidate against the reference's classes)."""
    changed = [float((r != c).mean()) for r, c in zip(reference, candidate)]
    classes = _classes(reference + candidate, None, settings)
    agreement_ious = [iou for iou in _ious(_confusion(candidate, reference, classes)) if iou is not None]
    return {
        "pixel_agreement": 1.0 - float(np.mean(changed)) if changed else None,
        "changed_pixel_share": float(np.mean(changed)) if changed else None,
        "changed_pixel_share_per_image": changed,
        "miou_vs_reference": float(np.mean(agreement_ious)) if agreement_ious else None,
        "disagreeing_images": sorted((i for i, s in enumerate(changed) if s), key=lambda i: (-changed[i], i)),
    }
