"""Ground truth of a folder of images: COCO annotations JSON, YOLO txt files, class subfolders, or
PNG masks of class ids (semantic segmentation).

Each reader returns a measure.detections.GroundTruth per image in the image's own pixels (the task's
prepare_truth moves it with the letterbox), or a class index for subfolders. Malformed labels are
one-line errors that name the file and the place in it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from reportgen.config.schema import Config
from reportgen.config.words import short_repr
from reportgen.errors import ReportgenError
from reportgen.measure.detections import GroundTruth

# Labelling tools leave points a hair past the border; beyond this, values are pixels or another format.
YOLO_TOLERANCE = 0.05


def for_dataset(
    config: Config, root: Path, files: list[Path]
) -> CocoLabels | YoloLabels | FolderLabels | MaskLabels | None:
    """Return the labels the config names for the images ``files`` under ``root`` (None: unlabelled)."""
    kind, labels_path = config.dataset.labels, config.dataset.labels_path
    if kind == "none":
        return None
    if kind == "folders":
        return FolderLabels(root)
    if kind == "coco":
        return CocoLabels(Path(labels_path or root / "annotations.json"))
    if kind == "masks":
        return MaskLabels(files, root, Path(labels_path) if labels_path else None)
    return YoloLabels(files, root, Path(labels_path) if labels_path else None)


def _polygon_mask(points: list[float], shape: tuple[int, int]) -> np.ndarray:
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(canvas).polygon([(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)], fill=1)
    return np.asarray(canvas, dtype=bool)


def _stack_masks(masks: Sequence[np.ndarray | None], shape: tuple[int, int], with_masks: bool):
    """Return (N, H, W) masks, (0, H, W) for no objects in a set with masks, None when any is missing."""
    if not masks:
        # An empty image of a mask data set keeps mask metrics alive: they need masks on every truth.
        return np.zeros((0, *shape), bool) if with_masks else None
    present = [m for m in masks if m is not None]
    return np.stack(present) if len(present) == len(masks) else None


# A COCO object's segmentation: polygons, an RLE mapping, or None for a box only.
Segmentation = list[list[float]] | dict[str, Any] | None


@dataclass
class _CocoObject:
    index: int  # position in the file's annotations list, for error messages
    image_id: object
    box: list[float]  # xyxy pixels
    class_id: int
    segmentation: Segmentation


class CocoLabels:
    """Boxes, classes and masks (polygons, uncompressed RLE) from a COCO annotations file; classes in
    category-id order; crowd regions are left out, as pycocotools ignores them."""

    def __init__(self, path: Path):
        self.path, self.warnings = path, list[str]()
        self.objects: dict[object, list[_CocoObject]] = {}
        for i, annotation in enumerate(self._read()):
            found = self._object(i, annotation)
            if not annotation.get("iscrowd"):  # a crowd counted as an object would lower recall
                self.objects.setdefault(found.image_id, []).append(found)
        self.with_masks = any(o.segmentation is not None for v in self.objects.values() for o in v)

    def _read(self) -> list:
        """Read the file's categories and images; return its annotations."""
        try:
            coco = json.loads(self.path.read_text(encoding="utf-8"))
            categories = sorted(coco["categories"], key=lambda c: c["id"])
            self.class_of = {c["id"]: i for i, c in enumerate(categories)}
            self.class_names = [str(c["name"]) for c in categories]
            self.by_file = {Path(im["file_name"]).name: im["id"] for im in coco["images"]}
            return list(coco["annotations"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ReportgenError(
                f"{self.path}: dataset.labels_path: expected a COCO annotations JSON ({e})"
            ) from None

    def _object(self, i: int, annotation: dict) -> _CocoObject:
        try:
            image_id, cid, bbox = annotation["image_id"], annotation["category_id"], annotation["bbox"]
        except (KeyError, TypeError) as e:
            raise ReportgenError(f"{self.path}: annotations[{i}]: expected an annotation ({e})") from None
        if cid not in self.class_of:
            raise ReportgenError(
                f"{self.path}: annotations[{i}].category_id: {cid} is not one of the categories"
            )
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox)):
            raise ReportgenError(
                f"{self.path}: annotations[{i}].bbox: expected [x, y, width, height], got {short_repr(bbox)}"
            )
        x, y, w, h = bbox
        segmentation = self._segmentation(i, annotation.get("segmentation"))
        return _CocoObject(i, image_id, [x, y, x + w, y + h], self.class_of[cid], segmentation)

    def _segmentation(self, i: int, segmentation: object) -> Segmentation:
        """Return polygons or RLE as given, None for a box only; refuse anything else."""
        where = f"{self.path}: annotations[{i}].segmentation"
        # Some exporters write [] or [[]] for an annotation that has only a box.
        if segmentation is None or (isinstance(segmentation, list) and not any(segmentation)):
            return None
        if isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), str):
            return segmentation  # compressed RLE: not decoded, see _mask()
        if isinstance(segmentation, dict) and _is_rle(segmentation):
            (h, w), total = segmentation["size"], sum(segmentation["counts"])
            if total != h * w:
                raise ReportgenError(f"{where}: RLE counts add up to {total} pixels, expected {h} x {w}")
            return segmentation
        if isinstance(segmentation, list) and all(_is_polygon(p) for p in segmentation):
            return segmentation
        raise ReportgenError(
            f"{where}: expected polygons [[x1, y1, x2, y2, ...], ...] or RLE {{counts, size}}, "
            f"got {short_repr(segmentation)}"
        )

    def truth(self, image_path: Path, shape: tuple[int, int]) -> GroundTruth:
        """Return the objects of one image, with masks when all of them have one."""
        found = self.objects.get(self.by_file.get(image_path.name), [])
        masks = [self._mask(o, image_path, shape) for o in found]
        return GroundTruth(
            np.asarray([o.box for o in found], np.float32).reshape(-1, 4),
            np.asarray([o.class_id for o in found], np.int64),
            _stack_masks(masks, shape, self.with_masks),
        )

    def _mask(self, found: _CocoObject, image_path: Path, shape: tuple[int, int]) -> np.ndarray | None:
        segmentation = found.segmentation
        if isinstance(segmentation, list):
            return np.any([_polygon_mask(p, shape) for p in segmentation], axis=0)
        if segmentation is None:
            return None
        if isinstance(segmentation["counts"], str):
            if not self.warnings:  # its only warning: once per file is enough
                self.warnings.append(
                    f"{self.path}: compressed RLE segmentations are not decoded: "
                    f"{image_path.name} and others with them get box-only ground truth"
                )
            return None
        if list(segmentation["size"]) != list(shape):
            raise ReportgenError(
                f"{self.path}: annotations[{found.index}].segmentation.size: "
                f"{segmentation['size']} is not the size [{shape[0]}, {shape[1]}] of {image_path}"
            )
        return _rle_mask(segmentation["counts"], shape)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_polygon(points: object) -> bool:
    return (
        isinstance(points, list)
        and len(points) >= 4
        and len(points) % 2 == 0
        and all(_is_number(v) for v in points)
    )


def _is_rle(segmentation: dict) -> bool:
    counts, size = segmentation.get("counts"), segmentation.get("size")
    return (
        isinstance(counts, list)
        and all(isinstance(c, int) and c >= 0 for c in counts)
        and isinstance(size, list)
        and len(size) == 2
        and all(isinstance(s, int) and s > 0 for s in size)
    )


def _rle_mask(counts: list[int], shape: tuple[int, int]) -> np.ndarray:
    """Decode COCO's uncompressed RLE: alternating runs of 0s and 1s, starting with 0s, column by column."""
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape(shape, order="F")


class YoloLabels:
    """One txt per image: ``class cx cy w h`` (detection) or ``class x1 y1 x2 y2 ...`` (segmentation),
    normalized to [0, 1]. An image without a label file is a background image (no objects)."""

    def __init__(self, images: list[Path], images_root: Path, folder: Path | None):
        self.images_root, self.folder = images_root, folder
        self.class_names, self.warnings = None, list[str]()
        present = [label for label in map(self.label_file, images) if label.is_file()]
        if images and not present:
            expected = self.label_file(images[0])
            raise ReportgenError(
                f"{folder or expected.parent}: dataset.labels: no YOLO label files found for "
                f"{len(images)} images (expected e.g. {expected})"
            )
        # One polygon row anywhere makes it a segmentation set, whose empty images then get empty masks.
        self.with_masks = any(len(line.split()) > 5 for label in present for line in _lines(label))

    def label_file(self, image_path: Path) -> Path:
        """Return the label file of an image: mirrored under the labels folder when one is configured,
        else Ultralytics' img2label_paths (the last ``images`` folder becomes ``labels``)."""
        if self.folder is not None:
            return self.folder / image_path.relative_to(self.images_root).with_suffix(".txt")
        parts = list(image_path.parts)
        folders = parts[:-1]
        if "images" in folders:
            parts[len(folders) - 1 - folders[::-1].index("images")] = "labels"
        return Path(*parts).with_suffix(".txt")

    def truth(self, image_path: Path, shape: tuple[int, int]) -> GroundTruth:
        """Return the objects of one image in pixels, with masks when every row is a polygon."""
        h, w = shape
        label = self.label_file(image_path)
        boxes, classes, masks = [], [], list[np.ndarray | None]()
        for cls, values in _yolo_rows(label) if label.is_file() else []:
            classes.append(cls)
            if len(values) == 4:
                cx, cy, bw, bh = values
                boxes.append([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h])
                masks.append(None)
            else:
                points = [v * (w if i % 2 == 0 else h) for i, v in enumerate(values)]
                xs, ys = points[0::2], points[1::2]
                boxes.append([min(xs), min(ys), max(xs), max(ys)])
                masks.append(_polygon_mask(points, shape))
        return GroundTruth(
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(classes, np.int64),
            _stack_masks(masks, shape, self.with_masks),
        )


def _lines(label: Path) -> list[str]:
    try:
        return label.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ReportgenError(f"{label}: dataset.labels: cannot read the YOLO label file ({e})") from None


def _yolo_rows(label: Path) -> list[tuple[int, list[float]]]:
    """Return (class, values) per non-empty line; refuse a line that is not a YOLO row."""
    return [_yolo_row(label, number, line) for number, line in enumerate(_lines(label), 1) if line.strip()]


def _yolo_row(label: Path, number: int, line: str) -> tuple[int, list[float]]:
    fields = line.split()
    try:
        cls, values = float(fields[0]), [float(v) for v in fields[1:]]
    except ValueError:
        cls, values = -1.0, []
    shaped = len(values) == 4 or (len(values) >= 6 and len(values) % 2 == 0)
    in_range = all(-YOLO_TOLERANCE <= v <= 1 + YOLO_TOLERANCE for v in values)  # False for nan too
    if not (shaped and in_range and cls.is_integer() and cls >= 0):
        raise ReportgenError(
            f"{label}:{number}: dataset.labels: expected 'class cx cy w h' or 'class x1 y1 x2 y2 ...' "
            f"with values in [0, 1], got {line!r}"
        )
    return int(cls), values


class FolderLabels:
    """Classification: the class of an image is the subfolder of the root it lies in (``root/<class>/...``,
    as torchvision's ImageFolder), in sorted order."""

    def __init__(self, root: Path):
        self.root, self.warnings = root, list[str]()
        self.class_names = sorted(p.name for p in root.iterdir() if p.is_dir())
        if not self.class_names:
            raise ReportgenError(f"{root}: dataset.labels: 'folders' expects one subfolder per class")

    def truth(self, image_path: Path, shape: tuple[int, int] | None = None) -> int | None:
        """Return the class index of an image, None when it is not inside a class subfolder."""
        parts = image_path.relative_to(self.root).parts
        return self.class_names.index(parts[0]) if len(parts) > 1 else None


class MaskLabels:
    """Semantic segmentation: one PNG per image whose pixel values are class ids (255: not scored), in a
    folder mirroring the image folder, or (null) where the last ``images`` folder becomes ``annotations``
    (ADE20K's layout)."""

    def __init__(self, images: list[Path], images_root: Path, folder: Path | None):
        self.images_root, self.folder = images_root, folder
        self.class_names, self.warnings = None, list[str]()
        missing = [self.mask_file(image) for image in images if not self.mask_file(image).is_file()]
        if missing:
            raise ReportgenError(
                f"{missing[0]}: dataset.labels: 'masks' expects a PNG mask of class ids for every image "
                f"({len(missing)} of {len(images)} missing)"
            )

    def mask_file(self, image_path: Path) -> Path:
        """Return an image's mask file (same relative path, .png)."""
        if self.folder is not None:
            return self.folder / image_path.relative_to(self.images_root).with_suffix(".png")
        parts = list(image_path.parts)
        folders = parts[:-1]
        if "images" in folders:
            parts[len(folders) - 1 - folders[::-1].index("images")] = "annotations"
        return Path(*parts).with_suffix(".png")

    def truth(self, image_path: Path, shape: tuple[int, int]) -> np.ndarray:
        """Return the (H, W) class ids of an image; a mask of another size or mode is a one-line error."""
        path = self.mask_file(image_path)
        with Image.open(path) as opened:
            mask = np.asarray(opened)
        if mask.ndim != 2 or mask.shape != tuple(shape) or mask.dtype.kind not in "iu":
            raise ReportgenError(
                f"{path}: dataset.labels: expected a single-channel PNG of integer class ids of the image's "
                f"size {shape[1]}x{shape[0]}, got {mask.dtype} of shape {list(mask.shape)}"
            )
        return mask
