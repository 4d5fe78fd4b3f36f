"""Tests of the detection containers, IoU, greedy matching and NMS, on hand-computed cases."""

import numpy as np
import pytest

from reportgen.measure.detections import (
    Detections,
    GroundTruth,
    batched_nms,
    box_iou,
    class_aware_iou,
    greedy_match,
    mask_iou,
    nms,
)


def test_detections_normalise_dtypes_and_shapes():
    detections = Detections(boxes=[[0, 0, 10, 10]], scores=[0.5], classes=np.array([2.0]))
    assert detections.boxes.dtype == np.float32 and detections.boxes.shape == (1, 4)
    assert detections.scores.dtype == np.float32
    assert detections.classes.dtype == np.int64 and detections.classes.tolist() == [2]
    assert detections.masks is None
    assert len(detections) == 1


def test_empty_detections_and_ground_truth():
    assert len(Detections.empty()) == 0
    assert Detections.empty().boxes.shape == (0, 4)
    assert Detections.empty().masks is None
    assert Detections.empty(height=4, width=6, with_masks=True).masks.shape == (0, 4, 6)
    assert GroundTruth.empty(height=4, width=6, with_masks=True).masks.shape == (0, 4, 6)
    assert len(GroundTruth.empty()) == 0


def test_empty_with_masks_needs_a_size():
    with pytest.raises(ValueError, match="height and a width"):
        Detections.empty(with_masks=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"boxes": [[0, 0, 1, 1]], "scores": [0.5, 0.6], "classes": [0, 0]}, "mismatched lengths"),
        ({"boxes": [[0, 0, 1]], "scores": [0.5], "classes": [0]}, "boxes must have shape"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [0.5], "classes": [0.5]}, "integral"),
        ({"boxes": [[0, 0, 1, 1]], "scores": [0.5], "classes": [0], "masks": np.ones((1, 2, 2))}, "boolean"),
        (
            {"boxes": [[0, 0, 1, 1]], "scores": [0.5], "classes": [0], "masks": np.ones((2, 2), bool)},
            "(N, H, W)",
        ),
    ],
)
def test_detections_refuse_malformed_input(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Detections(**kwargs)


def test_ground_truth_refuses_mismatched_masks():
    with pytest.raises(ValueError, match="mismatched lengths"):
        GroundTruth(boxes=[[0, 0, 1, 1]], classes=[0], masks=np.zeros((2, 3, 3), bool))


def test_box_iou_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]])
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 6, 10]])
    iou = box_iou(a, b)
    assert iou.shape == (2, 4)
    # Half overlap: intersection 5*10 = 50, union 100 + 100 - 50 = 150, so 1/3.
    # [0, 0, 6, 10] inside [0, 0, 10, 10]: 60 / 100 = 0.6 exactly.
    assert iou[0] == pytest.approx([1 / 3, 1.0, 0.0, 0.6])
    assert iou[0, 3] == 0.6
    # A zero-area box has an empty union with itself and IoU 0 with everything, without a warning.
    assert iou[1].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_box_iou_of_empty_sets_has_the_right_shape():
    assert box_iou(np.zeros((0, 4)), np.ones((3, 4))).shape == (0, 3)


def test_mask_iou_known_values():
    left = np.zeros((4, 4), bool)
    left[:, :2] = True
    top = np.zeros((4, 4), bool)
    top[:2, :] = True
    empty = np.zeros((4, 4), bool)
    iou = mask_iou(np.stack([left, empty]), np.stack([top, left, empty]))
    # left & top: 4 pixels; left | top: 8 + 8 - 4 = 12, so 1/3.
    assert iou == pytest.approx(np.array([[1 / 3, 1.0, 0.0], [0.0, 0.0, 0.0]]))


def test_mask_iou_refuses_different_sizes():
    with pytest.raises(ValueError, match="mask sizes differ"):
        mask_iou(np.zeros((1, 4, 4), bool), np.zeros((1, 4, 5), bool))


def test_greedy_match_takes_the_best_free_column_by_score():
    ious = np.array([[0.6, 0.9], [0.7, 0.8]])
    # Row 1 scores higher, so it goes first and takes column 1 (0.8); row 0 is left with column 0 (0.6).
    assert greedy_match(ious, np.array([0.5, 0.9]), 0.5).tolist() == [[1, 1], [0, 0]]
    # At threshold 0.65, row 0's only free column (0.6) is too weak.
    assert greedy_match(ious, np.array([0.5, 0.9]), 0.65).tolist() == [[1, 1]]
    assert greedy_match(np.zeros((2, 0)), np.array([0.5, 0.9]), 0.5).shape == (0, 2)


def test_class_aware_iou_blocks_other_classes():
    iou = class_aware_iou(np.array([[0.9, 0.8]]), np.array([1]), np.array([1, 2]))
    assert iou.tolist() == [[0.9, -1.0]]


def test_nms_suppresses_overlaps_and_keeps_distant_boxes():
    boxes = np.array([[1, 0, 11, 10], [0, 0, 10, 10], [20, 20, 30, 30]])
    scores = np.array([0.8, 0.9, 0.7])
    # Boxes 0 and 1 overlap with IoU 90 / 110 = 0.82 > 0.5, so the lower-scoring box 0 goes.
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.85).tolist() == [1, 0, 2]


def test_nms_keeps_a_box_exactly_at_the_threshold():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5]])  # IoU 50 / 100 = 0.5 exactly
    assert nms(boxes, np.array([0.9, 0.8]), 0.5).tolist() == [0, 1]
    assert nms(boxes, np.array([0.9, 0.8]), 0.49).tolist() == [0]


def test_nms_breaks_score_ties_by_index():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]])
    assert nms(boxes, np.array([0.5, 0.5]), 0.5).tolist() == [0]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def test_batched_nms_keeps_overlapping_boxes_of_different_classes():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [1, 0, 11, 10], [0, 0, 10, 10]])
    scores = np.array([0.6, 0.9, 0.7, 0.8])
    classes = np.array([0, 1, 0, 1])
    # Class 0: box 2 (0.7) suppresses box 0 (0.6). Class 1: box 1 (0.9) suppresses box 3 (0.8).
    assert batched_nms(boxes, scores, classes, 0.5).tolist() == [1, 2]
    # Same boxes, one class each: nothing overlaps within a class, all kept, highest score first.
    assert batched_nms(boxes, scores, np.arange(4), 0.5).tolist() == [1, 3, 2, 0]
    assert batched_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5).tolist() == []
