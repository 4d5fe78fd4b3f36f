"""ONNX Runtime's own profiler (``SessionOptions.enable_profiling``) on the session as measured.

The profile is a Chrome trace: one ``model_run`` event per call and one ``<node>_kernel_time`` event
per node run, with its op type and execution provider. Node names are those of the session's optimized
graph (a fused ``getitem_3_nchwc``, not the exported ``node_Conv_1306``), so the optimized graph is
written too (``optimized_model_filepath``) to read each node's inputs and outputs, through which
scopes.ModuleMap finds the exported node and its PyTorch module.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from reportgen.measure.worker.profile import Calls, Kernel, repeat
from reportgen.measure.worker.scopes import ModuleMap

SUFFIX = "_kernel_time"


def settings(job: dict) -> dict:
    """Return the load settings that turn the profiler on (read by backends/onnxruntime.py)."""
    stem = Path(job["profile_dir"]) / job["name"]
    return {"profile_prefix": str(stem), "optimized_path": f"{stem}.optimized.onnx"}


def collect(live, job: dict) -> Calls:
    """Profile calls of the headline batch; return each call's wall time and nodes."""
    n = repeat(live._call)
    for _ in range(n):
        live._call()
    trace = json.loads(Path(live.runner.session.end_profiling()).read_text())
    options = live.job["settings"]
    optimized = onnx.load(options["optimized_path"], load_external_data=False)
    modules = ModuleMap(*_graphs(job))
    wiring = {node.name: (list(node.output), list(node.input)) for node in optimized.graph.node}
    runs = [e for e in trace if e.get("name") == "model_run"][-n:]
    nodes = [e for e in trace if e.get("cat") == "Node" and e["name"].endswith(SUFFIX)]
    kernels = [[_kernel(e, modules, wiring) for e in nodes if _within(e, run)] for run in runs]
    return Calls("onnxruntime profiler", [r["dur"] / 1e3 for r in runs], kernels)


def _graphs(job: dict) -> list[onnx.ModelProto]:
    """The file the session loaded, then the export it was made from (a quantizer drops metadata)."""
    paths = dict.fromkeys(p for p in (job["model_path"], job.get("export_path")) if p)
    return [onnx.load(p, load_external_data=False) for p in paths]


def _within(event: dict, run: dict) -> bool:
    return run["ts"] <= event["ts"] <= run["ts"] + run["dur"]


def _kernel(event: dict, modules: ModuleMap, wiring: dict) -> Kernel:
    name = event["name"].removesuffix(SUFFIX)
    outputs, inputs = wiring.get(name, ([], []))
    args = event["args"]
    return Kernel(
        name=name,
        op=args["op_name"],
        ms=event["dur"] / 1e3,
        module=modules.module(name, outputs, inputs),
        where=args.get("provider", "?"),
    )
