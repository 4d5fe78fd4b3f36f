"""The shared post-processing on hand-made raw outputs."""

import numpy as np
import pytest

from reportgen.tasks import segmentation


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
    return out0, out1


def test_decode_thresholds_suppresses_and_masks():
    out0, out1 = _outputs()
    dets = segmentation.decode(
        out0,
        out1,
        num_classes=2,
        conf_threshold=0.25,
        iou_threshold=0.5,
        max_detections=10,
        mask_threshold=0.5,
    )
    assert dets.boxes.tolist() == [[4.0, 4.0, 12.0, 12.0]]
    assert dets.scores.tolist() == [pytest.approx(0.9)] and dets.classes.tolist() == [1]
    assert dets.masks.shape == (1, 16, 16)
    expected = np.zeros((16, 16), dtype=bool)
    expected[4:12, 4:12] = True  # the mask is cropped to the box
    assert np.array_equal(dets.masks[0], expected)


def test_decode_with_nothing_above_threshold():
    out0, out1 = _outputs()
    dets = segmentation.decode(
        out0, out1, 2, conf_threshold=0.95, iou_threshold=0.5, max_detections=10, mask_threshold=0.5
    )
    assert len(dets.boxes) == 0 and dets.masks.shape == (0, 16, 16)


def test_bilinear_matrix_matches_half_pixel_convention():
    m = segmentation._bilinear_matrix(4, 2)
    # Output pixel centres 0.5..3.5 map to source -0.25, 0.25, 0.75, 1.25 (clamped): as torch/cv2.
    assert np.allclose(m, [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])
    assert np.allclose(m.sum(1), 1)


def test_preprocess_scales_and_rejects_wrong_sizes():
    image = np.full((16, 16, 3), 255, dtype=np.uint8)
    x = segmentation.preprocess(image, 16)
    assert x.shape == (1, 3, 16, 16) and x.dtype == np.float32 and x.max() == 1.0
    with pytest.raises(ValueError, match="image is 16x16, the model expects 32x32"):
        segmentation.preprocess(image, 32)
