"""Semantic segmentation task: class maps from logits at any stride, mIoU against masks, pixel agreement."""

import numpy as np
import pytest

from reportgen.demo.shapes import PIXEL_CLASS_NAMES, class_map, make_dataset
from reportgen.errors import ConfigError
from reportgen.measure.tasks import check_outputs, judged
from reportgen.measure.tasks import semantic_segmentation as task

SIZE = 64
SETTINGS = {"input_size": SIZE, "outputs": {}}


def _logits(classes: np.ndarray, count: int, stride: int = 1) -> np.ndarray:
    """Return (1, count, H/stride, W/stride) logits whose best class is ``classes`` (subsampled)."""
    small = classes[::stride, ::stride]
    return (np.eye(count, dtype=np.float32)[small] * 10).transpose(2, 0, 1)[None]


def test_decoding_the_truth_scores_a_perfect_miou():
    truths = [class_map(s) for s in make_dataset(7, 3, SIZE)]
    predictions = [task.decode({"logits": _logits(t, 5)}, SETTINGS) for t in truths]
    metrics = task.evaluate(predictions, truths, SETTINGS)
    assert metrics["miou"] == 1.0 and metrics["pixel_accuracy"] == 1.0
    assert len(metrics["per_class_iou"]) == len(PIXEL_CLASS_NAMES)


def test_logits_at_a_quarter_of_the_input_are_upsampled_to_it():
    truth = class_map(make_dataset(3, 1, SIZE)[0])
    prediction = task.decode({"logits": _logits(truth, 5, stride=4)}, SETTINGS)
    assert prediction.shape == (SIZE, SIZE)
    assert (prediction == truth).mean() > 0.9  # edges blur at 1/4 resolution


def test_changed_pixels_are_counted_per_image():
    truth = class_map(make_dataset(3, 1, SIZE)[0])
    other = truth.copy()
    other[:8, :8] = 4  # 64 pixels of 4096 change class (none was class 4 there)
    changed = float((other != truth).mean())
    agreement = task.compare([truth, truth], [truth, other], SETTINGS)
    assert agreement["changed_pixel_share_per_image"] == [0.0, changed]
    assert agreement["pixel_agreement"] == pytest.approx(1 - changed / 2)
    assert agreement["disagreeing_images"] == [1]


def test_ignored_pixels_are_not_scored():
    truth = np.full((4, 4), 255, np.uint8)
    truth[0, 0] = 1
    prediction = np.ones((4, 4), np.uint8)
    metrics = task.evaluate([prediction], [truth], {"input_size": 4})
    assert metrics["pixel_accuracy"] == 1.0 and metrics["miou"] == 1.0


def test_a_model_without_logits_is_one_line_naming_the_key():
    with pytest.raises(ConfigError) as caught:
        check_outputs("semantic_segmentation", ["last_hidden_state"], SETTINGS)
    assert str(caught.value) == (
        "model.outputs: expected an output with the role logits (logits, output0), the model returns "
        "last_hidden_state: name the one that plays it, or choose the task that fits these outputs"
    )
    check_outputs("semantic_segmentation", ["masks"], {"outputs": {"masks": "logits"}})


def test_shown_outputs_are_left_out_of_the_verdict():
    settings = {"outputs": {"last_hidden_state": "shown"}}
    assert judged(["logits", "last_hidden_state", "aux"], settings) == ["logits", "aux"]
