"""Example images for the report: where backends disagree first, drawn with each backend's detections.

The pictures are made here, at run time, where the images and masks exist, and stored in the results
document as small JPEG data URIs, so a report re-renders from results.json alone.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

COUNT = 4
JPEG_QUALITY = 85
# One colour per class id (Okabe-Ito, readable by colour-blind readers).
PALETTE = [
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
    (255, 255, 255),
]


def pick(data, decoded: dict, backends: dict, reference: str, class_names: list[str]) -> list[dict]:
    """Return up to COUNT examples: disagreements first, then the first images of the set."""
    if reference not in decoded or not data.originals:
        return []
    candidates = [n for n in backends if n != reference and n in decoded]
    chosen: list[tuple[int, str, str | None]] = []
    for name in candidates:
        for index in backends[name]["parity"]["disagreeing_images"]:
            if len(chosen) < COUNT and index not in [c[0] for c in chosen]:
                chosen.append((index, "disagreement", name))
    for index in range(len(data.originals)):
        if len(chosen) >= COUNT:
            break
        if index not in [c[0] for c in chosen]:
            chosen.append((index, "agreement", candidates[0] if candidates else None))
    return [
        _example(data, i, reason, [reference] + ([other] if other else []), decoded, class_names)
        for i, reason, other in chosen
    ]


def _example(data, index: int, reason: str, names: list[str], decoded: dict, class_names: list[str]) -> dict:
    shown = {name: decoded[name]["predictions"][index] for name in names}
    truth = data.truths[index] if data.truths else None
    return {
        "image": index,
        "name": data.names[index],
        "reason": reason,
        "backends": names,
        "ground_truth_objects": int(len(truth.classes)) if truth is not None else None,
        "detections": {name: _detections_json(d, class_names) for name, d in shown.items()},
        "pictures": {name: draw(data.originals[index], d) for name, d in shown.items()},
    }


def _detections_json(dets, class_names: list[str]) -> list[dict]:
    def name(c: int) -> str:
        return class_names[c] if c < len(class_names) else f"class {c}"

    return [
        {
            "box": [round(float(v), 1) for v in box],
            "score": round(float(score), 4),
            "class_id": int(c),
            "class_name": name(int(c)),
        }
        for box, score, c in zip(dets.boxes, dets.scores, dets.classes)
    ]


def draw(image: np.ndarray, dets) -> str:
    """Return a JPEG data URI of ``image`` with masks tinted and boxes outlined by class colour."""
    canvas = image.astype(np.float32)
    for mask, cls in zip(dets.masks if dets.masks is not None else [], dets.classes):
        canvas[mask] = 0.55 * canvas[mask] + 0.45 * np.array(
            PALETTE[int(cls) % len(PALETTE)], dtype=np.float32
        )
    picture = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
    pen = ImageDraw.Draw(picture)
    for box, cls in zip(dets.boxes, dets.classes):
        pen.rectangle([float(v) for v in box], outline=PALETTE[int(cls) % len(PALETTE)], width=1)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
