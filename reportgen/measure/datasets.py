"""Evaluation inputs: generated shapes, a folder of images with optional labels, or random tensors.

Images are prepared (letterboxed / cropped) once here by the task's own code and handed to every
backend's worker as the same uint8 arrays. Corrupt or unreadable images are skipped with a warning
that names them; labels come from COCO JSON, YOLO txt files, or class subfolders (measure/labels.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from reportgen.config.schema import Config
from reportgen.demo.shapes import CLASS_NAMES, PIXEL_CLASS_NAMES, class_map, make_dataset
from reportgen.errors import ConfigError, ReportgenError
from reportgen.measure import hffolder, inputs
from reportgen.measure.detections import GroundTruth
from reportgen.measure.labels import FolderLabels, for_dataset
from reportgen.measure.tasks import task_module

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class Dataset:
    """Prepared inputs for every backend, with what is known about them."""

    images: np.ndarray | None  # uint8 (N, S, S, 3), prepared by the task; None for model.inputs
    samples: dict[str, np.ndarray] | None  # each input's (N, *sample shape), for source random
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
        return _generated(config)
    if data.source == "text":
        return _text(config)
    return _folder(config)


def _generated(config: Config) -> Dataset:
    """Samples of model.inputs (generated from the seed or read from files), with labels from a file."""
    data = config.dataset
    samples, specs = inputs.generate(config, data.images, data.seed), inputs.specs(config)
    shapes = {s["name"]: s["shape"] for s in specs}
    truths = _file_labels(data.labels_path, data.images) if data.labels == "file" else None
    info = {
        "source": "random",
        "seed": data.seed,
        "images": data.images,
        "shape": inputs.item_shape(specs[0]),
        "inputs": shapes,
        "labelled": truths is not None,
    }
    names = [f"sample {i}" for i in range(data.images)]
    return Dataset(None, samples, [], names, truths, config.model.class_names, info)


def _text(config: Config) -> Dataset:
    """The first dataset.images non-empty lines of a text file, through the model folder's tokenizer."""
    data, specs = config.dataset, inputs.specs(config)
    lines = _lines(Path(data.path or ""), data.images)  # the config check requires the path
    names = [s["name"] for s in specs]
    unknown = [n for n in names if n not in hffolder.TEXT_INPUTS]
    if unknown:
        raise ReportgenError(
            f"model.inputs: dataset.source text makes {', '.join(hffolder.TEXT_INPUTS)}: "
            f"expected inputs among them, got {unknown[0]!r}"
        )
    samples = hffolder.encode(config.model, lines, names, inputs.item_shape(specs[0])[-1])
    truths = _file_labels(data.labels_path, len(lines)) if data.labels == "file" else None
    info = {
        "source": "text",
        "path": str(data.path),
        "images": len(lines),
        "inputs": {s["name"]: s["shape"] for s in specs},
        "labelled": truths is not None,
    }
    names = [f"line {i + 1}" for i in range(len(lines))]
    return Dataset(None, samples, [], names, truths, config.model.class_names, info)


def _lines(path: Path, count: int) -> list[str]:
    """Return the first ``count`` non-empty lines of a UTF-8 text file."""
    try:
        with path.open(encoding="utf-8") as file:
            lines = [line.strip() for line in file if line.strip()][:count]
    except (OSError, UnicodeDecodeError) as e:
        raise ReportgenError(f"{path}: dataset.path: expected a UTF-8 text file ({e})") from None
    if not lines:
        raise ReportgenError(f"{path}: dataset.path: expected lines of text, the file has none")
    return lines


def _file_labels(path: str | None, count: int) -> list[int]:
    """Return ``count`` class indices from a .npy file of integers (one per sample)."""
    if path is None:  # the config check asks for it with labels: file
        raise ReportgenError("dataset.labels_path: expected the .npy of labels for labels: file")
    where = f"{path}: dataset.labels_path"
    try:
        labels = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ReportgenError(
            f"{where}: expected a .npy file of class indices ({' '.join(str(e).split())})"
        ) from None
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) < count:
        shown = f"{labels.dtype} array of shape {list(labels.shape)}"
        raise ReportgenError(f"{where}: expected {count} or more integer class indices, got a {shown}")
    return [int(v) for v in labels[:count]]


def _synthetic(config: Config) -> Dataset:
    """The shapes, drawn at the input size (so no task's prepare changes them), with the task's truth."""
    size, task = hffolder.image_size(config.model), config.model.task
    one_shape = task == "classification"  # an image of one shape has one class
    samples = make_dataset(
        config.dataset.seed, config.dataset.images, size, max_objects=1 if one_shape else 4
    )
    empty = sum(len(s.classes) == 0 for s in samples) if one_shape else 0
    if empty:  # an image without a shape has no class to score
        raise ConfigError(
            f"model.input_size: {size} px is too small for synthetic classification images ({empty} of "
            f"{len(samples)} hold no shape; a shape needs about 30 pixels): expected 32 or more, or "
            "dataset.source folder"
        )
    images = np.stack([s.image for s in samples])
    info = {
        "source": "synthetic",
        "seed": config.dataset.seed,
        "images": len(samples),
        "image_size": size,
        "objects": int(sum(len(s.classes) for s in samples)),
        "labelled": True,
    }
    names = list(PIXEL_CLASS_NAMES if task == "semantic_segmentation" else CLASS_NAMES)
    truths = [_synthetic_truth(task, s) for s in samples]
    return Dataset(
        images,
        None,
        list(images),
        [f"synthetic {i}" for i in range(len(samples))],
        truths,
        names,
        info,
        sources=list(images),
    )


def _synthetic_truth(task: str, sample):
    """Return one shapes sample's ground truth in the task's own terms."""
    if task == "classification":  # one shape per image: its class
        return int(sample.classes[0])
    if task == "semantic_segmentation":
        return class_map(sample)
    return GroundTruth(sample.boxes, sample.classes, sample.masks if task == "segmentation" else None)


def _folder(config: Config) -> Dataset:
    data, size, task = config.dataset, hffolder.image_size(config.model), task_module(config.model.task)
    root = Path(data.path or "")  # the config check requires the path for source folder
    if not root.is_dir():
        raise ReportgenError(f"{root}: dataset.path: expected a folder of images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    labels = for_dataset(config, root, files)
    resize = hffolder.resize_options(config.model)  # a Hugging Face image processor's resize
    images: list[np.ndarray] = []
    names, truths, warnings, sources = [], [], [], []
    for path in files:
        if len(images) >= data.images:
            break
        if isinstance(labels, FolderLabels) and labels.truth(path) is None:
            # Scoring it against no class would count it as a wrong answer.
            warnings.append(f"skipped {path}: not inside a class subfolder of {root}")
            continue
        try:
            image = _read_image(path)
        except (OSError, UnidentifiedImageError, ValueError) as e:
            warnings.append(f"skipped {path}: {' '.join(str(e).split()) or type(e).__name__}")
            continue
        prepared, meta = task.prepare(image, size, **resize)
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
    if labels is not None and config.model.task in ("detection", "segmentation", "set_detection"):
        info["objects"] = int(sum(len(t.classes) for t in truths))
    return Dataset(
        stacked,
        None,
        list(stacked),
        names,
        truths if labels else None,
        labels.class_names if labels else None,
        info,
        warnings + (labels.warnings if labels else []),
        sources,
    )


def _read_image(path: Path) -> np.ndarray:
    """Return an image file as RGB uint8, turned upright by its EXIF orientation."""
    with Image.open(path) as opened:
        # cv2.imread (Ultralytics) applies the orientation, and labelling tools draw on the upright image.
        return np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
