"""Checks of config keys that are valid alone but not together: backend names, the reference, the model
source and task against the data and the backends, and keys set where they have no effect.

Each returns pydantic error details worded by words.error_line, so that they are reported with every
other error, one line each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import InitErrorDetails

from reportgen.config.backends import KINDS, default_backends, foreign_problems
from reportgen.config.sections import ModelConfig
from reportgen.config.words import cross_error, short_repr

if TYPE_CHECKING:
    from reportgen.config.schema import Config


def backend_problems(data: dict[str, Any]) -> list[InitErrorDetails]:
    """Return the unique-name, reference and other-kind key errors visible in raw (unvalidated) data."""
    backends = data.get("backends", default_backends())
    if not isinstance(backends, list):
        return []  # the type error is reported by validation

    def raw(item: Any, key: str) -> Any:
        if isinstance(item, BaseModel):
            return getattr(item, key, None)
        return item.get(key) if isinstance(item, dict) else None

    problems = []
    seen: set[str] = set()
    for index, item in enumerate(backends):
        problems += foreign_problems(index, item)
        name = raw(item, "name")
        if isinstance(name, str):
            if name in seen:
                problems.append(cross_error(("backends", index, "name"), name, "a name no other backend has"))
            seen.add(name)
    reference = data.get("reference", "pytorch")
    kinds = [(raw(item, "name"), raw(item, "kind")) for item in backends]
    complete = bool(kinds) and all(isinstance(name, str) and kind in KINDS for name, kind in kinds)
    if isinstance(reference, str) and complete:
        candidates = [name for name, kind in kinds if kind == "pytorch"]
        if reference not in candidates:
            if candidates:
                # Names are not validated yet here: each shortened, and a handful at most.
                names = [short_repr(name, 40) for name in candidates[:5]] + (
                    ["..."] if len(candidates) > 5 else []
                )
                listed = "backends of that kind: " + ", ".join(names)
            else:
                listed = "backends has none of that kind"
            expected = f"the name of a backend of kind 'pytorch' ({listed})"
            problems.append(cross_error(("reference",), reference, expected))
    return problems


def combination_problems(config: Config) -> list[InitErrorDetails]:
    """Return the errors of keys that are valid alone but not together (source, task, data, export)."""
    model, data = config.model, config.dataset
    problems = []
    if model.source in ("torchscript", "ultralytics", "huggingface") and model.checkpoint is None:
        problems.append(cross_error(("model", "checkpoint"), None, f"the {model.source} model file"))
    if model.source == "factory" and model.factory is None:
        problems.append(
            cross_error(("model", "factory"), None, "'package.module:function' for source factory")
        )
    if (
        model.source == "torchscript"
        and config.export.exporter == "dynamo"
        and config.export.onnx_file is None
    ):
        expected = "'legacy' for a torchscript model (torch.export cannot trace a ScriptModule)"
        problems.append(cross_error(("export", "exporter"), "dynamo", expected))
    for index, backend in enumerate(config.backends):
        if (
            backend.kind == "pytorch"
            and backend.letterbox == "rect"
            and model.task not in ("detection", "segmentation")
        ):
            expected = "'square': 'rect' needs a detection or segmentation task"
            problems.append(cross_error(("backends", index, "letterbox"), "rect", expected))
    if model.input_shape is not None and model.task != "raw":
        expected = "null unless model.task is raw (images are shaped by input_size)"
        problems.append(cross_error(("model", "input_shape"), model.input_shape, expected))
    if model.task in ("detection", "segmentation") and model.input_size % 32:
        problems.append(
            cross_error(("model", "input_size"), model.input_size, "a multiple of 32 for " + model.task)
        )
    if data.source == "synthetic" and (model.task == "raw" or model.inputs):
        expected = "'folder' or 'random' for task " + model.task + " (synthetic shapes are images)"
        problems.append(cross_error(("dataset", "source"), data.source, expected))
    if data.source == "folder" and data.path is None:
        problems.append(cross_error(("dataset", "path"), None, "the image folder for source folder"))
    if data.source == "text" and data.path is None:
        problems.append(cross_error(("dataset", "path"), None, "the file of text lines for source text"))
    if data.source == "text" and model.source != "huggingface":
        expected = "'huggingface' for dataset.source text (the model folder's tokenizer reads the lines)"
        problems.append(cross_error(("model", "source"), model.source, expected))
    if data.source == "text" and model.task not in ("classification", "raw"):
        expected = f"'folder' or 'synthetic' for task {model.task} (text feeds tokens, not images)"
        problems.append(cross_error(("dataset", "source"), "text", expected))
    if (
        data.source == "random"
        and model.task != "raw"
        and not (model.task == "classification" and (model.inputs or model.source == "huggingface"))
    ):
        expected = "'synthetic' or 'folder' for task " + model.task
        if model.task == "classification":
            expected = "'folder' for task classification without model.inputs (random needs them)"
        problems.append(cross_error(("dataset", "source"), "random", expected))
    if data.labels == "file" and data.source not in ("random", "text"):
        expected = "'none' or an image labels format for dataset.source " + data.source
        problems.append(cross_error(("dataset", "labels"), data.labels, expected))
    elif data.labels not in ("none", "file") and data.source != "folder":
        problems.append(
            cross_error(("dataset", "labels"), data.labels, "'none' unless dataset.source is folder")
        )
    if data.labels == "file" and data.labels_path is None:
        problems.append(cross_error(("dataset", "labels_path"), None, "the .npy of labels for labels: file"))
    fitting = {
        "coco": ("detection", "segmentation", "set_detection"),
        "yolo": ("detection", "segmentation", "set_detection"),
        "masks": ("semantic_segmentation",),
        "folders": ("classification",),
        "file": ("classification",),
    }
    if data.labels in fitting and model.task not in fitting[data.labels]:
        expected = f"labels that fit task {model.task}: " + (
            "'folders', 'file' or 'none'"
            if model.task == "classification"
            else "'masks' or 'none'"
            if model.task == "semantic_segmentation"
            else "'coco', 'yolo' or 'none'"
        )
        problems.append(cross_error(("dataset", "labels"), data.labels, expected))
    return problems + _input_problems(config) + _scope_problems(config)


def _input_problems(config: Config) -> list[InitErrorDetails]:
    """Return the errors of model.inputs and batch_sizes that only show together with other keys."""
    model, problems = config.model, []
    if model.inputs is None:
        if (
            config.dataset.source == "random"
            and model.task == "classification"
            and model.source != "huggingface"
        ):
            problems.append(cross_error(("model", "inputs"), None, "the inputs for dataset.source random"))
        return problems
    if model.input_shape is not None:
        expected = "null when model.inputs is given (each input has its own shape)"
        problems.append(cross_error(("model", "input_shape"), model.input_shape, expected))
    if config.dataset.source not in ("random", "text"):
        expected = (
            f"null unless dataset.source is random or text (source {config.dataset.source} feeds images)"
        )
        problems.append(cross_error(("model", "inputs"), "[...]", expected))
    seen: set[str] = set()
    for index, spec in enumerate(model.inputs):
        where = ("model", "inputs", index)
        if spec.name in seen:
            problems.append(cross_error((*where, "name"), spec.name, "a name no other input has"))
        seen.add(spec.name)
        if spec.shape.count("batch") > 1:
            problems.append(cross_error((*where, "shape"), spec.shape, "at most one 'batch' axis"))
        problems += _value_problems(spec, where)
    batched = any("batch" in spec.shape for spec in model.inputs)
    if config.measurement.batch_sizes != [1] and not batched:
        expected = "[1]: no input of model.inputs has a 'batch' axis in its shape"
        problems.append(cross_error(("measurement", "batch_sizes"), config.measurement.batch_sizes, expected))
    return problems


# The value keys each kind reads; any other key set is an error (it would do nothing).
_VALUE_KEYS = {
    "integers": ("low", "high"),
    "uniform": ("low", "high"),
    "normal": ("mean", "std"),
    "zeros": (),
    "ones": (),
    "constant": ("value",),
    "file": ("path",),
}


def _value_problems(spec, where: tuple) -> list[InitErrorDetails]:
    values, problems = spec.values, []
    for key in ("low", "high", "mean", "std", "value", "path"):
        if getattr(values, key) is not None and key not in _VALUE_KEYS[values.kind]:
            expected = f"no {key} for values of kind {values.kind!r} (it reads {_keys(values.kind)})"
            problems.append(cross_error((*where, "values", key), getattr(values, key), expected))
    if values.kind == "constant" and values.value is None:
        problems.append(cross_error((*where, "values", "value"), None, "the value for kind constant"))
    if values.kind == "file" and values.path is None:
        problems.append(cross_error((*where, "values", "path"), None, "a .npy or .npz file for kind file"))
    if values.kind in ("integers", "uniform"):
        low, high = values.bounds()
        if not low < high:
            expected = f"a number above low ({low:g})"
            problems.append(cross_error((*where, "values", "high"), values.high, expected))
        if values.kind == "integers" and (low != int(low) or high != int(high)):
            expected = "whole numbers for kind integers"
            problems.append(cross_error((*where, "values", "low"), values.low, expected))
    if spec.dtype == "bool" and values.kind in ("normal", "uniform"):
        expected = "integers, zeros, ones, constant or file for a bool input"
        problems.append(cross_error((*where, "values", "kind"), values.kind, expected))
    return problems


def _keys(kind: str) -> str:
    keys = _VALUE_KEYS[kind]
    return ", ".join(keys) if keys else "no other key"


def _scope_problems(config: Config) -> list[InitErrorDetails]:
    """Return the errors of keys set where they do nothing (docs/config.md: "factory: ...", "raw: ...").

    Only values other than the default count, so that a dumped config (which writes every key) loads.
    """
    model, data = config.model, config.dataset
    defaults = ModelConfig()
    problems = []
    if model.factory is not None and model.source != "factory":
        expected = f"null unless model.source is factory (source {model.source} builds no factory)"
        problems.append(cross_error(("model", "factory"), model.factory, expected))
    if model.sequence_length is not None and model.source != "huggingface":
        expected = "null unless model.source is huggingface (its text inputs are inferred)"
        problems.append(cross_error(("model", "sequence_length"), model.sequence_length, expected))
    if model.python_path and model.source != "factory":
        expected = "[] unless model.source is factory (the import path is for the factory)"
        problems.append(cross_error(("model", "python_path"), model.python_path, expected))
    for key in ("mean", "std"):
        normalized = ("classification", "set_detection", "semantic_segmentation")
        if getattr(model, key) != getattr(defaults, key) and model.task not in normalized:
            expected = (
                f"the default unless model.task is classification (task {model.task} does not normalize)"
            )
            problems.append(cross_error(("model", key), getattr(model, key), expected))
    if data.path is not None and data.source not in ("folder", "text"):
        expected = f"null unless dataset.source is folder or text (source {data.source} reads no path)"
        problems.append(cross_error(("dataset", "path"), data.path, expected))
    if data.labels_path is not None and data.labels not in ("coco", "yolo", "file", "masks"):
        expected = (
            f"null unless dataset.labels is coco, yolo, file or masks (labels {data.labels} reads no "
            "labels path)"
        )
        problems.append(cross_error(("dataset", "labels_path"), data.labels_path, expected))
    return problems
