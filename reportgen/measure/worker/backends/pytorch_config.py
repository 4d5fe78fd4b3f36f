"""The config of a pytorch backend (eager PyTorch, the reference; runtime: pytorch.py). Imports no torch:
the config is read before any worker starts."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from reportgen.config.sections import BackendBase


class PyTorchBackend(BackendBase):
    """Eager PyTorch, the model from its source in FP32 (the reference)."""

    kind: Literal["pytorch"] = "pytorch"
    device: Literal["cpu", "cuda"] = Field(
        "cpu",
        description="cpu or cuda; a machine without CUDA reports the backend as not available (not a "
        "failure).",
    )
    letterbox: Literal["square", "rect"] = Field(
        "square",
        description="detection/segmentation: 'rect' pads each image only to the next multiple of 32 "
        "(Ultralytics' predict default) instead of the full square a fixed-size export needs; set it to "
        "reproduce a pipeline that differs from the deployed one.",
    )

    from_source: ClassVar[bool] = True
