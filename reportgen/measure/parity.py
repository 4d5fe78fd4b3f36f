"""Agreement of a candidate backend with the reference backend: raw outputs and detections.

Numpy only: this module runs in processes that never load torch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

from reportgen.measure.detections import Detections, box_iou, class_aware_iou, greedy_match

# Scores are float32 (about 7 significant digits), so a score printed as 0.26 may sit a few ulps
# outside a band of 0.01 around 0.25; this slack keeps such a score inside the band.
_BAND_SLACK = 1e-6


def _empty_output_entry(shape_mismatch: str | None) -> dict:
    """Return the entry of an output whose values could not be compared."""
    return {
        "max_abs_diff": None,
        "max_rel_diff": None,
        "mean_abs_diff": None,
        "cosine_min": None,
        "allclose": False,
        "worst_index": None,
        "shape_mismatch": shape_mismatch,
        "nonfinite_reference": None,
        "nonfinite_candidate": None,
    }


def _cosine_min(reference: np.ndarray, candidate: np.ndarray) -> float | None:
    """Return the minimum over images (first axis) of the cosine similarity of flattened outputs."""
    images = 1 if reference.ndim == 0 else reference.shape[0]
    if images == 0:
        return None
    ref = reference.reshape(images, -1)
    cand = candidate.reshape(images, -1)
    norms = np.linalg.norm(ref, axis=1) * np.linalg.norm(cand, axis=1)
    # Two all-zero outputs agree perfectly; one all-zero output against a non-zero one does not.
    both_zero = ~ref.any(axis=1) & ~cand.any(axis=1)
    cosine = np.divide(
        np.einsum("ij,ij->i", ref, cand), norms, out=np.where(both_zero, 1.0, 0.0), where=norms > 0
    )
    return float(np.clip(cosine, -1.0, 1.0).min())


def _max_rel_diff(
    diff: np.ndarray, reference: np.ndarray, usable: np.ndarray, rel_floor: float
) -> float | None:
    """Return max |c - r| / |r| over usable elements with |r| >= rel_floor, or None if there are none."""
    # Near zero, |c - r| / |r| explodes on noise that no one cares about; the floor excludes it.
    selected = usable & (np.abs(reference) >= rel_floor)
    if not selected.any():
        return None
    return float((diff[selected] / np.abs(reference[selected])).max())


def _compare_output(
    reference: np.ndarray, candidate: np.ndarray, atol: float, rtol: float, rel_floor: float
) -> dict:
    """Return the difference statistics of one named output."""
    reference = np.asarray(reference, dtype=np.float64)
    candidate = np.asarray(candidate, dtype=np.float64)
    if reference.shape != candidate.shape:
        return _empty_output_entry(f"reference {list(reference.shape)} vs candidate {list(candidate.shape)}")
    usable = np.isfinite(reference) & np.isfinite(candidate)
    # Statistics cover finite pairs only, so one NaN cannot hide every other difference; the NaN itself
    # shows in the nonfinite counts and in allclose.
    ref = np.where(usable, reference, 0.0)
    cand = np.where(usable, candidate, 0.0)
    diff = np.abs(cand - ref)
    entry = _empty_output_entry(None)
    entry["nonfinite_reference"] = int(reference.size - np.count_nonzero(np.isfinite(reference)))
    entry["nonfinite_candidate"] = int(candidate.size - np.count_nonzero(np.isfinite(candidate)))
    entry["allclose"] = bool(usable.all() and np.all(diff <= atol + rtol * np.abs(ref)))
    entry["cosine_min"] = _cosine_min(ref, cand)
    if usable.any():
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
        entry["worst_index"] = [int(i) for i in worst]
        entry["max_abs_diff"] = float(diff[worst])
        entry["mean_abs_diff"] = float(diff[usable].mean())
        entry["max_rel_diff"] = _max_rel_diff(diff, ref, usable, rel_floor)
    return entry


def _extreme(values: list[float | None], pick: Callable[[list[float]], float]) -> float | None:
    """Return max or min of the values that are not None, or None when all are."""
    present = [value for value in values if value is not None]
    return pick(present) if present else None


def compare_outputs(
    reference: Mapping[str, np.ndarray],
    candidate: Mapping[str, np.ndarray],
    atol: float,
    rtol: float,
    rel_floor: float,
    judged: Collection[str] | None = None,
) -> dict:
    """Return per-output and overall differences of raw outputs stacked over images (axis 0).

    Every output gets its entry; the overall figures and the verdict (``allclose``) cover the
    ``judged`` ones only (None: all), so an output shown for information (``model.outputs``:
    ``shown``, e.g. a transformer's last_hidden_state) never fails parity.
    """
    if not reference:
        raise ValueError("no reference outputs to compare")
    outputs = {}
    for name in sorted(set(reference) | set(candidate)):
        if name not in candidate:
            outputs[name] = _empty_output_entry("missing in candidate")
        elif name not in reference:
            outputs[name] = _empty_output_entry("missing in reference")
        else:
            outputs[name] = _compare_output(reference[name], candidate[name], atol, rtol, rel_floor)
    entries = [e for name, e in outputs.items() if judged is None or name in judged]
    return {
        "outputs": outputs,
        "max_abs_diff": _extreme([e["max_abs_diff"] for e in entries], max),
        "max_rel_diff": _extreme([e["max_rel_diff"] for e in entries], max),
        "cosine_min": _extreme([e["cosine_min"] for e in entries], min),
        "allclose": all(e["allclose"] for e in entries),
    }


def _paired_mask_iou(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Return the IoU of each reference mask with the candidate mask at the same position."""
    inter = np.logical_and(reference, candidate).sum(axis=(1, 2))
    union = np.logical_or(reference, candidate).sum(axis=(1, 2))
    return np.divide(inter, union, out=np.zeros(len(inter)), where=union > 0)


def _near(scores: np.ndarray, conf_threshold: float, near_band: float) -> int:
    """Return how many scores lie within near_band of conf_threshold."""
    distance = np.abs(scores.astype(np.float64) - conf_threshold)
    return int(np.count_nonzero(distance <= near_band + _BAND_SLACK))


def match_detections(reference: Detections, candidate: Detections, match_iou: float) -> np.ndarray:
    """Return the (K, 2) int64 pairs (reference index, candidate index) of one image's matches.

    The one matching of detections (parity and the report's example pictures use it): reference
    detections by score, highest first (ties by index), each take the free candidate detection of the
    same class with the highest box IoU >= match_iou (ties: the first such candidate)."""
    ious = class_aware_iou(box_iou(reference.boxes, candidate.boxes), reference.classes, candidate.classes)
    return greedy_match(ious, reference.scores, match_iou)


def _match_image(reference: Detections, candidate: Detections, match_iou: float) -> dict:
    """Return the matched pairs and the unmatched detections of one image."""
    pairs = match_detections(reference, candidate, match_iou)
    ref_rows, cand_rows = pairs[:, 0], pairs[:, 1]
    deltas = np.abs(candidate.scores[cand_rows].astype(np.float64) - reference.scores[ref_rows])
    mask_ious = np.zeros(0)
    if reference.masks is not None and candidate.masks is not None:
        mask_ious = _paired_mask_iou(reference.masks[ref_rows], candidate.masks[cand_rows])
    return {
        "deltas": deltas,
        "mask_ious": mask_ious,
        "unmatched_reference": np.delete(reference.scores, ref_rows),
        "unmatched_candidate": np.delete(candidate.scores, cand_rows),
    }


def _round7(value: float) -> float:
    """Return value rounded to 7 significant digits, so that float32 noise does not churn JSON diffs."""
    return float(f"{value:.7g}")


def compare_detections(
    reference: Sequence[Detections],
    candidate: Sequence[Detections],
    match_iou: float,
    conf_threshold: float,
    near_band: float,
) -> dict:
    """Return how well candidate detections match reference ones, image by image."""
    if len(reference) != len(candidate):
        raise ValueError(f"{len(reference)} reference images for {len(candidate)} candidate images")
    images = [_match_image(r, c, match_iou) for r, c in zip(reference, candidate, strict=True)]
    deltas = np.concatenate([np.zeros(0)] + [image["deltas"] for image in images])
    mask_ious = np.concatenate([np.zeros(0)] + [image["mask_ious"] for image in images])
    unmatched = [np.concatenate([i["unmatched_reference"], i["unmatched_candidate"]]) for i in images]
    counts = [len(scores) for scores in unmatched]
    total = max(sum(len(r) for r in reference), sum(len(c) for c in candidate))
    return {
        "detection_match_rate": float(len(deltas) / total) if total else 1.0,
        "matched": len(deltas),
        "unmatched_reference": sum(len(i["unmatched_reference"]) for i in images),
        "unmatched_candidate": sum(len(i["unmatched_candidate"]) for i in images),
        "mean_abs_confidence_delta": float(deltas.mean()) if len(deltas) else None,
        "abs_confidence_deltas": [_round7(delta) for delta in deltas],
        "mask_iou_mean": float(mask_ious.mean()) if len(mask_ious) else None,
        "near_threshold": sum(_near(r.scores, conf_threshold, near_band) for r in reference),
        "unmatched_near_threshold": sum(_near(scores, conf_threshold, near_band) for scores in unmatched),
        "disagreeing_images": sorted((i for i, n in enumerate(counts) if n), key=lambda i: (-counts[i], i)),
    }
