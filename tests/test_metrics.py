"""Tests of COCO-style AP, precision and recall, on cases whose answers are computed by hand."""

import json

import numpy as np
import pytest

from reportgen.measure.detections import Detections, GroundTruth
from reportgen.measure.metrics import IOU_THRESHOLDS, average_precision, evaluate

BOX = [0, 0, 10, 10]
FAR = [50, 50, 60, 60]
KEYS = {
    "detections_per_image",
    "mean_confidence",
    "detection_rate",
    "precision",
    "recall",
    "map50",
    "map50_95",
    "mask_map50",
    "images",
    "ground_truth_objects",
}


def dets(boxes, scores, classes, masks=None):
    return Detections(np.array(boxes, dtype=float).reshape(-1, 4), scores, classes, masks)


def truth(boxes, classes, masks=None):
    return GroundTruth(np.array(boxes, dtype=float).reshape(-1, 4), classes, masks)


def row_mask(width, on):
    """Return a (1, 1, width) mask with the first `on` pixels set."""
    mask = np.zeros((1, 1, width), bool)
    mask[0, 0, :on] = True
    return mask


def test_iou_thresholds_are_the_stated_values():
    assert IOU_THRESHOLDS.tolist() == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]


def test_perfect_predictions_score_one():
    boxes = [BOX, FAR]
    masks = np.stack([row_mask(8, 3)[0], row_mask(8, 6)[0]])
    result = evaluate([dets(boxes, [0.9, 0.8], [0, 1], masks)], [truth(boxes, [0, 1], masks)])
    assert set(result) == KEYS
    assert result["map50"] == 1.0
    assert result["map50_95"] == 1.0
    assert result["mask_map50"] == 1.0
    assert result["precision"] == 1.0
    assert result["recall"] == 1.0
    assert result["mean_confidence"] == pytest.approx(0.85)
    assert result["detections_per_image"] == 2.0
    assert result["detection_rate"] == 1.0
    assert result["images"] == 1
    assert result["ground_truth_objects"] == 2
    assert result["mask_map50"] is not None


def test_iou_of_0_6_passes_three_of_ten_thresholds():
    # IoU of [0, 0, 6, 10] with [0, 0, 10, 10] is 60 / 100 = 0.6: it passes 0.50, 0.55 and 0.60,
    # where AP is 1, and fails the 7 others, where AP is 0: map50_95 = 3 / 10.
    result = evaluate([dets([[0, 0, 6, 10]], [0.9], [0])], [truth([BOX], [0])])
    assert result["map50"] == 1.0
    assert result["map50_95"] == pytest.approx(0.3)
    assert result["mask_map50"] is None


def test_false_positive_ranked_above_true_positive():
    # Ranked: FP (0.9), TP (0.8). Recall [0, 1], precision [0, 0.5]; the envelope is 0.5 everywhere,
    # so all 101 recall points sample 0.5: AP = 0.5.
    result = evaluate([dets([FAR, BOX], [0.9, 0.8], [0, 0])], [truth([BOX], [0])])
    assert result["map50"] == pytest.approx(0.5)
    assert result["map50_95"] == pytest.approx(0.5)
    assert result["precision"] == pytest.approx(0.5)
    assert result["recall"] == 1.0


def test_tp_fp_tp_over_two_ground_truths():
    # Ranked: TP (0.9), FP (0.8), TP (0.7). Recall [0.5, 0.5, 1], precision [1, 0.5, 2/3],
    # envelope [1, 2/3, 2/3]. Recall points 0.00..0.50 (51 of them) sample 1; 0.51..1.00 (50)
    # sample 2/3: AP = (51 + 50 * 2/3) / 101 = 0.834983...
    prediction = dets([BOX, [100, 100, 110, 110], FAR], [0.9, 0.8, 0.7], [0, 0, 0])
    result = evaluate([prediction], [truth([BOX, FAR], [0, 0])])
    assert result["map50"] == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert result["precision"] == pytest.approx(2 / 3)


def test_average_precision_directly():
    assert average_precision(np.array([True, False, True]), 2) == pytest.approx((51 + 50 * 2 / 3) / 101)
    # Half the ground truth found, perfectly: recall points 0.00..0.50 sample 1, the rest 0: 51 / 101.
    assert average_precision(np.array([True]), 2) == pytest.approx(51 / 101)
    assert average_precision(np.zeros(0, bool), 3) == 0.0


def test_two_classes_are_averaged_and_classes_without_ground_truth_ignored():
    # Class 0 is found (AP 1), class 1 has ground truth but no prediction (AP 0), class 7 has a
    # prediction but no ground truth anywhere (ignored, as COCO does): mAP = (1 + 0) / 2.
    prediction = dets([BOX, [200, 200, 210, 210]], [0.9, 0.95], [0, 7])
    result = evaluate([prediction], [truth([BOX, FAR], [0, 1])])
    assert result["map50"] == pytest.approx(0.5)
    assert result["map50_95"] == pytest.approx(0.5)
    # At IoU 0.5: 1 true positive of 2 detections and of 2 objects.
    assert result["precision"] == pytest.approx(0.5)
    assert result["recall"] == pytest.approx(0.5)


def test_a_prediction_of_the_wrong_class_does_not_match():
    result = evaluate([dets([BOX], [0.9], [1])], [truth([BOX], [0])])
    assert result["map50"] == 0.0
    assert result["precision"] == 0.0
    assert result["recall"] == 0.0


def test_ap_pools_detections_across_images():
    # Image 0: a TP at 0.9. Image 1: a FP at 0.8 and a TP at 0.7. Pooled, this is TP, FP, TP over
    # two objects: AP = (51 + 50 * 2/3) / 101.
    predictions = [dets([BOX], [0.9], [0]), dets([[100, 100, 110, 110], FAR], [0.8, 0.7], [0, 0])]
    result = evaluate(predictions, [truth([BOX], [0]), truth([FAR], [0])])
    assert result["map50"] == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert result["detections_per_image"] == 1.5


def test_score_ties_rank_by_image_order():
    # Equal scores: the earlier image's detection ranks first. FP then TP gives 0.5; TP then FP gives 1.
    fp_first = evaluate(
        [dets([FAR], [0.8], [0]), dets([BOX], [0.8], [0])], [truth([], []), truth([BOX], [0])]
    )
    tp_first = evaluate(
        [dets([BOX], [0.8], [0]), dets([FAR], [0.8], [0])], [truth([BOX], [0]), truth([], [])]
    )
    assert fp_first["map50"] == pytest.approx(0.5)
    assert tp_first["map50"] == 1.0


def test_one_ground_truth_matches_only_one_prediction():
    # Two predictions on one object: the higher-scored is the TP, the duplicate a FP ranked below it,
    # which does not lower the envelope at any recall: AP 1, precision 0.5.
    result = evaluate([dets([BOX, BOX], [0.9, 0.8], [0, 0])], [truth([BOX], [0])])
    assert result["map50"] == 1.0
    assert result["precision"] == pytest.approx(0.5)


def test_mask_ap_uses_mask_iou():
    # Boxes agree perfectly, masks do not: 6 of 10 pixels (IoU 0.6) passes 0.5, 4 of 10 (0.4) fails.
    good = evaluate([dets([BOX], [0.9], [0], row_mask(10, 6))], [truth([BOX], [0], row_mask(10, 10))])
    bad = evaluate([dets([BOX], [0.9], [0], row_mask(10, 4))], [truth([BOX], [0], row_mask(10, 10))])
    assert good["mask_map50"] == 1.0
    assert bad["mask_map50"] == 0.0
    assert bad["map50"] == 1.0


def test_mask_ap_with_an_empty_prediction_and_masks_missing_somewhere():
    gt = truth([BOX], [0], row_mask(10, 10))
    # An image without detections needs no masks; the object is simply missed.
    assert evaluate([Detections.empty()], [gt])["mask_map50"] == 0.0
    # Ground truth without masks: mask AP cannot be computed.
    assert evaluate([dets([BOX], [0.9], [0], row_mask(10, 6))], [truth([BOX], [0])])["mask_map50"] is None


def test_images_without_detections():
    result = evaluate([Detections.empty(), dets([BOX], [0.5], [0])], [truth([BOX], [0]), truth([BOX], [0])])
    assert result["detection_rate"] == 0.5
    assert result["detections_per_image"] == 0.5
    assert result["mean_confidence"] == 0.5
    assert result["recall"] == 0.5
    assert result["precision"] == 1.0
    # One object of two found at precision 1: 51 / 101 recall points sample 1.
    assert result["map50"] == pytest.approx(51 / 101)


def test_no_detections_at_all():
    result = evaluate([Detections.empty()], [truth([BOX], [0])])
    assert result["mean_confidence"] is None
    assert result["precision"] is None
    assert result["recall"] == 0.0
    assert result["map50"] == 0.0
    assert result["detection_rate"] == 0.0


def test_no_ground_truth_leaves_ap_undefined():
    result = evaluate([dets([BOX], [0.9], [0])], [GroundTruth.empty()])
    assert result["map50"] is None
    assert result["map50_95"] is None
    assert result["recall"] is None
    assert result["precision"] == 0.0


def test_no_images():
    result = evaluate([], [])
    assert set(result) == KEYS
    assert result["images"] == 0
    assert all(result[key] is None for key in KEYS - {"images", "ground_truth_objects"})


def test_result_is_plain_json():
    result = evaluate([dets([BOX], [0.9], [0])], [truth([BOX], [0])])
    assert json.loads(json.dumps(result)) == result
    assert all(type(value) in (int, float, type(None)) for value in result.values())


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="1 predictions for 2 ground truths"):
        evaluate([Detections.empty()], [GroundTruth.empty(), GroundTruth.empty()])
    with pytest.raises(ValueError, match="expected Detections and GroundTruth"):
        evaluate([GroundTruth.empty()], [GroundTruth.empty()])
