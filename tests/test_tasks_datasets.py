"""A data source for every task: the synthetic shapes in each task's terms, and PNG masks of class ids."""

import numpy as np
import pytest
from PIL import Image

from reportgen.config.schema import parse_config
from reportgen.demo.shapes import CLASS_NAMES, PIXEL_CLASS_NAMES
from reportgen.errors import ReportgenError
from reportgen.measure import datasets
from reportgen.measure.detections import GroundTruth

SIZE = 64


def _synthetic(task):
    config = {"model": {"task": task, "input_size": SIZE}, "dataset": {"images": 5, "seed": 9}}
    return datasets.load(parse_config(config, "test.yaml"))


def test_shapes_are_a_classification_set_of_one_shape_per_image():
    data = _synthetic("classification")
    assert data.class_names == list(CLASS_NAMES) and data.info["objects"] == 5
    assert all(isinstance(t, int) and 0 <= t < len(CLASS_NAMES) for t in data.truths)


def test_shapes_give_semantic_segmentation_a_class_per_pixel():
    data = _synthetic("semantic_segmentation")
    assert data.class_names == list(PIXEL_CLASS_NAMES)
    assert all(t.shape == (SIZE, SIZE) and t.dtype == np.uint8 for t in data.truths)
    assert {0, 1, 2, 3, 4} >= set(np.unique(np.stack(data.truths))) and np.stack(data.truths).max() > 0


def test_shapes_give_set_detection_boxes_without_masks():
    data = _synthetic("set_detection")
    assert all(isinstance(t, GroundTruth) and t.masks is None and len(t) for t in data.truths)


def _folder(tmp_path, mask_size=(80, 40)):
    images = tmp_path / "data" / "images"
    images.mkdir(parents=True)
    Image.new("RGB", (80, 40), (10, 20, 30)).save(images / "a.jpg")
    mask = np.zeros((mask_size[1], mask_size[0]), np.uint8)
    mask[:, : mask_size[0] // 2] = 2
    (tmp_path / "data" / "annotations").mkdir()
    Image.fromarray(mask).save(tmp_path / "data" / "annotations" / "a.png")
    config = {
        "model": {"task": "semantic_segmentation", "input_size": SIZE},
        "dataset": {"source": "folder", "path": str(images), "labels": "masks"},
    }
    return parse_config(config, "test.yaml")


def test_png_masks_of_class_ids_are_resized_with_the_image(tmp_path):
    data = datasets.load(_folder(tmp_path))
    (truth,) = data.truths
    assert truth.shape == (SIZE, SIZE) and set(np.unique(truth)) == {0, 2}
    assert (truth[:, : SIZE // 2] == 2).all() and (truth[:, SIZE // 2 :] == 0).all()


def test_a_mask_of_another_size_is_one_line(tmp_path):
    with pytest.raises(ReportgenError) as caught:
        datasets.load(_folder(tmp_path, mask_size=(10, 10)))
    assert str(caught.value).endswith(
        "a.png: dataset.labels: expected a single-channel PNG of integer class ids of the image's size 80x40, "
        "got uint8 of shape [10, 10]"
    )


def test_synthetic_classification_images_too_small_for_a_shape_are_one_line():
    """An image without a shape has no class: said naming model.input_size, not an IndexError."""
    chosen = parse_config(
        {"model": {"task": "classification", "input_size": 16}, "dataset": {"images": 3}}, "t.yaml"
    )
    with pytest.raises(
        ReportgenError, match=r"model\.input_size: 16 px is too small for synthetic classification"
    ):
        datasets.load(chosen)
    fits = parse_config(
        {"model": {"task": "classification", "input_size": 32}, "dataset": {"images": 6}}, "t.yaml"
    )
    assert len(datasets.load(fits).truths) == 6
