"""``torch.compile`` of the reference model: TorchInductor generating C++/OpenMP kernels for the CPU.

torch.compile is lazy: ``load`` builds the model and wraps it (fast); the graph is captured and
compiled at the first call, so the compile cost lands in "first inference". Every round is a fresh
process, and compiling the demo net took over a minute on 2 cores: the runner points inductor's on-disk
cache at the run's work folder (``TORCHINDUCTOR_CACHE_DIR`` in the worker's environment, so that no
build-machine path enters the results), so round 1 compiles cold and later rounds reuse its kernels, as
a deployment with a warm cache would. A fresh work folder per run keeps round 1 cold (another run's
cache never leaks in); ``info`` says which it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

# Imported here, not by the first torch.compile(): that import (3-5 s) is the runtime's, so it lands
# before 'before_load' like any runtime's import, not in the load time.
import torch._dynamo  # noqa: F401
import torch._inductor.compile_fx  # noqa: F401

from reportgen.measure.worker.backends.availability import torch_device
from reportgen.measure.worker.backends.pytorch import TorchRunner
from reportgen.measure.worker.models import load_model


class CompiledRunner(TorchRunner):
    """The compiled module's runner, with what ``info`` reports about the compile."""

    def __init__(self, model: Callable[..., Any], specs: list[dict], device: str, cache: str, mode: str):
        super().__init__(model, specs, device)
        self.compile_cache, self.compile_mode = cache, mode


def _cache_state() -> str:
    """Return whether inductor's cache folder holds kernels already (warm) or not (cold).

    Without TORCHINDUCTOR_CACHE_DIR inductor uses a folder shared by every process of the user: unknown.
    """
    folder = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if not folder:
        return "unknown"
    path = Path(folder)
    return "warm" if path.is_dir() and any(path.iterdir()) else "cold"


def load(model: dict, threads: int, settings: dict) -> CompiledRunner:
    """Load the reference model and wrap it in torch.compile (inductor, ``settings['compile_mode']``)."""
    torch.set_num_threads(threads)
    device = torch_device(settings.get("device", "cpu"))
    cache = _cache_state()
    mode = settings.get("compile_mode", "default")
    module = load_model(model).module.to(device)
    compiled = torch.compile(module, backend="inductor", mode=None if mode == "default" else mode)
    return CompiledRunner(compiled, settings["inputs"], device, cache, mode)


def info(runner: CompiledRunner) -> dict:
    """Return the threads torch uses, the compile mode and whether the compile cache was warm."""
    return {
        "intra_op_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "compile_mode": runner.compile_mode,
        "compile_cache": runner.compile_cache,
    }
