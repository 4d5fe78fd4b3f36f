"""A ``package.module:function`` that builds the nn.Module, with optional weights.

Weights load with ``torch.load(weights_only=True)``: a state dict (or ``{"state_dict": ...}`` /
``{"model": ...}``). A pickled full model needs ``model.trust_checkpoint: true``, because
unpickling runs code from the file; its weights then go into the factory's module.
"""

from __future__ import annotations

import importlib
import pickle
import sys

import torch

from reportgen.errors import ReportgenError
from reportgen.measure.worker.models import LoadedModel, describe_file


def _build(config: dict) -> torch.nn.Module:
    for folder in reversed(config.get("python_path") or []):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    module_name, function_name = config["factory"].split(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as e:
        raise ReportgenError(f"model.factory: cannot import {config['factory']!r}: {e}") from None
    model = function()
    if not isinstance(model, torch.nn.Module):
        raise ReportgenError(
            f"model.factory: {config['factory']} returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


def _state_dict(path: str, trusted: bool) -> dict:
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if not trusted:
            raise ReportgenError(
                f"{path}: model.trust_checkpoint: the file is a pickled full-model checkpoint, which "
                "torch.load(weights_only=True) refuses; set model.trust_checkpoint: true only if you trust "
                "the file (unpickling runs its code)"
            ) from None
        stored = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(stored, dict):
        stored = stored.get("state_dict", stored.get("model", stored))
    if isinstance(stored, torch.nn.Module):
        stored = stored.state_dict()
    return stored


def load(config: dict) -> LoadedModel:
    """Build the module, load its weights if a file is given, and return it in FP32 eval mode."""
    model = _build(config)
    checkpoint = None
    if config.get("checkpoint"):
        state = _state_dict(config["checkpoint"], config.get("trust_checkpoint", False))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        checkpoint = describe_file(config["checkpoint"], state.values())
    return LoadedModel(model.float().eval(), config.get("class_names"), checkpoint)
