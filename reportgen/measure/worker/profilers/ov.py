"""OpenVINO's performance counters (``PERF_COUNT``): per executed node of the compiled model, its type,
the kernel it executed (``brgconv_avx512_f32``, ``ref_f32``: a reference, unoptimized kernel) and its
real time. Nodes fused into another read NOT_RUN and take no time. Node names keep the ONNX node's
(``node_Conv_1304/WithoutBiases``), through which scopes.ModuleMap finds the PyTorch module."""

from __future__ import annotations

import time

import onnx

from reportgen.measure.worker.profile import Calls, Kernel, repeat
from reportgen.measure.worker.scopes import ModuleMap


def settings(job: dict) -> dict:
    """Return the load settings that turn the counters on (read by backends/openvino.py)."""
    return {"perf_count": True}


def collect(live, job: dict) -> Calls:
    """Profile calls of the headline batch; return each call's wall time and executed nodes."""
    modules = ModuleMap(onnx.load(job["model_path"], load_external_data=False))
    walls, kernels = [], []
    for _ in range(repeat(live._call)):
        t0 = time.perf_counter_ns()
        live._call()
        walls.append((time.perf_counter_ns() - t0) / 1e6)
        kernels.append([_kernel(info, modules) for info in live.runner.request.get_profiling_info()])
    return Calls("openvino performance counters", walls, [[k for k in c if k.ms > 0] for c in kernels])


def _kernel(info, modules: ModuleMap) -> Kernel:
    return Kernel(
        name=info.node_name,
        op=info.node_type,
        ms=info.real_time.total_seconds() * 1e3 if str(info.status).endswith("EXECUTED") else 0.0,
        module=modules.module(info.node_name),
        where=info.exec_type,
    )
