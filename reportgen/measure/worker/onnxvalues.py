"""Run an ONNX file under ONNX Runtime and keep every intermediate value, not only the graph's outputs.

The divergence search compares what each node computes; ONNX Runtime returns graph outputs only, so
every node output becomes a graph output (a value without a declared type is accepted: the runtime
infers it). Optimizations are disabled so the file's own nodes run, not fused replacements.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort


def session_options() -> ort.SessionOptions:
    """Return options that run the file's own nodes, quietly."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    return options


def fed_inputs(graph: onnx.GraphProto) -> list[str]:
    """Return the graph inputs that are fed, not initializers listed as inputs (older files)."""
    initializers = {init.name for init in graph.initializer}
    return [i.name for i in graph.input if i.name not in initializers]


def values(
    model: onnx.ModelProto, feed: dict[str, np.ndarray], names: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Return the named values (None: every node output) the graph computes on ``feed`` (arrays by
    the file's input names), by value name."""
    model = onnx.ModelProto.FromString(model.SerializeToString())  # the caller's graph stays as it was
    known = {o.name for o in model.graph.output}
    wanted = names if names is not None else [out for node in model.graph.node for out in node.output if out]
    model.graph.output.extend(onnx.ValueInfoProto(name=n) for n in dict.fromkeys(wanted) if n not in known)
    session = ort.InferenceSession(
        model.SerializeToString(), session_options(), providers=["CPUExecutionProvider"]
    )
    outputs = [o.name for o in session.get_outputs()]
    return dict(zip(outputs, session.run(outputs, feed), strict=True))


def same(got: np.ndarray, ref: np.ndarray, atol: float, rtol: float) -> bool:
    """Return whether two values agree: floats within atol/rtol, anything else exactly."""
    if got.shape != ref.shape:
        return False
    if np.issubdtype(got.dtype, np.floating) and np.issubdtype(ref.dtype, np.floating):
        return bool(np.allclose(got, ref, atol=atol, rtol=rtol))
    return bool(np.array_equal(got, ref))


def max_abs_diff(got: np.ndarray, ref: np.ndarray) -> float:
    """Return the largest absolute difference of two values of one shape (0.0 for empty ones)."""
    if got.size == 0:
        return 0.0
    return float(np.abs(got.astype(np.float64) - ref.astype(np.float64)).max())
