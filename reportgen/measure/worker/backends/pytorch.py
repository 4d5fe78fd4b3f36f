"""PyTorch eager (the reference): the model from its source, in FP32, run under inference_mode."""

from __future__ import annotations

import numpy as np
import torch

from reportgen.measure.worker.models import arguments, load_model, named_outputs


class TorchRunner:
    def __init__(self, model: torch.nn.Module, specs: list[dict]):
        self.model, self.specs = model, specs

    def __call__(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        args, kwargs = arguments(feed, self.specs)
        with torch.inference_mode():
            outputs = named_outputs(self.model(*args, **kwargs))
        return {name: t.numpy() for name, t in outputs.items()}


def load(model: dict, threads: int, settings: dict) -> TorchRunner:
    """Load the model described by the config's ``model`` section with ``threads`` intra-op threads."""
    torch.set_num_threads(threads)
    return TorchRunner(load_model(model).module, settings["inputs"])


def info(runner: TorchRunner) -> dict:
    """Return the thread settings torch really uses."""
    return {"intra_op_threads": torch.get_num_threads(), "torch": torch.__version__}
