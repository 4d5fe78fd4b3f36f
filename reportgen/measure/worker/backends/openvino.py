"""OpenVINO reading the run's ONNX file (the one ONNX Runtime measures). Never imports torch.

Settings chosen so it compares with ONNX Runtime's sequential execution, one request at a time:
``INFERENCE_NUM_THREADS`` = the run's threads; ``NUM_STREAMS: 1`` and the ``LATENCY`` hint, so one
request uses every thread (the THROUGHPUT hint splits the threads into streams that only pay off with
several requests in flight, which no backend here gets); ``INFERENCE_PRECISION_HINT: f32``, because on
CPUs with AVX-512 BF16 or AMX OpenVINO defaults to bf16, a precision change rather than a runtime's.
Reading and compiling the model is its load time. CPU pinning stays OpenVINO's default (recorded in
the settings with the rest of what the compiled model reports).
"""

from __future__ import annotations

import numpy as np
import openvino as ov

from reportgen.measure.inputs import bind
from reportgen.measure.worker.backends.availability import openvino_device

PROPERTIES = ("INFERENCE_NUM_THREADS", "NUM_STREAMS", "PERFORMANCE_HINT", "INFERENCE_PRECISION_HINT")
REPORTED = (*PROPERTIES, "ENABLE_CPU_PINNING", "ENABLE_HYPER_THREADING")


def properties(threads: int) -> dict:
    """Return the compile properties (the module docstring says why each)."""
    return {
        "INFERENCE_NUM_THREADS": threads,
        "NUM_STREAMS": 1,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": "f32",
    }


class OvRunner:
    def __init__(self, compiled: ov.CompiledModel, device: str, settings: dict):
        self.compiled, self.device = compiled, device
        self.request = compiled.create_infer_request()
        self.inputs = bind(settings["inputs"], [i.get_any_name() for i in compiled.inputs])["names"]
        names = settings.get("output_names") or []
        # By position, as the PyTorch side names them (OpenVINO may rename an ONNX file's outputs).
        self.names = [names[i] if i < len(names) else f"output{i}" for i in range(len(compiled.outputs))]

    def __call__(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # share_inputs: read the arrays in place, as ONNX Runtime does; outputs are copied (the request
        # reuses its buffers at the next call).
        results = self.request.infer({self.inputs[n]: feed[n] for n in self.inputs}, share_inputs=True)
        return {name: results[output] for name, output in zip(self.names, self.compiled.outputs)}

    def unsupported(self, feed: dict[str, np.ndarray]) -> str | None:
        """Return why the file cannot take this feed's shapes (a fixed axis of another size), or None."""
        for given in self.compiled.inputs:
            name = next(n for n, f in self.inputs.items() if f == given.get_any_name())
            shape, declared = feed[name].shape, given.get_partial_shape()
            fixed = [(i, d.get_length()) for i, d in enumerate(declared) if d.is_static]
            if declared.rank.get_length() != len(shape) or any(shape[i] != d for i, d in fixed):
                return f"input {given.get_any_name()} has the fixed shape {declared}, not {list(shape)}"
        return None


def load(model_path: str, threads: int, settings: dict) -> OvRunner:
    """Read the ONNX file and compile it for the device with ``threads`` threads, one stream."""
    core = ov.Core()
    device = openvino_device(settings.get("device", "cpu"), core.available_devices)
    # PERF_COUNT only in the profile pass (measure/worker/profilers/ov.py): counters cost time.
    perf = {"PERF_COUNT": True} if settings.get("perf_count") else {}
    compiled = core.compile_model(core.read_model(model_path), device, properties(threads) | perf)
    return OvRunner(compiled, device, settings)


def info(runner: OvRunner) -> dict:
    """Return what the compiled model really uses (the device may adjust a hint)."""
    used = {}
    for key in REPORTED:
        try:
            value = runner.compiled.get_property(key)
        except RuntimeError:  # a device without that property
            continue
        # An element type prints as "<Type: 'float32'>": keep its short name (f32), as configured.
        used[key.lower()] = value.get_type_name() if hasattr(value, "get_type_name") else str(value)
    return {"openvino": ov.__version__, "device": runner.device, **used}
