"""The config of an onnxruntime backend (ONNX Runtime running the export; runtime: onnxruntime.py):
its keys, and the two of them that do not go together. Imports neither torch nor onnxruntime."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails
from typing_extensions import Self

from reportgen.config.sections import BackendBase
from reportgen.config.words import SANE, cross_error


class OnnxRuntimeBackend(BackendBase):
    """ONNX Runtime running the export (or the file export.onnx_file names)."""

    kind: Literal["onnxruntime"] = "onnxruntime"
    graph_optimization: Literal["disabled", "basic", "extended", "all"] = Field(
        "all", description="ONNX Runtime's graph optimization level."
    )
    quantization: Literal["none", "dynamic", "static"] = Field(
        "none",
        description="INT8 quantization of the exported model; static is QDQ calibrated on generated images "
        "that are not in the evaluation set.",
    )
    calibration_images: Annotated[int, SANE] = Field(
        16, gt=0, le=10_000, description="static quantization: calibration images."
    )
    precision: Literal["fp32", "fp16"] = Field(
        "fp32",
        description="fp16 measures the export converted once to float16 weights and activations "
        "(onnxconverter-common; inputs and outputs stay float32); not together with INT8 quantization.",
    )
    provider: Literal["cpu", "cuda", "tensorrt"] = Field(
        "cpu",
        description="The execution provider; cuda and tensorrt need a GPU and a GPU build of onnxruntime, "
        "and a machine without them reports the backend as not available (not a failure).",
    )

    def settings(self) -> dict[str, Any]:
        """Return its keys as recorded: calibration_images only where static quantization reads it."""
        own = super().settings()
        if self.quantization != "static":
            del own["calibration_images"]
        return own

    @model_validator(mode="after")
    def _fits_together(self) -> Self:
        # A key that does nothing here is an error: a backend named "int8-static-8" would otherwise lie.
        problems: list[InitErrorDetails] = []
        if self.calibration_images != 16 and self.quantization != "static":
            expected = "no calibration_images without quantization: static"
            problems.append(cross_error(("calibration_images",), self.calibration_images, expected))
        if self.precision == "fp16" and self.quantization != "none":
            expected = "'fp32' with INT8 quantization (an INT8 file is not converted to FP16 as well)"
            problems.append(cross_error(("precision",), self.precision, expected))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self
