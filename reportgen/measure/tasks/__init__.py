"""Tasks: pre-processing, decoding and metrics, shared by every backend (numpy only).

Every backend's raw outputs go through the same task code, so differences in predictions measure the
network, not two pipelines. A task module provides:

- ``prepare(image, size) -> (prepared uint8 image, meta)``: the geometric step (letterbox, resize),
  done once in the parent;
- ``prepare_truth(truth, meta, size)``: ground truth in the prepared image's coordinates;
- ``to_tensor(prepared, settings) -> float32 (1, 3, S, S)``: done inside each worker;
- ``decode(outputs, settings)``: one image's raw outputs to a prediction;
- ``evaluate(predictions, truths, settings) -> dict``: metrics against ground truth ({} without labels);
- ``compare(reference, candidate, settings) -> dict``: agreement of two backends' predictions.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportgen.config.schema import Config

TASKS = {
    "segmentation": "reportgen.measure.tasks.yolo",
    "detection": "reportgen.measure.tasks.yolo",
    "classification": "reportgen.measure.tasks.classification",
    "raw": "reportgen.measure.tasks.raw",
}


def task_module(task: str) -> ModuleType:
    """Import and return the module implementing ``task``."""
    return importlib.import_module(TASKS[task])


def task_settings(config: Config) -> dict:
    """Return what the task code needs from the config (pre-processing, decoding, matching)."""
    return {
        "input_size": config.model.input_size,
        "mean": config.model.mean,
        "std": config.model.std,
        **config.postprocess.model_dump(),
        "match_iou": config.parity.match_iou,
        "near_threshold_band": config.parity.near_threshold_band,
    }
