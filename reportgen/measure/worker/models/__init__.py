"""Model sources: where the PyTorch model comes from. Adding a source means adding a module here.

A source module defines ``load(model_config: dict) -> LoadedModel``. Sources run inside worker
processes (they import torch); the parent only passes the config.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from reportgen.measure.modelfile import MIB, dominant

SOURCES = {
    "builtin": "reportgen.measure.worker.models.builtin",
    "torchscript": "reportgen.measure.worker.models.torchscript",
    "factory": "reportgen.measure.worker.models.factory",
    "ultralytics": "reportgen.measure.worker.models.ultralytics",
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
    dtypes = Counter()
    for tensor in tensors:
        dtypes[str(tensor.dtype).removeprefix("torch.")] += tensor.numel() * tensor.element_size()
    return {"path": str(path), "size_mb": Path(path).stat().st_size / MIB, **dominant(dtypes)}


def output_names(outputs) -> list[str]:
    """Name a model's outputs output0, output1, ... in the order it returns them (Ultralytics' names)."""
    return [f"output{i}" for i in range(len(flatten(outputs)))]


def flatten(outputs) -> list[torch.Tensor]:
    """Return a model's outputs as a flat list of tensors (a tensor, or nested tuples/lists of them)."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    return [t for item in outputs for t in flatten(item)]
