"""PyTorch eager (the reference): the model from its source, in FP32, run under inference_mode."""

from __future__ import annotations

import numpy as np
import torch

from reportgen.measure.worker.models import flatten, load_model


class TorchRunner:
    def __init__(self, model: torch.nn.Module):
        self.model = model

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            outputs = flatten(self.model(torch.from_numpy(batch)))
        return {f"output{i}": t.numpy() for i, t in enumerate(outputs)}


def load(model: dict, threads: int, settings: dict) -> TorchRunner:
    """Load the model described by the config's ``model`` section with ``threads`` intra-op threads."""
    torch.set_num_threads(threads)
    return TorchRunner(load_model(model).module)


def info(runner: TorchRunner) -> dict:
    """Return the thread settings torch really uses."""
    return {"intra_op_threads": torch.get_num_threads(), "torch": torch.__version__}
