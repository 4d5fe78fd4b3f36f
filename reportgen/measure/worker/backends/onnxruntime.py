"""ONNX Runtime on the CPU execution provider (or a GPU one where the machine has it). Never imports
torch."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from reportgen.measure.inputs import bind
from reportgen.measure.worker.backends.availability import check_ort_session, ort_providers

OPTIMIZATION_LEVELS = {
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


class OrtRunner:
    def __init__(self, session: ort.InferenceSession, settings: dict):
        self.session = session
        self.inputs = bind(settings["inputs"], [i.name for i in session.get_inputs()])["names"]
        self.output_names = [o.name for o in session.get_outputs()]
        # By position, as the PyTorch side names them: a user's file may call them anything.
        names = settings.get("output_names") or []
        self.names = [names[i] if i < len(names) else f"output{i}" for i in range(len(self.output_names))]

    def __call__(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self.session.run(self.output_names, {self.inputs[n]: feed[n] for n in self.inputs})
        return dict(zip(self.names, outputs))

    def unsupported(self, feed: dict[str, np.ndarray]) -> str | None:
        """Return why the file cannot take this feed's shapes (a fixed axis of another size), or None."""
        for given in self.session.get_inputs():
            name = next(n for n, f in self.inputs.items() if f == given.name)
            shape = feed[name].shape
            fixed = [(i, d) for i, d in enumerate(given.shape) if isinstance(d, int)]
            if len(given.shape) != len(shape) or any(shape[i] != d for i, d in fixed):
                return f"input {given.name} has the fixed shape {given.shape}, not {list(shape)}"
        return None


def load(model_path: str, threads: int, settings: dict) -> OrtRunner:
    """Create a session with ``threads`` intra-op threads and the configured optimization level."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # sequential execution: parallelism only inside operators, like torch
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = OPTIMIZATION_LEVELS[settings.get("graph_optimization", "all")]
    options.log_severity_level = 3
    if settings.get("profile_prefix"):  # the profile pass only (measure/worker/profilers/ort.py)
        options.enable_profiling = True
        options.profile_file_prefix = settings["profile_prefix"]
        options.optimized_model_filepath = settings["optimized_path"]
    provider = settings.get("provider", "cpu")
    providers = ort_providers(provider, ort.get_available_providers())  # Unavailable: no GPU here
    session = ort.InferenceSession(model_path, options, providers=providers)
    check_ort_session(provider, session.get_providers())  # a GPU provider that fell back to the CPU
    return OrtRunner(session, settings)


def info(runner: OrtRunner) -> dict:
    """Return what the session really used."""
    return {"providers": runner.session.get_providers(), "onnxruntime": ort.__version__}
