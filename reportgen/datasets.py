"""Evaluation inputs: generated shapes, a folder of images with optional labels, or random tensors.

Images are prepared (letterboxed / cropped) once here by the task's own code and handed to every
backend's worker as the same uint8 arrays. Corrupt or unreadable images are skipped with a warning
that names them; labels come from COCO JSON, YOLO txt files, or class subfolders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from reportgen.config import Config
from reportgen.demo.shapes import CLASS_NAMES, make_dataset
from reportgen.detections import GroundTruth
from reportgen.errors import ReportgenError
from reportgen.tasks import task_module

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class Dataset:
    """Prepared inputs for every backend, with what is known about them."""

    images: np.ndarray | None  # uint8 (N, S, S, 3), prepared by the task; None for random tensors
    tensors: np.ndarray | None  # float32 (N, *input_shape) for random inputs
    originals: list[np.ndarray]  # prepared images to draw examples on (empty for tensors)
    names: list[str]
    truths: list | None  # per image ground truth, None without labels
    class_names: list[str] | None
    info: dict
    warnings: list[str] = field(default_factory=list)
    sources: list[np.ndarray] = field(default_factory=list)  # images as read, for a rect letterbox


def load(config: Config) -> Dataset:
    """Return the evaluation inputs the config asks for."""
    data = config.dataset
    if data.source == "synthetic":
        return _synthetic(config)
    if data.source == "random":
        from reportgen.tasks.raw import random_inputs

        shape = config.model.input_shape or [1, 3, config.model.input_size, config.model.input_size]
        tensors = random_inputs(shape, data.images, data.seed)
        info = {
            "source": "random",
            "seed": data.seed,
            "images": data.images,
            "shape": shape,
            "labelled": False,
        }
        return Dataset(None, tensors, [], [f"random {i}" for i in range(data.images)], None, None, info)
    return _folder(config)


def _synthetic(config: Config) -> Dataset:
    size = config.model.input_size
    samples = make_dataset(config.dataset.seed, config.dataset.images, size)
    with_masks = config.model.task == "segmentation"
    truths = [GroundTruth(s.boxes, s.classes, s.masks if with_masks else None) for s in samples]
    images = np.stack([s.image for s in samples])
    info = {
        "source": "synthetic",
        "seed": config.dataset.seed,
        "images": len(samples),
        "image_size": size,
        "objects": int(sum(len(s.classes) for s in samples)),
        "labelled": True,
    }
    return Dataset(
        images,
        None,
        list(images),
        [f"synthetic {i}" for i in range(len(samples))],
        truths,
        list(CLASS_NAMES),
        info,
        sources=list(images),
    )


def _folder(config: Config) -> Dataset:
    data, size, task = config.dataset, config.model.input_size, task_module(config.model.task)
    root = Path(data.path)
    if not root.is_dir():
        raise ReportgenError(f"{root}: dataset.path: expected a folder of images")
    labels = _labels(config, root)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    images, names, truths, warnings, sources = [], [], [], [], []
    for path in files:
        if len(images) >= data.images:
            break
        try:
            with Image.open(path) as opened:
                image = np.asarray(opened.convert("RGB"))
        except (OSError, UnidentifiedImageError, ValueError) as e:
            warnings.append(f"skipped {path}: {' '.join(str(e).split()) or type(e).__name__}")
            continue
        prepared, meta = task.prepare(image, size)
        truth = labels.truth(path, image.shape[:2]) if labels else None
        images.append(prepared)
        sources.append(image)
        names.append(str(path.relative_to(root)))
        truths.append(task.prepare_truth(truth, meta, size))
    if not images:
        raise ReportgenError(f"{root}: dataset.path: no readable jpg/png images")
    stacked = np.stack(images)
    info = {
        "source": "folder",
        "path": str(root),
        "images": len(images),
        "image_size": size,
        "skipped": len(warnings),
        "labels": data.labels,
        "labelled": labels is not None,
    }
    if labels is not None and config.model.task in ("detection", "segmentation"):
        info["objects"] = int(sum(len(t.classes) for t in truths))
    return Dataset(
        stacked,
        None,
        list(stacked),
        names,
        truths if labels else None,
        labels.class_names if labels else None,
        info,
        warnings,
        sources,
    )


def _labels(config: Config, root: Path):
    kind = config.dataset.labels
    if kind == "none":
        return None
    if kind == "folders":
        return FolderLabels(root)
    if kind == "coco":
        return CocoLabels(Path(config.dataset.labels_path or root / "annotations.json"))
    default = root.parent / "labels" if (root.parent / "labels").is_dir() else root
    return YoloLabels(Path(config.dataset.labels_path) if config.dataset.labels_path else default, root)


def _polygon_mask(points: list[float], shape: tuple[int, int]) -> np.ndarray:
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(canvas).polygon([(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)], fill=1)
    return np.asarray(canvas, dtype=bool)


class CocoLabels:
    """Boxes, classes and (polygon) masks from a COCO annotations file; classes in category-id order."""

    def __init__(self, path: Path):
        try:
            coco = json.loads(path.read_text(encoding="utf-8"))
            categories = sorted(coco["categories"], key=lambda c: c["id"])
            self.class_of = {c["id"]: i for i, c in enumerate(categories)}
            self.class_names = [str(c["name"]) for c in categories]
            self.by_file = {Path(im["file_name"]).name: im["id"] for im in coco["images"]}
            self.annotations: dict[int, list] = {}
            for a in coco["annotations"]:
                self.annotations.setdefault(a["image_id"], []).append(a)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ReportgenError(
                f"{path}: dataset.labels_path: expected a COCO annotations JSON ({e})"
            ) from None

    def truth(self, image_path: Path, shape: tuple[int, int]) -> GroundTruth:
        found = self.annotations.get(self.by_file.get(image_path.name), [])
        boxes = [
            [a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
            for a in found
        ]
        polygons = [a.get("segmentation") for a in found]
        masks = None
        if found and all(isinstance(p, list) and p for p in polygons):  # polygons; RLE masks are not read
            masks = np.stack([np.any([_polygon_mask(poly, shape) for poly in p], axis=0) for p in polygons])
        return GroundTruth(
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray([self.class_of[a["category_id"]] for a in found], np.int64),
            masks,
        )


class YoloLabels:
    """One txt per image: ``class cx cy w h`` (detection) or ``class x1 y1 x2 y2 ...`` (segmentation),
    normalized to [0, 1]."""

    def __init__(self, folder: Path, images_root: Path):
        self.folder, self.images_root, self.class_names = folder, images_root, None

    def truth(self, image_path: Path, shape: tuple[int, int]) -> GroundTruth:
        h, w = shape
        label = self.folder / image_path.relative_to(self.images_root).with_suffix(".txt")
        rows = (
            [line.split() for line in label.read_text().splitlines() if line.strip()]
            if label.exists()
            else []
        )
        boxes, classes, masks = [], [], []
        for row in rows:
            values = [float(v) for v in row[1:]]
            classes.append(int(row[0]))
            if len(values) == 4:
                cx, cy, bw, bh = values
                boxes.append([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h])
                masks.append(None)
            else:
                points = [v * (w if i % 2 == 0 else h) for i, v in enumerate(values)]
                xs, ys = points[0::2], points[1::2]
                boxes.append([min(xs), min(ys), max(xs), max(ys)])
                masks.append(_polygon_mask(points, shape))
        full_masks = np.stack(masks) if masks and all(m is not None for m in masks) else None
        return GroundTruth(
            np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(classes, np.int64), full_masks
        )


class FolderLabels:
    """Classification: the class of an image is its subfolder (``root/<class>/<image>``), in sorted order."""

    def __init__(self, root: Path):
        self.class_names = sorted(p.name for p in root.iterdir() if p.is_dir())
        if not self.class_names:
            raise ReportgenError(f"{root}: dataset.labels: 'folders' expects one subfolder per class")

    def truth(self, image_path: Path, shape) -> int | None:
        return (
            self.class_names.index(image_path.parent.name)
            if image_path.parent.name in self.class_names
            else None
        )
