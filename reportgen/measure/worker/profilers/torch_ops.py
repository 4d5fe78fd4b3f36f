"""torch.profiler for the PyTorch kinds (eager, TorchScript, torch.compile).

A node here is an operator the model calls (``aten::conv2d`` with everything it dispatches to inside),
timed on the CPU. Eager PyTorch's modules are marked with a scope per module call (forward hooks that
open and close a ``record_function`` named after the module), so each operator is charged to the
innermost module around it. A frozen TorchScript graph and an inductor-compiled region have no
module calls left: their operators are charged to no module, which the page reports as unattributed.
A scope that is neither a module nor an operator (a compiled region's wrapper) is opened: its own time
(inductor's fused kernels run inside it) is charged as one node of its name.
"""

from __future__ import annotations

import time

import torch
from torch.profiler import ProfilerActivity, record_function

from reportgen.measure.worker.profile import Calls, Kernel, repeat

CALL = "reportgen::call"
MOST = 15  # calls: reading the profiler's events back costs ~0.1 s per call of the demo net
MODULE = "module::"
NOTES = {
    "torchscript": "a frozen TorchScript graph keeps no module calls: its time is by operator only",
    "torch_compile": "inductor fuses across modules: a compiled region's time is by operator only",
}


def settings(job: dict) -> dict:
    """Nothing to turn on at load time: torch.profiler wraps the calls."""
    return {}


def collect(live, job: dict) -> Calls:
    """Profile calls of the headline batch with module scopes (eager); return calls and operators."""
    hooks = _module_scopes(live.runner.model) if job["kind"] == "pytorch" else []
    n = repeat(live._call, MOST)
    walls = []
    with torch.profiler.profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(n):
            t0 = time.perf_counter_ns()
            with record_function(CALL):
                live._call()
            walls.append((time.perf_counter_ns() - t0) / 1e6)
    for hook in hooks:
        hook.remove()
    calls = [e for e in prof.events() if e.name == CALL]
    return Calls("torch.profiler", walls, [list(_kernels(c, None)) for c in calls], NOTES.get(job["kind"]))


def _module_scopes(model: torch.nn.Module) -> list:
    """Open a profiler scope named after each submodule for the length of its forward call."""
    open_scopes = []

    def enter(name):
        def hook(module, args):
            scope = record_function(MODULE + name)
            scope.__enter__()
            open_scopes.append(scope)

        return hook

    def leave(module, args, output):
        open_scopes.pop().__exit__(None, None, None)

    hooks = []
    for name, module in model.named_modules():
        if name:
            hooks += [module.register_forward_pre_hook(enter(name)), module.register_forward_hook(leave)]
    return hooks


def _kernels(event, module: str | None):
    """Yield the operators under a scope, each charged to the innermost module scope around it."""
    for child in event.cpu_children:
        if child.name.startswith(MODULE):
            yield from _kernels(child, child.name.removeprefix(MODULE))
        elif "::" in child.name:  # an operator (aten::, quantized::, mkldnn::, a custom op)
            yield Kernel(child.name, child.name, child.cpu_time_total / 1e3, module, "cpu")
        else:  # a wrapper scope: open it, its own time is one node
            yield from _kernels(child, module)
            if child.self_cpu_time_total > 0:
                yield Kernel(child.name, child.name, child.self_cpu_time_total / 1e3, module, "cpu")
