"""The FP16 variant of the exported model (onnxconverter-common), made once per run in its own worker.

Weights and activations become float16 (``keep_io_types=True``: the inputs and outputs stay float32
behind Cast nodes, so every backend is fed and compared alike). The converter clamps values float16
cannot hold (below 1e-7 in magnitude, above 1e4) and warns once per tensor it clamps; those tensors
are counted, because they are where FP16 parity is lost first. No torch: only onnx.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

MAX_PROTOBUF = 2**31 - 1  # a single ONNX protobuf's limit; larger models keep their weights apart


def convert(job: dict) -> dict:
    """Write the FP16 model ``job['output_path']`` from ``job['onnx_path']``; return what was done."""
    import onnx
    from onnxconverter_common import float16

    started = time.perf_counter()
    model = onnx.load(job["onnx_path"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        converted = float16.convert_float_to_float16(model, keep_io_types=True)
    clamped = sum("truncated" in str(w.message) for w in caught)
    target = Path(job["output_path"])
    external = converted.ByteSize() > MAX_PROTOBUF
    onnx.save_model(converted, str(target), save_as_external_data=external, location=target.name + ".data")
    return {
        "status": "ok",
        "error": None,
        "precision": "fp16",
        "convert_s": time.perf_counter() - started,
        "clamped_tensors": clamped,
    }
