"""PyTorch eager (the reference): the model from its source, in FP32, run under inference_mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from reportgen.measure.worker.backends.availability import torch_device
from reportgen.measure.worker.models import arguments, load_model, named_outputs


class TorchRunner:
    def __init__(self, model: Callable[..., Any], specs: list[dict], device: str = "cpu"):
        self.model, self.specs, self.device = model, specs, device

    def __call__(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        args, kwargs = arguments(feed, self.specs)
        if self.device != "cpu":  # copied in and (.cpu(), which waits for the GPU) out in every call
            args = tuple(a.to(self.device) if isinstance(a, torch.Tensor) else a for a in args)
            kwargs = {k: v.to(self.device) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
        with torch.inference_mode():
            outputs = named_outputs(self.model(*args, **kwargs))
        return {name: t.cpu().numpy() for name, t in outputs.items()}


def load(model: dict, threads: int, settings: dict) -> TorchRunner:
    """Load the model described by the config's ``model`` section with ``threads`` intra-op threads."""
    torch.set_num_threads(threads)
    device = torch_device(settings.get("device", "cpu"))  # Unavailable: no CUDA here
    return TorchRunner(load_model(model).module.to(device), settings["inputs"], device)


def info(runner: TorchRunner) -> dict:
    """Return the thread settings torch really uses."""
    return {"intra_op_threads": torch.get_num_threads(), "torch": torch.__version__}
