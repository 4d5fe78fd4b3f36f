"""The config of an openvino backend (OpenVINO reading the ONNX export; runtime: openvino.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reportgen.config.sections import BackendBase


class OpenVinoBackend(BackendBase):
    """OpenVINO reading the ONNX export."""

    kind: Literal["openvino"] = "openvino"
    device: Literal["cpu", "gpu"] = Field(
        "cpu",
        description="cpu or gpu (an Intel GPU); a machine without it reports the backend as not available "
        "(not a failure).",
    )
