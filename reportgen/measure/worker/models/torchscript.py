"""A TorchScript file (torch.jit.save): the model exactly as a C++ or mobile deployment loads it."""

from __future__ import annotations

import torch

from reportgen.measure.worker.models import LoadedModel, describe_file


def load(config: dict) -> LoadedModel:
    """Load the scripted or traced module in eval mode."""
    path = config["checkpoint"]
    module = torch.jit.load(path, map_location="cpu").eval()
    return LoadedModel(module, config.get("class_names"), describe_file(path, module.state_dict().values()))
