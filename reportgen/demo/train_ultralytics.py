"""Train Ultralytics' yolov8n-seg.yaml on the synthetic shapes with their own trainer; save the checkpoint.

    make train-ultralytics      # or: .venv-ultralytics/bin/python -m reportgen.demo.train_ultralytics

Runs in the ultralytics environment (`make setup-ultralytics`), offline and on the CPU. It writes a
YOLO-format data set of generated shapes (polygons traced from the exact masks), trains from scratch
(no pretrained weights can be downloaded here) and copies the checkpoint Ultralytics saves (stripped
of its optimizer, in FP16) to ``tests/ultralytics/yolov8n-seg-shapes.pt``, the real checkpoint the
ultralytics tests load. The data come from fixed seeds and the trainer is seeded and deterministic.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from reportgen.demo.shapes import CLASS_NAMES, make_dataset

TRAIN_SEED = 1000  # as the demo net's training; evaluation uses seed 2024, held out
VAL_SEED = 2024
OUTPUT = Path(__file__).resolve().parents[2] / "tests" / "ultralytics" / "yolov8n-seg-shapes.pt"
UPSCALE = 4  # masks are traced at 4x so polygon vertices sit 1/8 px inside the true pixel edges


def polygon(mask: np.ndarray) -> np.ndarray:
    """Return the outline of a boolean mask as an (N, 2) array of xy pixel coordinates."""
    import cv2  # an ultralytics requirement

    big = np.kron(mask.astype(np.uint8), np.ones((UPSCALE, UPSCALE), np.uint8))
    contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = max(contours, key=cv2.contourArea)  # the shapes are connected: one outer contour
    outline = cv2.approxPolyDP(outline, 0.5, closed=True)  # drop staircase points (half an upscaled px)
    return (outline[:, 0, :].astype(np.float32) + 0.5) / UPSCALE


def label_text(classes: np.ndarray, masks: np.ndarray) -> str:
    """Return YOLO segmentation label lines: class, then the outline's xy normalized to the image size."""
    height, width = masks.shape[1:]
    rows = []
    for cls, mask in zip(classes, masks):
        points = np.clip(polygon(mask) / np.array([width, height], np.float32), 0, 1)
        rows.append(f"{cls} " + " ".join(f"{v:.5f}" for v in points.reshape(-1)))
    return "\n".join(rows) + "\n"


def write_split(root: Path, split: str, seed: int, count: int, size: int) -> None:
    """Write ``count`` generated images and their labels in Ultralytics' layout (images/, labels/)."""
    images, labels = root / "images" / split, root / "labels" / split
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    for i, sample in enumerate(make_dataset(seed, count, size)):
        Image.fromarray(sample.image).save(images / f"{i:05d}.png")
        (labels / f"{i:05d}.txt").write_text(label_text(sample.classes, sample.masks))


def write_dataset(root: Path, train_images: int, val_images: int, size: int) -> Path:
    """Write the train and val splits and the data YAML Ultralytics reads; return the YAML's path."""
    write_split(root, "train", TRAIN_SEED, train_images, size)
    write_split(root, "val", VAL_SEED, val_images, size)
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(CLASS_NAMES))
    data = root / "shapes.yaml"
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-images", type=int, default=640)
    parser.add_argument("--val-images", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr0", type=float, default=0.003)
    parser.add_argument("--imgsz", type=int, default=160)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data set and run here")
    args = parser.parse_args()

    os.environ.setdefault("YOLO_OFFLINE", "1")  # no update checks, downloads or analytics
    from ultralytics import YOLO

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reportgen-yolo-"))
    try:
        started = time.perf_counter()
        data = write_dataset(workdir / "data", args.train_images, args.val_images, args.imgsz)
        print(f"data set written in {time.perf_counter() - started:.0f} s: {data}")
        started = time.perf_counter()
        model = YOLO("yolov8n-seg.yaml")  # Ultralytics' architecture, built offline, trained from scratch
        metrics = model.train(
            data=str(data),
            imgsz=args.imgsz,
            epochs=args.epochs,
            batch=args.batch,
            # From scratch and short: a step every batch (Ultralytics accumulates gradients up to a
            # nominal batch of 64, which left 150 steps in 10k images), AdamW at a higher rate than
            # their automatic choice for short runs (0.00125 here), one warm-up epoch instead of three.
            nbs=args.batch,
            optimizer="AdamW",
            lr0=args.lr0,
            warmup_epochs=1,
            workers=0,
            device="cpu",
            seed=0,
            deterministic=True,
            val=False,  # validate once, after the last epoch
            plots=False,
            amp=False,
            project=str(workdir / "runs"),
            name="train",
            exist_ok=True,
        )
        train_s = time.perf_counter() - started
        weights = workdir / "runs" / "train" / "weights"
        best = weights / "best.pt" if (weights / "best.pt").exists() else weights / "last.pt"
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(best, args.output)
        print(
            f"trained {args.epochs} epochs on {args.train_images} images in {train_s / 60:.1f} min; "
            f"val (seed {VAL_SEED}, {args.val_images} images): box mAP50 {metrics.box.map50:.3f}, "
            f"mAP50-95 {metrics.box.map:.3f}, mask mAP50 {metrics.seg.map50:.3f}; "
            f"saved {args.output} ({args.output.stat().st_size / 2**20:.1f} MiB)"
        )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
