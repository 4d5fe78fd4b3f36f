"""PyTorch eager (the reference): the checkpoint loaded in FP32, run under inference_mode."""

from __future__ import annotations

import numpy as np
import torch

from reportgen.demo.net import load_checkpoint
from reportgen.tasks.segmentation import OUTPUT_NAMES


class TorchRunner:
    def __init__(self, model: torch.nn.Module):
        self.model = model

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            outputs = self.model(torch.from_numpy(batch))
        return {name: t.numpy() for name, t in zip(OUTPUT_NAMES, outputs)}


def load(model_path: str, threads: int, settings: dict) -> TorchRunner:
    """Load the checkpoint with ``threads`` intra-op threads."""
    torch.set_num_threads(threads)
    model, _meta = load_checkpoint(model_path)
    return TorchRunner(model)


def info(runner: TorchRunner) -> dict:
    """Return the thread settings torch really uses."""
    return {"intra_op_threads": torch.get_num_threads(), "torch": torch.__version__}
