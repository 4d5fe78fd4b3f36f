"""Set-prediction detection (DETR, YOLOS, RT-DETR): queries above the threshold, no NMS, box mAP."""

import numpy as np
import pytest

from reportgen.demo.shapes import make_dataset
from reportgen.errors import ConfigError
from reportgen.measure.detections import GroundTruth
from reportgen.measure.tasks import check_outputs
from reportgen.measure.tasks import set_detection as task

SIZE = 96
SETTINGS = {
    "input_size": SIZE,
    "conf_threshold": 0.25,
    "max_detections": 100,
    "match_iou": 0.5,
    "near_threshold_band": 0.05,
    "outputs": {},
}
QUERIES, CLASSES = 10, 4


def _outputs(truth: GroundTruth, no_object: bool = True) -> dict:
    """Return DETR-style outputs that find every object of ``truth`` (other queries find nothing)."""
    logits = np.full((1, QUERIES, CLASSES + no_object), -8.0, np.float32)
    if no_object:
        logits[0, :, -1] = 8.0
    boxes = np.full((1, QUERIES, 4), 0.5, np.float32)
    for q, (box, cls) in enumerate(zip(truth.boxes / SIZE, truth.classes)):
        logits[0, q, -1] = -8.0  # found: not "no object" (or, without that class, a class set below)
        logits[0, q, cls] = 8.0
        boxes[0, q] = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]]
    return {"logits": logits, "pred_boxes": boxes, "last_hidden_state": np.zeros((1, QUERIES, 8))}


def _truths() -> list[GroundTruth]:
    return [GroundTruth(s.boxes, s.classes) for s in make_dataset(5, 4, SIZE)]


def test_queries_that_find_the_truth_score_a_perfect_map():
    truths = _truths()
    predictions = [task.decode(_outputs(t), SETTINGS) for t in truths]
    assert [len(p) for p in predictions] == [len(t) for t in truths]
    metrics = task.evaluate(predictions, truths, SETTINGS)
    assert metrics["map50"] == 1.0 and metrics["map50_95"] > 0.99


def test_sigmoid_logits_have_no_no_object_class():
    truths = _truths()
    settings = {**SETTINGS, "outputs": {"logits": "sigmoid_logits"}}
    predictions = [task.decode(_outputs(t, no_object=False), settings) for t in truths]
    assert task.evaluate(predictions, truths, settings)["map50"] == 1.0


def test_a_changed_confidence_is_matched_and_measured():
    truth = _truths()[0]
    reference = task.decode(_outputs(truth), SETTINGS)
    lowered = _outputs(truth)
    lowered["logits"][0, 0, truth.classes[0]] = 0.0  # the first query's class loses confidence
    candidate = task.decode(lowered, SETTINGS)
    agreement = task.compare([reference], [candidate], SETTINGS)
    assert agreement["detection_match_rate"] == 1.0
    assert agreement["mean_abs_confidence_delta"] > 0


def test_ground_truth_is_scaled_with_the_image():
    image = np.zeros((50, 200, 3), np.uint8)
    prepared, meta = task.prepare(image, SIZE)
    truth = task.prepare_truth(GroundTruth(np.array([[0, 0, 100, 50]]), np.array([1])), meta, SIZE)
    assert prepared.shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(truth.boxes, [[0, 0, SIZE / 2, SIZE]])


def test_a_detr_model_under_the_yolo_task_is_pointed_to_set_detection():
    with pytest.raises(ConfigError) as caught:
        check_outputs("detection", ["logits", "pred_boxes", "last_hidden_state"], {"outputs": {}})
    assert str(caught.value) == (
        "model.outputs: expected an output with the role detections (output0), the model returns logits, "
        "pred_boxes, last_hidden_state: name the one that plays it, or choose the task that fits these "
        "outputs (model.task: set_detection)"
    )
