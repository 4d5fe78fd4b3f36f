"""Deterministic synthetic data for every image task: coloured shapes on textured backgrounds.

Image ``i`` of a data set depends only on ``(seed, i)``, so a data set of 50 images is the first
50 images of one of 500, and the same seed always gives the same bytes (numpy's PCG64 is stable).
One sample serves every task: boxes and instance masks (detection, segmentation), the class of a
single shape (classification, ``max_objects=1``), and a per-pixel class map (semantic segmentation,
``class_map``: 0 is the background, shape class k is k + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASS_NAMES = ("circle", "square", "triangle", "cross")
PIXEL_CLASS_NAMES = ("background", *CLASS_NAMES)  # the classes of class_map


@dataclass(frozen=True)
class Sample:
    """One image with its ground truth (boxes are xyxy pixels, masks are boolean HxW)."""

    image: np.ndarray  # uint8 HxWx3
    boxes: np.ndarray  # float32 Nx4
    classes: np.ndarray  # int64 N
    masks: np.ndarray  # bool NxHxW


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Return a float HxWx3 background: a colour, a few sinusoidal waves, stripes or noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(40, 215, size=3)
    image = np.broadcast_to(base, (size, size, 3)).astype(np.float32).copy()
    for _ in range(rng.integers(1, 4)):
        fx, fy = rng.uniform(-12, 12, size=2)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * (fx * xx + fy * yy) + phase)
        image += wave[..., None] * rng.uniform(-35, 35, size=3)
    image += rng.normal(0, rng.uniform(2, 14), size=image.shape)
    return image


def _shape_mask(rng: np.random.Generator, cls: int, size: int, cx: float, cy: float, r: float) -> np.ndarray:
    """Return the boolean mask of shape ``cls`` centred at (cx, cy) with half-extent ``r``."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    angle = rng.uniform(0, np.pi / 2)
    cos, sin = np.cos(angle), np.sin(angle)
    u = (xx - cx) * cos + (yy - cy) * sin  # coordinates in the shape's rotated frame
    v = -(xx - cx) * sin + (yy - cy) * cos
    name = CLASS_NAMES[cls]
    if name == "circle":
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    if name == "square":
        side = r / np.sqrt(2) * 1.15
        return (np.abs(u) <= side) & (np.abs(v) <= side)
    if name == "triangle":
        inside = np.ones_like(u, dtype=bool)
        for k in range(3):  # intersection of three half-planes of an equilateral triangle
            theta = angle + np.pi / 2 + k * 2 * np.pi / 3
            inside &= (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta) <= r * 0.5
        return inside
    arm = r * 0.32  # cross: the union of two rotated bars
    return ((np.abs(u) <= r * 0.9) & (np.abs(v) <= arm)) | ((np.abs(v) <= r * 0.9) & (np.abs(u) <= arm))


def _colour_far_from(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    """Return a colour at least 90 (Euclidean, 0-255) away from the background's mean colour."""
    for _ in range(50):
        colour = rng.uniform(0, 255, size=3)
        if np.linalg.norm(colour - background) >= 90:
            return colour
    return 255.0 - background


def make_sample(seed: int, index: int, size: int = 160, max_objects: int = 4) -> Sample:
    """Return image ``index`` of the data set generated from ``seed``."""
    rng = np.random.default_rng([seed, index])
    image = _texture(rng, size)
    boxes, classes, masks = [], [], list[np.ndarray]()
    for _ in range(rng.integers(1, max_objects + 1)):
        for _attempt in range(30):  # place without overlapping earlier shapes (exact masks)
            cls = int(rng.integers(len(CLASS_NAMES)))
            r = rng.uniform(size * 0.06, size * 0.2)
            cx, cy = rng.uniform(r + 2, size - r - 2, size=2)
            mask = _shape_mask(rng, cls, size, cx, cy, r)
            if mask.sum() < 30 or any((mask & m).any() for m in masks):
                continue
            grown = np.zeros_like(mask)
            grown[1:, :] |= mask[:-1, :]
            grown[:, 1:] |= mask[:, :-1]
            if any((grown & m).any() for m in masks):
                continue
            colour = _colour_far_from(rng, image[mask].mean(axis=0))
            image[mask] = colour + rng.normal(0, 6, size=(int(mask.sum()), 3))
            ys, xs = np.nonzero(mask)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            classes.append(cls)
            masks.append(mask)
            break
    return Sample(
        image=np.clip(image, 0, 255).astype(np.uint8),
        boxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        classes=np.asarray(classes, dtype=np.int64),
        masks=np.asarray(masks, dtype=bool).reshape(-1, size, size),
    )


def make_dataset(
    seed: int, count: int, size: int = 160, start: int = 0, max_objects: int = 4
) -> list[Sample]:
    """Return ``count`` samples, images ``start .. start+count-1`` of the data set of ``seed``."""
    return [make_sample(seed, start + i, size, max_objects) for i in range(count)]


def class_map(sample: Sample) -> np.ndarray:
    """Return the sample's (H, W) uint8 map of pixel classes (PIXEL_CLASS_NAMES: 0 is the background)."""
    pixels = np.zeros(sample.image.shape[:2], np.uint8)
    for cls, mask in zip(sample.classes, sample.masks):
        pixels[mask] = cls + 1  # shapes never overlap (make_sample places them apart)
    return pixels
