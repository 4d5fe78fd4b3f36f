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

A task reads its outputs by role (config/outputs.py), through ``output``: the names model.outputs gives
that role, else the task's defaults for the common layouts (Hugging Face ``logits``, ``pred_boxes``;
Ultralytics ``output0``, ``output1``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from reportgen.errors import ConfigError
from reportgen.measure import hffolder

if TYPE_CHECKING:
    import numpy as np

    from reportgen.config.schema import Config

TASKS = {
    "segmentation": "reportgen.measure.tasks.yolo",
    "detection": "reportgen.measure.tasks.yolo",
    "classification": "reportgen.measure.tasks.classification",
    "set_detection": "reportgen.measure.tasks.set_detection",
    "semantic_segmentation": "reportgen.measure.tasks.semantic_segmentation",
    "raw": "reportgen.measure.tasks.raw",
}


def task_module(task: str) -> ModuleType:
    """Import and return the module implementing ``task``."""
    return importlib.import_module(TASKS[task])


def task_settings(config: Config) -> dict:
    """Return what the task code needs from the config (pre-processing, decoding, matching); a Hugging
    Face model folder's image processor gives the size and normalization the config leaves at defaults,
    its config.json a detector's class-score role."""
    mean, std = hffolder.normalization(config.model)
    return {
        "input_size": hffolder.image_size(config.model),
        "mean": mean,
        "std": std,
        **config.postprocess.model_dump(),
        "match_iou": config.parity.match_iou,
        "near_threshold_band": config.parity.near_threshold_band,
        "outputs": {**hffolder.output_roles(config.model), **(config.model.outputs or {})},
    }


def role_name(names, settings: dict, role: str, defaults: tuple[str, ...]) -> str | None:
    """Return the name of the output playing ``role`` among ``names``: the one model.outputs gives it,
    else the first of the task's default names present; None when there is none."""
    declared = [name for name, r in settings.get("outputs", {}).items() if r == role]
    return next((name for name in declared or defaults if name in names), None)


def output(
    outputs: dict[str, np.ndarray], settings: dict, role: str, defaults: tuple[str, ...]
) -> np.ndarray:
    """Return the output playing ``role``; raise one line naming the key and the outputs there are."""
    name = role_name(outputs, settings, role, defaults)
    if name is None:
        declared = [n for n, r in settings.get("outputs", {}).items() if r == role]
        fitting = _fitting_task(outputs, settings)
        raise ConfigError(
            f"model.outputs: expected an output with the role {role} ({', '.join(declared or defaults)}), "
            f"the model returns {', '.join(outputs)}: name the one that plays it, or choose the task that "
            "fits these outputs" + (f" (model.task: {fitting})" if fitting else "")
        )
    return outputs[name]


def _fitting_task(names, settings: dict) -> str | None:
    """Return the task whose every role the outputs play by default (the one with most roles), or None."""
    roles = {task: task_module(task).OUTPUTS for task in TASKS}
    fits = [t for t, r in roles.items() if r and all(role_name(names, settings, k, d) for k, d in r.items())]
    return max(fits, key=lambda task: len(roles[task]), default=None)


def check_outputs(task: str, names, settings: dict) -> None:
    """Raise one line when the model lacks an output the task needs (right after the export, before
    any backend runs): each task module's ``OUTPUTS`` maps the roles it needs to their default names."""
    for role, defaults in task_module(task).OUTPUTS.items():
        if role_name(names, settings, role, defaults) is None:
            output(dict.fromkeys(names), settings, role, defaults)  # type: ignore[arg-type]  # raises


def judged(names, settings: dict) -> list[str]:
    """Return the outputs the parity verdict judges: all but those model.outputs marks ``shown``."""
    return [name for name in names if settings.get("outputs", {}).get(name) != "shown"]


def shape_problem(task: str, shapes: dict[str, list[int]], settings: dict) -> str | None:
    """Return the line for an output whose shape the task cannot read (one sample's call, before the
    export), or None: a token classifier's [1, tokens, classes] under classification would otherwise be
    read as one vector of tokens x classes, silently."""
    if task == "classification":
        name = role_name(shapes, settings, "logits", ("output0", "logits")) or next(iter(shapes), None)
        if name is not None and sum(d != 1 for d in shapes[name][1:]) > 1:
            return (
                f"model.task: classification reads one vector of class logits per sample, the model's "
                f"{name} is {shapes[name]} (one per token or position): expected task raw, or model.outputs "
                "naming an output of shape [batch, classes]"
            )
    if task == "semantic_segmentation":
        name = role_name(shapes, settings, "logits", ("logits", "output0"))
        if name is not None and len(shapes[name]) != 4:
            return (
                f"model.task: semantic_segmentation reads per-pixel logits [batch, classes, h, w], the "
                f"model's {name} is {shapes[name]}: expected another task, or model.outputs naming them"
            )
    return None
