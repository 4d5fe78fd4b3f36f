"""The config of a torchscript backend (a traced TorchScript module; runtime: torchscript.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reportgen.config.sections import BackendBase


class TorchScriptBackend(BackendBase):
    """A traced TorchScript module (the file a C++/mobile deployment loads)."""

    kind: Literal["torchscript"] = "torchscript"
    freeze: bool = Field(True, description="torch.jit.freeze the traced module (folds weights).")
