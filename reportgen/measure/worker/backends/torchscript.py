"""A traced TorchScript module (the file a C++/mobile deployment loads), optionally frozen."""

from __future__ import annotations

import torch

from reportgen.measure.worker.backends.pytorch import TorchRunner


def load(model_path: str, threads: int, settings: dict) -> TorchRunner:
    """Load the traced module; freezing folds weights and attributes into constants for inference."""
    torch.set_num_threads(threads)
    module = torch.jit.load(model_path, map_location="cpu").eval()
    if settings.get("freeze", True):
        module = torch.jit.freeze(module)
    return TorchRunner(module, settings["inputs"])


def info(runner: TorchRunner) -> dict:
    """Return the thread settings torch really uses."""
    return {"intra_op_threads": torch.get_num_threads(), "torch": torch.__version__}
