"""Detections and ground truth of one image as plain numpy arrays, with IoU, matching and NMS.

Numpy only: this module runs in processes that never load torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Float32 holds every integer up to 2**24 exactly, so a float32 matmul counts mask pixels exactly
# up to that many pixels per mask; larger masks fall back to float64.
_FLOAT32_EXACT_COUNT = 2**24


def _as_boxes(boxes: object) -> np.ndarray:
    """Return boxes as float32 (N, 4), refusing any other shape."""
    array = np.asarray(boxes, dtype=np.float32)
    if array.size == 0:
        return array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {array.shape}")
    return array


def _as_scores(scores: object) -> np.ndarray:
    """Return scores as float32 (N,)."""
    array = np.asarray(scores, dtype=np.float32)
    if array.ndim != 1:
        raise ValueError(f"scores must have shape (N,), got {array.shape}")
    return array


def _as_classes(classes: object) -> np.ndarray:
    """Return class ids as int64 (N,), refusing non-integral values."""
    array = np.asarray(classes)
    if array.ndim != 1:
        raise ValueError(f"classes must have shape (N,), got {array.shape}")
    as_int = array.astype(np.int64)
    # Exported graphs often emit class ids as floats; accept them only when they are whole numbers.
    if not np.array_equal(as_int, array):
        raise ValueError("classes must be integral")
    return as_int


def _as_masks(masks: object) -> np.ndarray | None:
    """Return masks as bool (N, H, W), or None."""
    if masks is None:
        return None
    array = np.asarray(masks)
    # Casting probabilities to bool would turn every non-zero pixel on; thresholding is the caller's call.
    if array.dtype != np.bool_:
        raise ValueError(f"masks must be boolean, got {array.dtype}")
    if array.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {array.shape}")
    return array


def _check_lengths(**arrays: np.ndarray | None) -> None:
    """Raise ValueError unless all given arrays have the same first dimension."""
    lengths = {name: len(array) for name, array in arrays.items() if array is not None}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"mismatched lengths: {lengths}")


@dataclass(frozen=True, eq=False)
class Detections:
    """Post-processed detections of one image: xyxy pixel boxes, scores, class ids, optional masks."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    masks: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Normalise dtypes and shapes once, at construction."""
        # A frozen dataclass refuses plain assignment, even in its own __post_init__.
        object.__setattr__(self, "boxes", _as_boxes(self.boxes))
        object.__setattr__(self, "scores", _as_scores(self.scores))
        object.__setattr__(self, "classes", _as_classes(self.classes))
        object.__setattr__(self, "masks", _as_masks(self.masks))
        _check_lengths(boxes=self.boxes, scores=self.scores, classes=self.classes, masks=self.masks)

    def __len__(self) -> int:
        """Return the number of detections."""
        return len(self.scores)

    @classmethod
    def empty(
        cls, height: int | None = None, width: int | None = None, with_masks: bool = False
    ) -> Detections:
        """Return zero detections, with (0, H, W) masks when with_masks is set."""
        return cls(
            np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), _empty_masks(height, width, with_masks)
        )


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """Ground-truth objects of one image: xyxy pixel boxes, class ids, optional masks."""

    boxes: np.ndarray
    classes: np.ndarray
    masks: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Normalise dtypes and shapes once, at construction."""
        object.__setattr__(self, "boxes", _as_boxes(self.boxes))
        object.__setattr__(self, "classes", _as_classes(self.classes))
        object.__setattr__(self, "masks", _as_masks(self.masks))
        _check_lengths(boxes=self.boxes, classes=self.classes, masks=self.masks)

    def __len__(self) -> int:
        """Return the number of objects."""
        return len(self.classes)

    @classmethod
    def empty(
        cls, height: int | None = None, width: int | None = None, with_masks: bool = False
    ) -> GroundTruth:
        """Return zero objects, with (0, H, W) masks when with_masks is set."""
        return cls(np.zeros((0, 4)), np.zeros(0, np.int64), _empty_masks(height, width, with_masks))


def _empty_masks(height: int | None, width: int | None, with_masks: bool) -> np.ndarray | None:
    """Return a (0, H, W) bool array, or None when masks are not wanted."""
    if not with_masks:
        return None
    if height is None or width is None:
        raise ValueError("empty masks need a height and a width")
    return np.zeros((0, height, width), dtype=bool)


def _area(boxes: np.ndarray) -> np.ndarray:
    """Return the area of xyxy boxes; inverted boxes have area 0."""
    sides = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None)
    return sides[:, 0] * sides[:, 1]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the (N, M) IoU of xyxy boxes a (N, 4) and b (M, 4), 0 where the union is empty."""
    # float64 so that IoUs of hand-made boxes land exactly on thresholds such as 0.6.
    a = _as_boxes(a).astype(np.float64)
    b = _as_boxes(b).astype(np.float64)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def mask_iou(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    """Return the (N, M) IoU of bool masks a (N, H, W) and b (M, H, W), 0 where the union is empty."""
    a, b = _as_masks(a), _as_masks(b)
    if a is None or b is None:
        raise ValueError("mask IoU needs masks on both sides")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"mask sizes differ: {a.shape[1:]} vs {b.shape[1:]}")
    flat_a = a.reshape(len(a), -1)
    flat_b = b.reshape(len(b), -1)
    dtype = np.float32 if flat_a.shape[1] <= _FLOAT32_EXACT_COUNT else np.float64
    # One BLAS matmul of 0/1 rows counts every pairwise intersection at once.
    inter = (flat_a.astype(dtype) @ flat_b.astype(dtype).T).astype(np.float64)
    union = flat_a.sum(axis=1)[:, None] + flat_b.sum(axis=1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def greedy_match(ious: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Return (K, 2) row/column pairs: rows by score desc take the free column of highest IoU >= threshold."""
    ious = np.asarray(ious, dtype=np.float64)
    taken = np.zeros(ious.shape[1], dtype=bool)
    pairs = []
    if ious.shape[1]:
        # A stable sort breaks score ties by index, so matching never depends on sort internals.
        for row in np.argsort(-np.asarray(scores), kind="stable"):
            free = np.where(taken, -np.inf, ious[row])
            column = int(np.argmax(free))
            if free[column] >= iou_threshold:
                taken[column] = True
                pairs.append((int(row), column))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def class_aware_iou(iou: np.ndarray, row_classes: np.ndarray, column_classes: np.ndarray) -> np.ndarray:
    """Return iou with pairs of different classes set to -1, so that they never match."""
    same_class = np.asarray(row_classes)[:, None] == np.asarray(column_classes)[None, :]
    return np.where(same_class, iou, -1.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Return the int64 indices kept by greedy NMS, highest score first; IoU > threshold suppresses."""
    boxes, scores = _as_boxes(boxes), _as_scores(scores)
    _check_lengths(boxes=boxes, scores=scores)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        order = rest[box_iou(boxes[best : best + 1], boxes[rest])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """Return the int64 indices kept by NMS run per class, highest score first (ties by index)."""
    boxes, scores, classes = _as_boxes(boxes), _as_scores(scores), _as_classes(classes)
    _check_lengths(boxes=boxes, scores=scores, classes=classes)
    # A per-class loop instead of torchvision's coordinate offset: offsets cost float32 precision.
    kept = [np.zeros(0, dtype=np.int64)]
    for label in np.unique(classes):
        members = np.flatnonzero(classes == label)
        kept.append(members[nms(boxes[members], scores[members], iou_threshold)])
    keep = np.concatenate(kept)
    return keep[np.lexsort((keep, -scores[keep]))]
