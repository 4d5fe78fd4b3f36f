"""ONNX Runtime on the CPU execution provider. Never imports torch."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

OPTIMIZATION_LEVELS = {
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


class OrtRunner:
    def __init__(self, session: ort.InferenceSession):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.output_names = [o.name for o in session.get_outputs()]

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        outputs = self.session.run(self.output_names, {self.input_name: batch})
        # By position, as the PyTorch side names them: a user's file may call them anything.
        return {f"output{i}": value for i, value in enumerate(outputs)}


def load(model_path: str, threads: int, settings: dict) -> OrtRunner:
    """Create a session with ``threads`` intra-op threads and the configured optimization level."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # sequential execution: parallelism only inside operators, like torch
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = OPTIMIZATION_LEVELS[settings.get("graph_optimization", "all")]
    options.log_severity_level = 3
    return OrtRunner(ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"]))


def info(runner: OrtRunner) -> dict:
    """Return what the session really used."""
    return {"providers": runner.session.get_providers(), "onnxruntime": ort.__version__}
