"""Image classification: resize and centre-crop, normalize, softmax; top-1 / top-5 (numpy only)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from reportgen.measure.tasks import role_name

OUTPUTS: dict = {}  # any model with an output classifies: the logits are the first one unless named
LOGITS = ("output0", "logits")
RESIZE_RATIO = 0.875  # resize the short side to size / 0.875, then centre-crop: torchvision's recipe


def prepare(
    image: np.ndarray, size: int, short: int | None = None, squash: bool = False, resample: int = 2
) -> tuple[np.ndarray, dict]:
    """Resize the short side to ``short`` (default size/0.875) and crop the centre size x size (the usual
    eval transform); ``squash``: resize straight to size x size (a ViT image processor's way).
    ``resample`` is PIL's filter number (2 bilinear, 3 bicubic), as image processors store it."""
    if squash:
        return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling(resample))), {}
    h, w = image.shape[:2]
    short = short or round(size / RESIZE_RATIO)
    scale = short / min(h, w)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling(resample)))
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return np.ascontiguousarray(resized[top : top + size, left : left + size]), {}


def prepare_truth(truth, meta: dict, size: int):
    """A class label does not move with the image."""
    return truth


def to_tensor(prepared: np.ndarray, settings: dict) -> np.ndarray:
    """Scale to [0, 1] and normalize per channel with the configured mean and std."""
    x = prepared.astype(np.float32) / np.float32(255)
    x = (x - np.asarray(settings["mean"], np.float32)) / np.asarray(settings["std"], np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def decode(outputs: dict[str, np.ndarray], settings: dict) -> np.ndarray:
    """Return class probabilities: the softmax of the logits (model.outputs' ``logits``, else ``output0``
    or ``logits``, else the first output)."""
    name = role_name(outputs, settings, "logits", LOGITS) or next(iter(outputs))
    logits = outputs[name].reshape(-1).astype(np.float64)
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _top(probabilities: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-probabilities, kind="stable")[:k]


def evaluate(predictions: list[np.ndarray], truths: list[int] | None, settings: dict) -> dict:
    """Return the class count, mean top-1 confidence, and top-1 / top-5 accuracy when labels exist
    (the page shows top-5 only with more than 5 classes: with fewer it is 100% by construction)."""
    out = {
        "images": len(predictions),
        "classes": len(predictions[0]) if predictions else 0,
        "mean_confidence": float(np.mean([p.max() for p in predictions])) if predictions else None,
    }
    if truths is not None:
        out["top1_accuracy"] = float(np.mean([_top(p, 1)[0] == t for p, t in zip(predictions, truths)]))
        out["top5_accuracy"] = float(np.mean([t in _top(p, 5) for p, t in zip(predictions, truths)]))
    return out


def compare(reference: list[np.ndarray], candidate: list[np.ndarray], settings: dict) -> dict:
    """Return top-1 agreement, top-5 overlap and the largest probability change."""
    top1 = [_top(r, 1)[0] == _top(c, 1)[0] for r, c in zip(reference, candidate)]
    top5 = [len(set(_top(r, 5)) & set(_top(c, 5))) / min(5, len(r)) for r, c in zip(reference, candidate)]
    return {
        "top1_agreement": float(np.mean(top1)),
        "top5_overlap": float(np.mean(top5)),
        "max_abs_probability_delta": float(max(np.abs(r - c).max() for r, c in zip(reference, candidate))),
        "disagreeing_images": [i for i, same in enumerate(top1) if not same],
    }
