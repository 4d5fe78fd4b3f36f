"""The evaluation inputs as the parent stores them and every worker reads them back.

One format, one module: the parent writes the prepared images (or random tensors) as .npy files, which
workers memory-map, so a worker's peak RSS holds the one input it times, not the whole data set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reportgen.measure.tasks import task_module


def store_inputs(images: np.ndarray | None, tensors: np.ndarray | None, sources: list, folder: Path) -> None:
    """Write the prepared images (or tensors) and, when a backend letterboxes itself, the source images."""
    folder.mkdir()
    if images is not None:
        np.save(folder / "images.npy", images)
    else:
        np.save(folder / "tensors.npy", tensors)
    for i, image in enumerate(sources):  # only for a backend with its own (rect) letterbox
        np.save(folder / f"source_{i}.npy", image)


def read_inputs(job: dict, limit: int | None = None) -> list[np.ndarray]:
    """Return the input tensors: stored random tensors, or prepared images through the task's to_tensor."""

    task, folder, settings = task_module(job["task"]), Path(job["dataset_path"]), job["task_settings"]
    if (folder / "tensors.npy").exists():
        # Memory-mapped and copied: only the tensors asked for enter this process's memory.
        return [np.array(t) for t in np.load(folder / "tensors.npy", mmap_mode="r")[:limit]]
    images = np.load(folder / "images.npy", mmap_mode="r")[:limit]
    if job.get("settings", {}).get("letterbox") == "rect":  # this backend's own, non-square letterbox
        sources = [np.load(folder / f"source_{i}.npy") for i in range(len(images))]
        return [
            task.to_tensor(task.prepare(s, settings["input_size"], rect=True)[0], settings) for s in sources
        ]
    return [task.to_tensor(np.array(image), settings) for image in images]
