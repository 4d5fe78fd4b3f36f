"""Model sources: where the PyTorch model comes from. Adding a source means adding a module here.

A source module defines ``load(model_config: dict) -> LoadedModel``. Sources run inside worker
processes (they import torch); the parent only passes the config.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reportgen.measure.modelfile import MIB, dominant

SOURCES = {
    "builtin": "reportgen.measure.worker.models.builtin",
    "torchscript": "reportgen.measure.worker.models.torchscript",
    "factory": "reportgen.measure.worker.models.factory",
    "ultralytics": "reportgen.measure.worker.models.ultralytics",
    "huggingface": "reportgen.measure.worker.models.huggingface",
}


@dataclass
class LoadedModel:
    """A model in FP32 eval mode, its class names if known, and a description of its file."""

    module: torch.nn.Module
    class_names: list[str] | None
    checkpoint: dict | None  # {path, size_mb, dtype, dtypes}; None when no file was given


def load_model(model_config: dict) -> LoadedModel:
    """Load the model described by the ``model`` section of the config."""
    return importlib.import_module(SOURCES[model_config["source"]]).load(model_config)


def preload(model_config: dict) -> None:
    """Import what a source needs before its load is timed (the library is the runtime, not the model)."""
    module = importlib.import_module(SOURCES[model_config["source"]])
    if hasattr(module, "preload"):
        module.preload()


def describe_file(path: str, tensors) -> dict:
    """Return the size of ``path`` and the bytes per dtype of the tensors stored in it."""
    dtypes: Counter[str] = Counter()
    for tensor in tensors:
        dtypes[str(tensor.dtype).removeprefix("torch.")] += tensor.numel() * tensor.element_size()
    return {"path": str(path), "size_mb": Path(path).stat().st_size / MIB, **dominant(dtypes)}


def output_names(outputs) -> list[str]:
    """Return the stable names of a model's outputs, in the order it returns them (see named_outputs)."""
    return list(named_outputs(outputs))


def named_outputs(outputs) -> dict[str, torch.Tensor]:
    """Return a model's outputs flattened (tensors, nested tuples/lists/dicts, dataclass-like objects).

    Positional structures are named output0, output1, ... by flat position (Ultralytics' names, and what
    an ONNX file's outputs line up with); a structure with keys is named by its key path
    (``logits``, ``hidden_states.0``), so outputs are compared by what they are, not where they sit.
    """
    paths = list(_leaves(outputs, ()))
    if not any(isinstance(key, str) for path, _ in paths for key in path):
        return {f"output{i}": tensor for i, (_, tensor) in enumerate(paths)}
    return {".".join(map(str, path)) or "output0": tensor for path, tensor in paths}


def flatten(outputs) -> list[torch.Tensor]:
    """Return a model's outputs as a flat list of tensors, in the order named_outputs names them."""
    return list(named_outputs(outputs).values())


def _leaves(value, path: tuple):
    if isinstance(value, torch.Tensor):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif hasattr(value, "__dataclass_fields__"):
        for key in value.__dataclass_fields__:
            yield from _leaves(getattr(value, key), (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    # None and other non-tensors (a dataclass field left unset) carry no output.


def arguments(feed: dict, specs: list[dict]) -> tuple[tuple, dict]:
    """Return forward()'s (args, kwargs) for one feed: tensors, and Python numbers for scalar inputs."""
    args, kwargs = [], {}
    for spec in specs:
        value = feed[spec["name"]]
        value = value.item() if not spec["shape"] else torch.from_numpy(np.ascontiguousarray(value))
        if spec["keyword"]:
            kwargs[spec["name"]] = value
        else:
            args.append(value)
    return tuple(args), kwargs
