"""INT8 variants of the exported model with ONNX Runtime's quantization tools (no torch).

Static: QDQ format, uint8 activations / int8 per-channel weights (ORT's recommended CPU setting),
calibrated with MinMax on generated images that are not in the evaluation set. Only Conv and MatMul
are quantized: the decode tail (sigmoid scores, box coordinates in pixels) stays in float, as
quantizing pixel coordinates to 256 levels would move boxes by whole pixels.
Dynamic: weights int8, activations quantized at run time; on conv nets ORT's dynamic kernels are
often slower than FP32, and the report says so when it measures it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from reportgen.measure.inputs import bind
from reportgen.measure.modelfile import onnx_inputs

QUANTIZED_OPS = ["Conv", "MatMul"]


class _Batches(CalibrationDataReader):
    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self._items = iter(feeds)

    def get_next(self):
        return next(self._items, None)


def quantize(job: dict) -> dict:
    """Write the INT8 model ``job['output_path']`` from ``job['onnx_path']``; return what was done."""
    source, target = Path(job["onnx_path"]), Path(job["output_path"])
    started = time.perf_counter()
    if job["mode"] == "dynamic":
        quantize_dynamic(source, target, op_types_to_quantize=QUANTIZED_OPS, weight_type=QuantType.QInt8)
    else:
        prepared = target.with_name(target.stem + ".prepared.onnx")
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        names = bind(job["inputs"], onnx_inputs(str(prepared)))["names"]
        with np.load(job["calibration_path"]) as data:
            count = len(data[next(iter(names))])
            feeds = [{names[n]: data[n][i] for n in names} for i in range(count)]
        quantize_static(
            prepared,
            target,
            _Batches(feeds),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=QUANTIZED_OPS,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        prepared.unlink(missing_ok=True)
    return {
        "status": "ok",
        "error": None,
        "mode": job["mode"],
        "quantize_s": time.perf_counter() - started,
        "calibration_images": job.get("calibration_images"),
    }
