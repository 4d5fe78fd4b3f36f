"""Image folders with COCO, YOLO or class-subfolder labels, read into prepared images and ground truth."""

import json

import numpy as np
import pytest
from PIL import Image

from reportgen.config.schema import parse_config
from reportgen.errors import ReportgenError
from reportgen.measure import datasets

SIZE = 64  # the input size; 64x64 images are not letterboxed, so truths keep their pixel coordinates


def _load(path, labels, task="segmentation", labels_path=None):
    dataset = {"source": "folder", "path": str(path), "labels": labels}
    if labels_path is not None:
        dataset["labels_path"] = str(labels_path)
    return datasets.load(
        parse_config({"model": {"task": task, "input_size": SIZE}, "dataset": dataset}, "test.yaml")
    )


def _image(path, size=(SIZE, SIZE)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (40, 80, 120)).save(path)
    return path


def _text(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _rle(mask):
    """Return COCO's uncompressed RLE of a bool mask: column-major runs, starting with a run of 0s."""
    flat = mask.flatten(order="F")
    starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.r_[0, starts, flat.size]).tolist()
    return {"counts": [0] + runs if flat[0] else runs, "size": list(mask.shape)}


def _coco(path, images, annotations, categories=({"id": 1, "name": "thing"},)):
    coco = {
        "images": [
            {"id": i, "file_name": name, "width": SIZE, "height": SIZE} for i, name in enumerate(images)
        ],
        "annotations": [{"id": k, "iscrowd": 0, **a} for k, a in enumerate(annotations)],
        "categories": list(categories),
    }
    return _text(path, json.dumps(coco))


# --- YOLO: where the labels are -------------------------------------------------------------------


def test_yolo_label_replaces_the_last_images_folder_as_ultralytics_does(tmp_path):
    # An 'images' folder higher up must stay as it is: only the last one becomes 'labels'.
    data = tmp_path / "images" / "data"
    _image(data / "images" / "val" / "a.png")
    _text(data / "labels" / "val" / "a.txt", "0 0.5 0.5 0.25 0.5\n")
    loaded = _load(data / "images" / "val", "yolo", task="detection")
    assert loaded.names == ["a.png"] and loaded.info["objects"] == 1
    np.testing.assert_allclose(loaded.truths[0].boxes, [[24, 16, 40, 48]])


def test_yolo_root_above_images_and_labels_finds_them(tmp_path):
    _image(tmp_path / "images" / "a.png")
    _text(tmp_path / "labels" / "a.txt", "2 0.5 0.5 0.5 0.5\n")
    loaded = _load(tmp_path, "yolo", task="detection")
    assert loaded.names == ["images/a.png"] and loaded.truths[0].classes.tolist() == [2]


def test_yolo_label_beside_the_image_without_an_images_folder(tmp_path):
    _image(tmp_path / "pics" / "a.png")
    _text(tmp_path / "pics" / "a.txt", "1 0.5 0.5 0.5 0.5\n")
    assert _load(tmp_path / "pics", "yolo", task="detection").truths[0].classes.tolist() == [1]


def test_yolo_labels_path_mirrors_the_image_folder(tmp_path):
    _image(tmp_path / "images" / "sub" / "a.png")
    _text(tmp_path / "elsewhere" / "sub" / "a.txt", "3 0.5 0.5 0.5 0.5\n")
    _text(tmp_path / "labels" / "sub" / "a.txt", "0 0.5 0.5 0.5 0.5\n")  # not this one: labels_path wins
    loaded = _load(tmp_path / "images", "yolo", task="detection", labels_path=tmp_path / "elsewhere")
    assert loaded.truths[0].classes.tolist() == [3]


def test_yolo_image_without_a_label_file_is_a_background_image(tmp_path):
    _image(tmp_path / "images" / "a.png")
    _image(tmp_path / "images" / "b.png")
    _text(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.5 0.5\n")
    loaded = _load(tmp_path / "images", "yolo", task="detection")
    assert [len(t) for t in loaded.truths] == [1, 0] and loaded.warnings == []


def test_yolo_without_any_label_file_is_an_error(tmp_path):
    _image(tmp_path / "data" / "images" / "a.png")
    _image(tmp_path / "data" / "images" / "b.png")
    with pytest.raises(ReportgenError) as error:
        _load(tmp_path / "data" / "images", "yolo", task="detection")
    labels = tmp_path / "data" / "labels"
    assert str(error.value) == (
        f"{labels}: dataset.labels: no YOLO label files found for 2 images (expected e.g. {labels / 'a.txt'})"
    )


def test_yolo_without_any_label_file_under_labels_path_names_that_folder(tmp_path):
    _image(tmp_path / "images" / "a.png")
    (tmp_path / "mine").mkdir()
    with pytest.raises(ReportgenError) as error:
        _load(tmp_path / "images", "yolo", task="detection", labels_path=tmp_path / "mine")
    assert str(error.value) == (
        f"{tmp_path / 'mine'}: dataset.labels: no YOLO label files found for 1 images "
        f"(expected e.g. {tmp_path / 'mine' / 'a.txt'})"
    )


# --- masks ----------------------------------------------------------------------------------------


def test_yolo_polygons_give_empty_masks_to_images_without_objects(tmp_path):
    _image(tmp_path / "images" / "a.png")
    _image(tmp_path / "images" / "b.png")  # no label file
    _image(tmp_path / "images" / "c.png", size=(80, 64))  # an empty label file, letterboxed
    _text(tmp_path / "labels" / "a.txt", "0 0.25 0.25 0.75 0.25 0.75 0.75 0.25 0.75\n")
    _text(tmp_path / "labels" / "c.txt", "\n")
    a, b, c = _load(tmp_path / "images", "yolo").truths
    assert a.masks.shape == (1, SIZE, SIZE) and a.masks[0, 32, 32] and not a.masks[0, 5, 5]
    np.testing.assert_allclose(a.boxes, [[16, 16, 48, 48]])
    assert b.masks.shape == (0, SIZE, SIZE) and b.masks.dtype == bool
    assert c.masks.shape == (0, SIZE, SIZE)


def test_yolo_box_rows_give_no_masks(tmp_path):
    _image(tmp_path / "images" / "a.png")
    _image(tmp_path / "images" / "b.png")
    _text(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.5 0.5\n")
    assert [t.masks for t in _load(tmp_path / "images", "yolo").truths] == [None, None]


def test_coco_polygons_give_empty_masks_to_images_without_objects(tmp_path):
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png")
    polygon = [[16, 16, 48, 16, 48, 48, 16, 48]]
    _coco(
        tmp_path / "annotations.json",
        ["a.png", "b.png"],
        [{"image_id": 0, "category_id": 1, "bbox": [16, 16, 32, 32], "segmentation": polygon}],
    )
    a, b = _load(tmp_path, "coco").truths
    assert a.masks.shape == (1, SIZE, SIZE) and a.masks[0, 32, 32]
    assert b.masks.shape == (0, SIZE, SIZE)


def test_coco_without_segmentations_gives_no_masks(tmp_path):
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png")
    _coco(
        tmp_path / "annotations.json",
        ["a.png", "b.png"],
        [
            {"image_id": 0, "category_id": 1, "bbox": [16, 16, 32, 32], "segmentation": []},
            {"image_id": 0, "category_id": 1, "bbox": [0, 0, 8, 8], "segmentation": [[]]},
            {"image_id": 0, "category_id": 1, "bbox": [0, 0, 8, 8]},
        ],
    )
    assert [t.masks for t in _load(tmp_path, "coco").truths] == [None, None]


def test_coco_crowd_regions_are_not_objects(tmp_path):
    _image(tmp_path / "a.png")
    crowd = np.zeros((SIZE, SIZE), bool)
    crowd[40:60, 0:30] = True
    _coco(
        tmp_path / "annotations.json",
        ["a.png"],
        [
            {
                "image_id": 0,
                "category_id": 1,
                "bbox": [0, 0, 10, 10],
                "segmentation": [[0, 0, 10, 0, 10, 10]],
            },
            {
                "image_id": 0,
                "category_id": 1,
                "bbox": [0, 40, 30, 20],
                "segmentation": _rle(crowd),
                "iscrowd": 1,
            },
        ],
    )
    loaded = _load(tmp_path, "coco")
    assert loaded.info["objects"] == 1
    np.testing.assert_allclose(loaded.truths[0].boxes, [[0, 0, 10, 10]])


def test_coco_uncompressed_rle_is_decoded_column_major(tmp_path):
    _image(tmp_path / "a.png")
    mask = np.zeros((SIZE, SIZE), bool)
    mask[10:20, 5:45] = True  # wider than tall: a row-major decoding would give another shape
    mask[0, 0] = True  # the first run of 0s is empty
    _coco(
        tmp_path / "annotations.json",
        ["a.png"],
        [{"image_id": 0, "category_id": 1, "bbox": [0, 0, 45, 20], "segmentation": _rle(mask)}],
    )
    (truth,) = _load(tmp_path, "coco").truths
    np.testing.assert_array_equal(truth.masks, mask[None])


def test_coco_compressed_rle_falls_back_to_boxes_with_one_warning(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        _image(tmp_path / name)
    compressed = {"counts": "PQ?0j0", "size": [SIZE, SIZE]}
    _coco(
        tmp_path / "annotations.json",
        ["a.png", "b.png", "c.png"],
        [
            {"image_id": 0, "category_id": 1, "bbox": [1, 2, 3, 4], "segmentation": compressed},
            {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "segmentation": compressed},
            {"image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4], "segmentation": [[1, 2, 4, 2, 4, 6]]},
        ],
    )
    loaded = _load(tmp_path, "coco")
    a, b, c = loaded.truths
    assert a.masks is None and b.masks is None and c.masks.shape == (1, SIZE, SIZE)
    np.testing.assert_allclose(a.boxes, [[1, 2, 4, 6]])
    assert [w for w in loaded.warnings if "compressed RLE" in w] == [
        f"{tmp_path / 'annotations.json'}: compressed RLE segmentations are not decoded: "
        "a.png and others with them get box-only ground truth"
    ]
    assert loaded.info["skipped"] == 0


# --- malformed labels -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "cat 0.5 0.5 0.2 0.2",  # a class name instead of its index
        "1.5 0.5 0.5 0.2 0.2",  # a fractional class
        "0 0.5 0.5 0.2",  # too few values
        "0 0.1 0.1 0.5 0.1 0.5",  # an odd number of polygon coordinates
        "0 320 240 50 40",  # pixels instead of normalized values
        "0 0.5 0.5 1.2 0.2",  # out of range
        "0 0.5 0.5 0.2 nan",
    ],
)
def test_malformed_yolo_row_is_one_line_naming_file_and_line(tmp_path, line):
    _image(tmp_path / "images" / "a.png")
    label = _text(tmp_path / "labels" / "a.txt", f"0 0.5 0.5 0.2 0.2\n\n{line}\n")
    with pytest.raises(ReportgenError) as error:
        _load(tmp_path / "images", "yolo", task="detection")
    assert str(error.value) == (
        f"{label}:3: dataset.labels: expected 'class cx cy w h' or 'class x1 y1 x2 y2 ...' "
        f"with values in [0, 1], got {line!r}"
    )


def test_yolo_values_a_hair_outside_the_image_are_accepted(tmp_path):
    # Labelling tools leave polygon points just past the border; Ultralytics' own labels are clipped.
    _image(tmp_path / "images" / "a.png")
    _text(tmp_path / "labels" / "a.txt", "0 -0.01 0 1.01 0 1 1.02\n")
    assert len(_load(tmp_path / "images", "yolo").truths[0]) == 1


def test_coco_unknown_category_is_named(tmp_path):
    _image(tmp_path / "a.png")
    coco = _coco(
        tmp_path / "annotations.json",
        ["a.png"],
        [
            {"image_id": 0, "category_id": 1, "bbox": [1, 2, 3, 4]},
            {"image_id": 0, "category_id": 7, "bbox": [1, 2, 3, 4]},
        ],
    )
    with pytest.raises(ReportgenError) as error:
        _load(tmp_path, "coco", task="detection")
    assert str(error.value) == f"{coco}: annotations[1].category_id: 7 is not one of the categories"


@pytest.mark.parametrize(
    ("text", "detail"),
    [("{not json", "Expecting property name"), ('{"images": [], "categories": []}', "'annotations'")],
)
def test_coco_file_that_is_not_coco_is_one_line(tmp_path, text, detail):
    _image(tmp_path / "a.png")
    coco = _text(tmp_path / "annotations.json", text)
    with pytest.raises(ReportgenError) as error:
        _load(tmp_path, "coco", task="detection")
    message = str(error.value)
    assert message.startswith(f"{coco}: dataset.labels_path: expected a COCO annotations JSON (")
    assert detail in message and "\n" not in message


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ({"bbox": [1, 2, 3]}, "annotations[0].bbox: expected [x, y, width, height], got [1, 2, 3]"),
        (
            {"bbox": [1, 2, 3, 4], "segmentation": [1, 2, 3, 4, 5, 6]},
            "annotations[0].segmentation: expected polygons [[x1, y1, x2, y2, ...], ...] or RLE "
            "{counts, size}, got [1, 2, 3, 4, 5, 6]",
        ),
        (
            {"bbox": [1, 2, 3, 4], "segmentation": [[1, 2, 3, 4, 5]]},
            "annotations[0].segmentation: expected polygons [[x1, y1, x2, y2, ...], ...] or RLE "
            "{counts, size}, got [[1, 2, 3, 4, 5]]",
        ),
        (
            {"bbox": [1, 2, 3, 4], "segmentation": {"counts": [5, 3], "size": [SIZE, SIZE]}},
            "annotations[0].segmentation: RLE counts add up to 8 pixels, expected 64 x 64",
        ),
    ],
)
def test_malformed_coco_annotation_is_one_line(tmp_path, annotation, message):
    _image(tmp_path / "a.png")
    coco = _coco(tmp_path / "annotations.json", ["a.png"], [{"image_id": 0, "category_id": 1, **annotation}])
    with pytest.raises(ReportgenError) as error:
        _load(tmp_path, "coco")
    assert str(error.value) == f"{coco}: {message}"


# --- classification -------------------------------------------------------------------------------


def test_image_outside_the_class_folders_is_skipped_and_named(tmp_path):
    _image(tmp_path / "cats" / "a.png")
    _image(tmp_path / "dogs" / "b.png")
    _image(tmp_path / "dogs" / "puppies" / "c.png")  # below a class folder: still a dog (ImageFolder)
    stray = _image(tmp_path / "stray.png")
    loaded = _load(tmp_path, "folders", task="classification")
    assert loaded.names == ["cats/a.png", "dogs/b.png", "dogs/puppies/c.png"]
    assert loaded.truths == [0, 1, 1] and loaded.class_names == ["cats", "dogs"]
    assert loaded.warnings == [f"skipped {stray}: not inside a class subfolder of {tmp_path}"]
    assert loaded.info["skipped"] == 1


# --- reading images -------------------------------------------------------------------------------


def test_exif_orientation_is_applied_so_labels_line_up(tmp_path):
    stored = np.zeros((32, 48, 3), np.uint8)
    stored[:, :24] = (255, 0, 0)  # left half red as stored; orientation 6 shows it rotated clockwise
    stored[:, 24:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    (tmp_path / "images").mkdir()
    Image.fromarray(stored).save(tmp_path / "images" / "a.jpg", exif=exif, quality=95)
    _text(tmp_path / "labels" / "a.txt", "0 0.5 0.25 1 0.5\n")  # the red top half of the upright image
    loaded = _load(tmp_path / "images", "yolo", task="detection")
    (source,) = loaded.sources
    assert source.shape == (48, 32, 3)  # upright: 32 wide, 48 high
    assert source[8, 16, 0] > 200 and source[8, 16, 2] < 50  # red on top
    assert source[40, 16, 2] > 200 and source[40, 16, 0] < 50  # blue below
    # Letterboxed into 64x64: scale 4/3, 10 px of grey on the left.
    np.testing.assert_allclose(loaded.truths[0].boxes, [[10, 0, 10 + 32 * 4 / 3, 32]], atol=1e-4)
    assert loaded.images[0][10, 32, 0] > 200 and loaded.images[0][54, 32, 2] > 200


def test_coco_rle_of_another_size_than_the_image_is_named(tmp_path):
    image = _image(tmp_path / "a.png", size=(80, 64))
    coco = _coco(
        tmp_path / "annotations.json",
        ["a.png"],
        [
            {
                "image_id": 0,
                "category_id": 1,
                "bbox": [1, 2, 3, 4],
                "segmentation": _rle(np.ones((SIZE, SIZE), bool)),
            }
        ],
    )
    with pytest.raises(ReportgenError) as error:
        _load(tmp_path, "coco")
    assert (
        str(error.value)
        == f"{coco}: annotations[0].segmentation.size: [64, 64] is not the size [64, 80] of {image}"
    )
