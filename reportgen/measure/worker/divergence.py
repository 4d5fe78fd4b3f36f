"""Name the first node of an ONNX graph whose output diverges from the PyTorch model's.

The dynamo exporter names ONNX values after the nodes of the torch.export graph (``silu_3``,
``getitem_7``, ``cat_2``...). Run that graph with an FX interpreter that keeps every intermediate
tensor, run the ONNX file under ONNX Runtime with every intermediate value added as a graph output
(optimizations disabled, so the file's own nodes run), and walk the ONNX nodes in topological order
to the first same-named tensor outside tolerance.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import torch

from reportgen.measure.inputs import read_inputs
from reportgen.measure.worker.models import load_model


def _torch_values(model: torch.nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Return every float tensor the exported graph computes, by node name."""
    module = torch.export.export(model, (x,)).module()
    values: dict[str, np.ndarray] = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            out = super().run_node(node)
            if isinstance(out, torch.Tensor) and out.is_floating_point():
                values[node.name] = out.detach().numpy()
            return out

    with torch.no_grad():
        Recorder(module).run(x)
    return values


def _onnx_values(path: str, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Return the named intermediate values of the ONNX graph under ONNX Runtime."""
    model = onnx.load(path)
    known = {o.name for o in model.graph.output}
    model.graph.output.extend(
        onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in names if n not in known
    )
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    return dict(zip(outputs, session.run(outputs, {session.get_inputs()[0].name: x})))


def _module_path(node: onnx.NodeProto) -> str | None:
    """Return the PyTorch module path the exporter recorded for a node (``down4.1.cv1.1``).

    The ``namespace`` metadata reads ``: Net/down4: Sequential/.../down4.1.cv1.1: BatchNorm2d/op: aten.op``;
    the segment before the op is the innermost module.
    """
    for prop in node.metadata_props:
        if prop.key == "namespace":
            segments = prop.value.split("/")
            return segments[-2].split(":", 1)[0].strip() or None if len(segments) > 1 else None
    return None


def _suspects(graph: onnx.GraphProto, diverged: onnx.NodeProto, verified: set[str]) -> list[onnx.NodeProto]:
    """Return the nodes between the last verified tensors and ``diverged``, in graph order.

    Not every ONNX value has a same-named torch tensor (a Conv with its BatchNorm folded in, say),
    so the fault lies in this unverified region; its first node is the prime suspect.
    """
    producers = {out: node for node in graph.node for out in node.output}
    region, stack = {diverged.name}, list(diverged.input)
    while stack:
        value = stack.pop()
        node = producers.get(value)
        if value in verified or node is None or node.name in region:
            continue
        region.add(node.name)
        stack.extend(node.input)
    return [node for node in graph.node if node.name in region]


def first_divergence(job: dict) -> dict:
    """Compare intermediate tensors; return the first diverging node, or say none diverged."""
    model = load_model(job["model"]).module
    x = read_inputs(job, limit=job["image"] + 1)[job["image"]]
    reference = _torch_values(model, torch.from_numpy(x))
    graph = onnx.load(job["onnx_path"], load_external_data=False).graph
    candidates = [(node, out) for node in graph.node for out in node.output if out in reference]
    values = _onnx_values(job["onnx_path"], x, [out for _, out in candidates])
    initializers = {i.name for i in graph.initializer}
    verified = {i.name for i in graph.input} | initializers
    compared = 0
    for node, out in candidates:
        ref, got = reference[out], values.get(out)
        if got is None or ref.shape != got.shape:
            continue
        compared += 1
        if np.allclose(got, ref, atol=job["atol"], rtol=job["rtol"]):
            verified.add(out)
            continue
        suspects = _suspects(graph, node, verified)
        first = suspects[0]
        return {
            "status": "ok",
            "found": True,
            "node": first.name,
            "op_type": first.op_type,
            "module": _module_path(first),
            "initializers": [i for i in first.input if i in initializers],
            "diverging_output": out,
            "max_abs_diff": float(np.abs(got.astype(np.float64) - ref).max()),
            "suspects": [n.name for n in suspects],
            "compared": compared,
            "image": job["image"],
        }
    return {"status": "ok", "found": False, "compared": compared, "image": job["image"]}
