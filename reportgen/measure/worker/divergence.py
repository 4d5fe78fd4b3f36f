"""Name the first node of an ONNX graph whose output diverges from the PyTorch model's.

Two references, by what the file's names allow:

- **The torch graph** (files our dynamo export wrote): the dynamo exporter names ONNX values after the
  nodes of the torch.export graph (``silu_3``, ``getitem_7``...). Run that graph with an FX
  interpreter that keeps every intermediate tensor and compare same-named tensors.
- **A fresh export** (any other file: the legacy TorchScript-based exporter's ``/model.0/conv/Conv``
  names, other tools, another torch version): export the reference model again with the file's
  exporter and opset (reexport.py), pair the two graphs' nodes by structure (alignment.py) and
  compare paired values, both files under ONNX Runtime.

Either way every node output is exposed (onnxvalues.py), the file's nodes are walked in topological
order, and the first value outside atol/rtol is reported with the node that made it, its weights and
the PyTorch module its metadata or its scope name records.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import torch

from reportgen.measure.inputs import bind, read_inputs
from reportgen.measure.modelfile import exporter_of
from reportgen.measure.worker import onnxvalues
from reportgen.measure.worker.alignment import align
from reportgen.measure.worker.models import arguments, load_model
from reportgen.measure.worker.reexport import reexport
from reportgen.measure.worker.scopes import module_path

TORCH_GRAPH = "torch"  # ``against``: the torch graph, else the exporter of the fresh export


def first_divergence(job: dict) -> dict:
    """Compare intermediate tensors; return the first diverging node, or say none diverged."""
    started = time.perf_counter()
    model = load_model(job["model"]).module
    x = _job_input(job)
    onnx_model = onnx.load(job["onnx_path"])
    result = None
    if exporter_of(onnx_model) == "dynamo":  # its names may be the torch graph's: the cheaper search
        result = _against_torch_graph(model, x, onnx_model, job)
    if result is None or not result["found"]:
        try:
            again = _against_reexport(model, x, onnx_model, job)
            result = again if result is None or again["found"] else result
        except Exception as e:  # the exporter cannot write the model again: the torch graph's word stands
            if result is None:
                raise
            result["reexport_error"] = " ".join(f"{type(e).__name__}: {e}".split())[:500]
    return {**result, "image": job["image"], "seconds": round(time.perf_counter() - started, 3)}


def _job_input(job: dict) -> dict[str, np.ndarray]:
    """Return the one feed this search runs: the worst image of the parity comparison."""
    return read_inputs(job, limit=job["image"] + 1)[job["image"]]


def _onnx_feed(job: dict, feed: dict[str, np.ndarray], graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Return the feed by the file's input names, bound to the config's as every backend binds them."""
    names = bind(job["inputs"], onnxvalues.fed_inputs(graph))["names"]
    return {file: feed[config] for config, file in names.items()}


def _torch_values(model: torch.nn.Module, call: tuple[tuple, dict]) -> dict[str, np.ndarray]:
    """Return every float tensor the exported graph computes, by node name."""
    args, kwargs = call
    module = torch.export.export(model, args, kwargs).module()
    values: dict[str, np.ndarray] = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            out = super().run_node(node)
            if isinstance(out, torch.Tensor) and out.is_floating_point():
                values[node.name] = out.detach().numpy()
            return out

    with torch.no_grad():
        # An exported module's graph takes the flattened inputs: positional, then keywords in order.
        Recorder(module).run(*args, *kwargs.values())
    return values


def _against_torch_graph(model: torch.nn.Module, x, onnx_model: onnx.ModelProto, job: dict) -> dict:
    """Compare the file's values with the torch graph's same-named tensors."""
    reference = _torch_values(model, arguments(x, job["inputs"]))
    graph = onnx_model.graph
    names = [out for node in graph.node for out in node.output if out in reference]
    got = onnxvalues.values(onnx_model, _onnx_feed(job, x, graph), names)
    return _walk(graph, got, {name: reference[name] for name in names}, job) | {"against": TORCH_GRAPH}


def _against_reexport(model: torch.nn.Module, x, onnx_model: onnx.ModelProto, job: dict) -> dict:
    """Compare the file's values with those of a fresh export of the reference, node paired to node."""
    with tempfile.TemporaryDirectory(prefix="reportgen-reexport-") as folder:
        path = Path(folder) / "reference.onnx"
        exporter = reexport(model, arguments(x, job["inputs"]), onnx_model, path)
        reference = onnx.load(str(path))
    graph = onnx_model.graph
    twins = align(graph, reference.graph)
    got = onnxvalues.values(onnx_model, _onnx_feed(job, x, graph))
    theirs = onnxvalues.values(reference, _onnx_feed(job, x, reference.graph))
    expected = {
        out: theirs[other]
        for node, twin in zip(graph.node, twins, strict=True)
        if twin is not None
        for out, other in zip(node.output, twin.output, strict=False)
        if other in theirs
    }
    return _walk(graph, got, expected, job, twins) | {
        "against": exporter,
        "aligned": sum(t is not None for t in twins),
        "nodes": sum(n.op_type != "Constant" for n in graph.node),
    }


def _walk(graph: onnx.GraphProto, got: dict, expected: dict, job: dict, twins: list | None = None) -> dict:
    """Walk the nodes in topological order to the first value outside tolerance of its ``expected``
    counterpart (the reference's, by the file's value name); describe the node to blame."""
    verified = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    compared = 0
    for index, node in enumerate(graph.node):
        for out in node.output:
            value, ref = got.get(out), expected.get(out)
            if value is None or ref is None or value.shape != ref.shape:
                continue
            compared += 1
            if onnxvalues.same(value, ref, job["atol"], job["rtol"]):
                verified.add(out)
                continue
            return {
                **_blame(graph, _suspects(graph, index, verified), twins or [None] * len(graph.node)),
                "diverging_output": out,
                "max_abs_diff": onnxvalues.max_abs_diff(value, ref),
                "compared": compared,
            }
    return {"status": "ok", "found": False, "compared": compared}


def _blame(graph: onnx.GraphProto, region: list[int], twins: list) -> dict:
    """Describe the prime suspect of an unverified region: its first node that computes (a Constant
    node only holds a value), with its weights and its module."""
    first = next((i for i in region if graph.node[i].op_type != "Constant"), region[-1])
    node, twin, initializers = graph.node[first], twins[first], {i.name for i in graph.initializer}
    return {
        "status": "ok",
        "found": True,
        "node": _label(node, first),
        "op_type": node.op_type,
        "module": module_path(node) or (module_path(twin) if twin is not None else None),
        "initializers": [i for i in node.input if i in initializers],
        "suspects": [_label(graph.node[i], i) for i in region],
    }


def _label(node: onnx.NodeProto, index: int) -> str:
    """Return a node's name; an unnamed node (some tools write none) by its op and place in the graph."""
    return node.name or f"{node.op_type} #{index}"


def _suspects(graph: onnx.GraphProto, diverged: int, verified: set[str]) -> list[int]:
    """Return the nodes between the last verified values and node ``diverged``, in graph order.

    Not every ONNX value has a counterpart in the reference (a Conv with its BatchNorm folded in, a
    node the alignment could not pair), so the fault lies in this unverified region; its first
    computing node is the prime suspect.
    """
    producers = {out: i for i, node in enumerate(graph.node) for out in node.output}
    region, stack = {diverged}, list(graph.node[diverged].input)
    while stack:
        value = stack.pop()
        index = producers.get(value)
        if value in verified or index is None or index in region:
            continue
        region.add(index)
        stack.extend(graph.node[index].input)
    return sorted(region)
