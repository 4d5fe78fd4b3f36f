"""The shared YOLO post-processing and letterbox on hand-made inputs."""

import numpy as np
import pytest

from reportgen.measure.detections import Detections, GroundTruth
from reportgen.measure.tasks import yolo

SETTINGS = {
    "conf_threshold": 0.25,
    "iou_threshold": 0.5,
    "max_detections": 10,
    "mask_threshold": 0.5,
    "input_size": 16,
}


def _outputs():
    nc, nm, anchors = 2, 2, 3
    out0 = np.zeros((1, 4 + nc + nm, anchors), dtype=np.float32)
    out0[0, :4, 0] = [8, 8, 8, 8]  # xywh: box 4..12
    out0[0, 4 + 1, 0] = 0.9  # class 1
    out0[0, 4 + nc, 0] = 10.0  # coefficient on prototype 0 (all ones) -> mask probability ~1
    out0[0, :4, 1] = [8.5, 8, 8, 8]  # near-duplicate of anchor 0, lower score: suppressed by NMS
    out0[0, 4 + 1, 1] = 0.8
    out0[0, 4 + nc, 1] = 10.0
    out0[0, :4, 2] = [3, 3, 2, 2]  # below the confidence threshold
    out0[0, 4, 2] = 0.1
    out1 = np.zeros((1, nm, 4, 4), dtype=np.float32)
    out1[0, 0] = 1.0
    return {"output0": out0, "output1": out1}


def test_decode_thresholds_suppresses_and_masks():
    dets = yolo.decode(_outputs(), SETTINGS)
    assert dets.boxes.tolist() == [[4.0, 4.0, 12.0, 12.0]]
    assert dets.scores.tolist() == [pytest.approx(0.9)] and dets.classes.tolist() == [1]
    expected = np.zeros((16, 16), dtype=bool)
    expected[4:12, 4:12] = True  # the mask is cropped to the box
    assert dets.masks.shape == (1, 16, 16) and np.array_equal(dets.masks[0], expected)


def test_detection_outputs_have_no_masks_and_all_channels_are_classes():
    out0 = _outputs()["output0"][:, :6]  # 4 box values + 2 classes, no coefficients, no prototypes
    dets = yolo.decode({"output0": out0}, SETTINGS)
    assert dets.masks is None and dets.classes.tolist() == [1] and len(dets.boxes) == 1


def test_decode_with_nothing_above_threshold():
    dets = yolo.decode(_outputs(), {**SETTINGS, "conf_threshold": 0.95})
    assert len(dets.boxes) == 0 and dets.masks.shape == (0, 16, 16)


def test_bilinear_matrix_matches_half_pixel_convention():
    m = yolo._bilinear_matrix(4, 2)
    # Output pixel centres 0.5..3.5 map to source -0.25, 0.25, 0.75, 1.25 (clamped): as torch/cv2.
    assert np.allclose(m, [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])


def test_letterbox_keeps_aspect_centres_and_moves_the_ground_truth_with_the_image():
    image = np.zeros((40, 80, 3), dtype=np.uint8)
    image[10:20, 20:40] = 255
    prepared, meta = yolo.prepare(image, 32)
    assert prepared.shape == (32, 32, 3) and meta == {"scale": 0.4, "pad": [0, 8]}
    assert (prepared[:8] == 114).all() and (prepared[24:] == 114).all()  # grey bars above and below
    mask = np.zeros((1, 40, 80), dtype=bool)
    mask[0, 10:20, 20:40] = True
    truth = yolo.prepare_truth(
        GroundTruth(np.array([[20, 10, 40, 20]], np.float32), np.array([0]), mask), meta, 32
    )
    assert truth.boxes.tolist() == [[8.0, 12.0, 16.0, 16.0]]
    ys, xs = np.nonzero(truth.masks[0])
    assert (xs.min(), xs.max() + 1, ys.min(), ys.max() + 1) == (8, 16, 12, 16)
    assert prepared[13, 10].min() > 200  # the white patch landed where its box says


def test_to_tensor_scales_to_unit_range_channels_first():
    x = yolo.to_tensor(np.full((16, 16, 3), 255, dtype=np.uint8), SETTINGS)
    assert x.shape == (1, 3, 16, 16) and x.dtype == np.float32 and x.max() == 1.0


def test_rect_letterbox_pads_to_a_multiple_of_32_and_maps_back_to_the_square():
    image = np.zeros((160, 200, 3), dtype=np.uint8)  # scaled by 0.8 to 160 x 128
    square, square_meta = yolo.prepare(image, 160)
    rect, rect_meta = yolo.prepare(image, 160, rect=True)
    assert square.shape == (160, 160, 3) and square_meta["pad"] == [0, 16]
    assert rect.shape == (128, 160, 3) and rect_meta["pad"] == [0, 0]  # 160 - 128 = 32: no padding needed
    mask = np.zeros((1, 128, 160), dtype=bool)
    mask[0, 10:20, 30:40] = True
    moved = yolo.rect_to_square(
        Detections(
            np.array([[30, 10, 40, 20]], np.float32), np.array([0.9], np.float32), np.array([2]), mask
        ),
        rect_meta,
        square_meta,
        160,
    )
    assert moved.boxes.tolist() == [[30.0, 26.0, 40.0, 36.0]]
    ys, xs = np.nonzero(moved.masks[0])
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (26, 35, 30, 39) and moved.masks.shape == (1, 160, 160)
