"""Tests of raw-output and detection parity, on perturbations with known answers."""

import json

import numpy as np
import pytest

from reportgen.measure.detections import Detections
from reportgen.measure.parity import compare_detections, compare_outputs

BOX = [0, 0, 10, 10]
FAR = [50, 50, 60, 60]


def dets(boxes, scores, classes, masks=None):
    return Detections(np.array(boxes, dtype=float).reshape(-1, 4), scores, classes, masks)


def perturbed_pair():
    """Return a (2 images, 3 values) reference and a candidate with three known perturbations."""
    reference = np.array([[0.0, 2.0, 4.0], [1.0, 1e-9, 3.0]])
    candidate = reference.copy()
    candidate[0, 0] += 1e-3  # 0 + 1e-3: the difference is exactly 1e-3, but |r| = 0 < rel_floor
    candidate[1, 1] += 1e-7  # relative error 100 on a near-zero element: excluded from max_rel_diff
    candidate[1, 2] += 3e-4  # relative error 1e-4: the largest one that counts
    return reference, candidate


def test_known_perturbation():
    reference, candidate = perturbed_pair()
    result = compare_outputs({"y": reference}, {"y": candidate}, atol=1e-4, rtol=0.0, rel_floor=1e-6)
    entry = result["outputs"]["y"]
    assert entry["max_abs_diff"] == 1e-3
    assert entry["worst_index"] == [0, 0]
    assert entry["max_rel_diff"] == pytest.approx(1e-4)
    assert entry["mean_abs_diff"] == pytest.approx((1e-3 + 1e-7 + 3e-4) / 6)
    # Image 0: r = [0, 2, 4], c = [1e-3, 2, 4]: cos = 20 / sqrt(20 * 20.000001). Image 1 is closer.
    assert entry["cosine_min"] == pytest.approx(20 / np.sqrt(20 * 20.000001), rel=1e-12)
    assert entry["allclose"] is False
    assert entry["shape_mismatch"] is None
    assert entry["nonfinite_candidate"] == 0
    assert result["max_abs_diff"] == 1e-3
    assert result["max_rel_diff"] == pytest.approx(1e-4)
    assert result["allclose"] is False


def test_allclose_follows_numpy_semantics():
    reference, candidate = perturbed_pair()
    for atol, rtol in [(1e-4, 0.0), (1e-3, 0.0), (2e-3, 0.0), (0.0, 1e-3), (1e-3, 1e-5)]:
        result = compare_outputs({"y": reference}, {"y": candidate}, atol=atol, rtol=rtol, rel_floor=1e-6)
        assert result["allclose"] is bool(np.allclose(candidate, reference, rtol=rtol, atol=atol))
    assert compare_outputs({"y": reference}, {"y": candidate}, 2e-3, 0.0, 1e-6)["allclose"] is True


def test_relative_error_is_none_when_every_reference_element_is_near_zero():
    result = compare_outputs({"y": np.zeros((2, 2))}, {"y": np.full((2, 2), 1e-5)}, 1e-4, 0.0, 1e-3)
    assert result["outputs"]["y"]["max_rel_diff"] is None
    assert result["max_rel_diff"] is None
    assert result["outputs"]["y"]["allclose"] is True
    # Two all-zero images against non-zero ones: the cosine is 0, not NaN.
    assert result["cosine_min"] == 0.0


def test_cosine_of_a_sign_flip_and_of_zeros():
    reference = np.array([[1.0, 2.0], [0.0, 0.0]])
    result = compare_outputs({"y": reference}, {"y": -reference}, 1e-4, 0.0, 1e-6)
    assert result["cosine_min"] == pytest.approx(-1.0)  # image 1: two zero vectors agree (1.0)
    zeros = compare_outputs({"y": np.zeros((1, 3))}, {"y": np.zeros((1, 3))}, 1e-4, 0.0, 1e-6)
    assert zeros["cosine_min"] == 1.0
    assert zeros["max_abs_diff"] == 0.0


def test_shape_mismatch_is_reported_not_raised():
    reference = {"boxes": np.zeros((2, 4)), "scores": np.ones((2, 3))}
    candidate = {"boxes": np.zeros((2, 5)), "scores": np.ones((2, 3)) + 0.5}
    result = compare_outputs(reference, candidate, 1e-4, 0.0, 1e-6)
    boxes = result["outputs"]["boxes"]
    assert boxes["shape_mismatch"] == "reference [2, 4] vs candidate [2, 5]"
    assert boxes["allclose"] is False
    assert boxes["max_abs_diff"] is None
    assert result["allclose"] is False
    assert result["max_abs_diff"] == 0.5  # from the output that could be compared
    assert result["max_rel_diff"] == 0.5


def test_missing_outputs_are_reported():
    result = compare_outputs(
        {"a": np.zeros(2), "b": np.zeros(2)}, {"a": np.zeros(2), "c": np.zeros(2)}, 1, 0, 1
    )
    assert result["outputs"]["b"]["shape_mismatch"] == "missing in candidate"
    assert result["outputs"]["c"]["shape_mismatch"] == "missing in reference"
    assert result["outputs"]["a"]["allclose"] is True
    assert result["allclose"] is False


def test_nan_in_candidate_fails_allclose_but_keeps_finite_statistics():
    reference = np.array([[1.0, 2.0, 3.0]])
    candidate = np.array([[1.5, np.nan, np.inf]])
    entry = compare_outputs({"y": reference}, {"y": candidate}, 10.0, 0.0, 1e-6)["outputs"]["y"]
    assert entry["allclose"] is False
    assert entry["nonfinite_candidate"] == 2
    assert entry["nonfinite_reference"] == 0
    assert entry["max_abs_diff"] == 0.5
    assert entry["worst_index"] == [0, 0]
    assert entry["mean_abs_diff"] == 0.5


def test_float32_outputs_and_json():
    reference = np.ones((2, 3), np.float32)
    result = compare_outputs({"y": reference}, {"y": reference}, 1e-4, 0.0, 1e-6)
    assert result["allclose"] is True
    assert json.loads(json.dumps(result)) == result


def test_no_reference_outputs_is_an_error():
    with pytest.raises(ValueError, match="no reference outputs"):
        compare_outputs({}, {}, 1e-4, 0.0, 1e-6)


def compare(reference, candidate, near_band=0.02):
    return compare_detections(reference, candidate, match_iou=0.5, conf_threshold=0.25, near_band=near_band)


def test_identical_detections_match_fully():
    image = dets([BOX, FAR], [0.75, 0.5], [0, 1])
    result = compare([image], [image])
    assert result["detection_match_rate"] == 1.0
    assert result["matched"] == 2
    assert result["mean_abs_confidence_delta"] == 0.0
    assert result["abs_confidence_deltas"] == [0.0, 0.0]
    assert result["disagreeing_images"] == []
    assert result["mask_iou_mean"] is None


def test_class_mismatch_does_not_match():
    result = compare([dets([BOX], [0.75], [0])], [dets([BOX], [0.75], [1])])
    assert result["matched"] == 0
    assert result["unmatched_reference"] == 1
    assert result["unmatched_candidate"] == 1
    assert result["detection_match_rate"] == 0.0
    assert result["mean_abs_confidence_delta"] is None
    assert result["abs_confidence_deltas"] == []
    assert result["disagreeing_images"] == [0]


def test_threshold_flip_is_explained():
    # The reference keeps a 0.26 detection that the candidate, scoring it just under 0.25, dropped.
    # 0.75 -> 0.625 and the rest are exact in float32, so the delta is exactly 0.125.
    reference = dets([BOX, FAR, [100, 100, 110, 110]], [0.75, 0.26, 0.9], [0, 0, 1])
    candidate = dets([[0, 0, 10, 11], [100, 100, 110, 110]], [0.625, 0.9], [0, 1])
    result = compare([reference], [candidate], near_band=0.01)
    assert result["matched"] == 2
    assert result["unmatched_reference"] == 1
    assert result["unmatched_candidate"] == 0
    assert result["detection_match_rate"] == pytest.approx(2 / 3)
    # Matched in reference score order: 0.9 (delta 0), then 0.75 (delta 0.125).
    assert result["abs_confidence_deltas"] == [0.0, 0.125]
    assert result["mean_abs_confidence_delta"] == 0.0625
    assert result["near_threshold"] == 1
    assert result["unmatched_near_threshold"] == 1
    assert result["disagreeing_images"] == [0]


def test_a_candidate_detection_is_used_once():
    # Two reference boxes on one candidate box: the higher-scored reference takes it.
    reference = dets([BOX, [0, 0, 10, 9]], [0.5, 0.75], [0, 0])
    result = compare([reference], [dets([BOX], [0.5], [0])])
    assert result["matched"] == 1
    assert result["abs_confidence_deltas"] == [0.25]
    assert result["unmatched_reference"] == 1


def test_deltas_are_rounded_to_seven_significant_digits():
    result = compare([dets([BOX], [0.9], [0])], [dets([BOX], [0.8], [0])])
    # float32(0.9) - float32(0.8) = 0.0999999642372131..., kept as 0.09999996.
    assert result["abs_confidence_deltas"] == [0.09999996]


def test_mask_iou_of_matched_pairs():
    reference_masks = np.zeros((2, 1, 10), bool)
    reference_masks[:, 0, :10] = True
    candidate_masks = np.zeros((2, 1, 10), bool)
    candidate_masks[0, 0, :6] = True  # IoU 0.6
    candidate_masks[1, 0, :10] = True  # IoU 1.0
    reference = dets([BOX, FAR], [0.75, 0.5], [0, 0], reference_masks)
    candidate = dets([BOX, FAR], [0.75, 0.5], [0, 0], candidate_masks)
    assert compare([reference], [candidate])["mask_iou_mean"] == pytest.approx(0.8)


def test_disagreeing_images_order_by_unmatched_count_then_index():
    one = dets([BOX], [0.75], [0])
    two = dets([BOX, FAR], [0.75, 0.5], [0, 0])
    empty = Detections.empty()
    # Unmatched per image: 1, 0, 2, 1.
    result = compare([one, one, two, empty], [empty, one, empty, one])
    assert result["disagreeing_images"] == [2, 0, 3]
    assert result["matched"] == 1
    assert result["unmatched_reference"] == 3
    assert result["unmatched_candidate"] == 1
    assert result["detection_match_rate"] == pytest.approx(1 / 4)


def test_empty_inputs():
    for reference, candidate in [([], []), ([Detections.empty()], [Detections.empty()])]:
        result = compare(reference, candidate)
        assert result["detection_match_rate"] == 1.0
        assert result["matched"] == 0
        assert result["mean_abs_confidence_delta"] is None
        assert result["mask_iou_mean"] is None
        assert result["near_threshold"] == 0
        assert result["disagreeing_images"] == []
        assert json.loads(json.dumps(result)) == result


def test_mismatched_image_counts_are_refused():
    with pytest.raises(ValueError, match="1 reference images for 0 candidate images"):
        compare([Detections.empty()], [])


def test_near_band_tolerates_float32_rounding():
    # float32(0.3) is 0.30000001..., a hair over 0.05 from 0.25; a score shown as 0.3 is inside the band.
    result = compare([dets([BOX], [0.3], [0])], [Detections.empty()], near_band=0.05)
    assert result["near_threshold"] == 1
    assert result["unmatched_near_threshold"] == 1
    assert compare([dets([BOX], [0.31], [0])], [Detections.empty()], near_band=0.05)["near_threshold"] == 0
