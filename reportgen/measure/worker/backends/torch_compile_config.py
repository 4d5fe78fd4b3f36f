"""The config of a torch_compile backend (torch.compile of the reference model; runtime:
torch_compile.py). Imports no torch."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from reportgen.config.sections import BackendBase


class TorchCompileBackend(BackendBase):
    """torch.compile (inductor) of the PyTorch model."""

    kind: Literal["torch_compile"] = "torch_compile"
    device: Literal["cpu", "cuda"] = Field(
        "cpu",
        description="cpu or cuda; a machine without CUDA reports the backend as not available (not a "
        "failure).",
    )
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = Field(
        "default",
        description="torch.compile's mode; the max-autotune modes benchmark kernel variants while compiling "
        "(much longer compiles), reduce-overhead's CUDA graphs only act on a GPU.",
    )

    from_source: ClassVar[bool] = True
