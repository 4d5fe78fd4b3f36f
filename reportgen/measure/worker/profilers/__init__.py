"""One profiler per runtime, behind two functions: ``settings(job)`` (what the backend's ``load`` must
turn on, before the session or model is made) and ``collect(live, job) -> profile.Calls``.

Imported by kind, like the backends: the ONNX Runtime and OpenVINO profilers never import torch.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PROFILERS = {
    "onnxruntime": "reportgen.measure.worker.profilers.ort",
    "openvino": "reportgen.measure.worker.profilers.ov",
    "pytorch": "reportgen.measure.worker.profilers.torch_ops",
    "torchscript": "reportgen.measure.worker.profilers.torch_ops",
    "torch_compile": "reportgen.measure.worker.profilers.torch_ops",
}


def profiler_for(kind: str) -> ModuleType:
    """Import and return the profiler of backend ``kind``."""
    return importlib.import_module(PROFILERS[kind])
