"""Any tensors in, any tensors out: parity and speed only, no decoding, no metrics (numpy only)."""

from __future__ import annotations

import numpy as np

from reportgen.measure.tasks import yolo

OUTPUTS: dict = {}  # no role: every output is compared as it is


def prepare(image: np.ndarray, size: int) -> tuple[np.ndarray, dict]:
    """Letterbox images (when a folder feeds a raw model) like the detection task."""
    return yolo.prepare(image, size)


def prepare_truth(truth, meta: dict, size: int):
    return None


def to_tensor(prepared: np.ndarray, settings: dict) -> np.ndarray:
    """Scale an image to [0, 1], channels first."""
    return yolo.to_tensor(prepared, settings)


def decode(outputs: dict[str, np.ndarray], settings: dict) -> None:
    """Raw outputs are compared as they are."""
    return None


def evaluate(predictions: list, truths, settings: dict) -> dict:
    return {"images": len(predictions)}


def compare(reference: list, candidate: list, settings: dict) -> dict:
    return {"disagreeing_images": []}
