"""The profile pass: where one backend's time goes, per runtime node, op type and PyTorch module.

It runs after the timed rounds, in a fresh process of its own (a profiler perturbs timing: its figures
never enter a speed-up), on the same headline batch and with the same settings as the rounds. Each
runtime reports through its own profiler (measure/worker/profilers/): ONNX Runtime's session
profiler, OpenVINO's performance counters, torch.profiler. They agree on one record per node and
call (``Kernel``); this module sums them into the document's ``profile`` of the backend
(results/schema.py ``Profile``). What no node accounts for stays visible: the time of a call outside
its nodes (``outside_ms``) and node time tied to no module (``unattributed_ms``).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

# A module path is kept to this many segments (``down4.1.cv1``): enough to tell backbone, neck and head
# and the blocks inside them apart; the page folds them further.
MODULE_DEPTH = 4
TOP_NODES = 12
MIN_CALLS, MAX_CALLS, MIN_TIME_S = 5, 50, 0.25
TYPICAL = 1.25


@dataclass(frozen=True)
class Kernel:
    """One runtime node's time in one call: its name in the runtime, its op type, the PyTorch module it
    came from (None: nothing ties it to one) and where it ran (a provider, an executed kernel)."""

    name: str
    op: str
    ms: float
    module: str | None
    where: str


@dataclass(frozen=True)
class Calls:
    """What a profiler saw over the profiled calls: each call's wall time and nodes."""

    tool: str
    walls_ms: list[float]
    kernels: list[list[Kernel]]
    note: str | None = None  # what the tool could not see (e.g. no modules in a frozen graph)


def profile(job: dict) -> dict:
    """Load the backend as the rounds did (with its runtime's profiling on), profile some calls of the
    headline batch and return the summary."""
    from reportgen.measure.worker.backend import Live, time_calls
    from reportgen.measure.worker.profilers import profiler_for

    profiler = profiler_for(job["kind"])
    extra = profiler.settings(job)
    live = Live(job)
    # A call without the profiler, moments before the profiled ones: what the nodes' times must add up
    # to (the rounds' median may come from another of the machine's speed states).
    plain_ms = statistics.median(time_calls(live._call, MIN_CALLS, MIN_TIME_S, MAX_CALLS))
    if extra:  # ONNX Runtime and OpenVINO turn profiling on when the session is made: a second one
        live = Live({**job, "settings": {**job["settings"], **extra}})
    return {**summarize(profiler.collect(live, job), live.load_ms), "plain_ms": plain_ms}


def repeat(call, most: int = MAX_CALLS) -> int:
    """Return how many calls to profile: at least MIN_CALLS and MIN_TIME_S, at most ``most``."""
    t0 = time.perf_counter()
    call()
    each = max(time.perf_counter() - t0, 1e-6)
    return int(min(most, max(MIN_CALLS, MIN_TIME_S / each)))


def summarize(seen: Calls, load_ms: float) -> dict:
    """Return the per-call means by op type, module and place, the top nodes and what is left over."""
    # A call the machine slowed (another process, a speed state) would move every mean: the breakdown
    # is of the typical calls, those within TYPICAL of the median wall time.
    typical = statistics.median(seen.walls_ms) * TYPICAL
    kept = [(w, c) for w, c in zip(seen.walls_ms, seen.kernels, strict=True) if w <= typical]
    walls, calls = [w for w, _ in kept], [c for _, c in kept]
    n = len(calls)
    by_op: dict[str, dict[str, float]] = defaultdict(lambda: {"ms": 0.0, "count": 0.0})
    by_module: dict[str, float] = defaultdict(float)
    by_where: dict[str, float] = defaultdict(float)
    by_node: dict[tuple[str, str, str], float] = defaultdict(float)
    unattributed: dict[str, float] = defaultdict(float)  # op type -> time of its nodes tied to no module
    for call in calls:
        for k in call:
            by_op[k.op]["ms"] += k.ms / n
            by_op[k.op]["count"] += 1 / n
            by_module[_fold(k.module)] += k.ms / n
            by_where[k.where] += k.ms / n
            by_node[(k.name, k.op, _fold(k.module))] += k.ms / n
            if k.module is None:
                unattributed[k.op] += k.ms / n
    kernel_ms = sum(v["ms"] for v in by_op.values())
    wall_ms = statistics.fmean(walls)  # a mean, as the nodes' times are: the remainder is then exact
    top = sorted(by_node.items(), key=lambda kv: -kv[1])[:TOP_NODES]
    return {
        "status": "ok",
        "error": None,
        "tool": seen.tool,
        "note": seen.note,
        "calls": n,
        "load_ms": load_ms,
        "wall_ms": wall_ms,
        "kernel_ms": kernel_ms,
        "outside_ms": max(wall_ms - kernel_ms, 0.0),
        "unattributed_ms": by_module.pop("", 0.0),
        "nodes": sum(len(c) for c in calls) / n,
        "by_op": {op: {"ms": v["ms"], "count": v["count"]} for op, v in _desc(by_op, "ms")},
        "by_module": dict(sorted(by_module.items(), key=lambda kv: -kv[1])),
        "by_where": dict(sorted(by_where.items(), key=lambda kv: -kv[1])),
        "unattributed_by_op": dict(sorted(unattributed.items(), key=lambda kv: -kv[1])),
        "top": [{"name": name, "op": op, "module": mod or None, "ms": ms} for (name, op, mod), ms in top],
    }


def _fold(module: str | None) -> str:
    """Return a module path cut to MODULE_DEPTH segments; "" for none."""
    return ".".join(module.split(".")[:MODULE_DEPTH]) if module else ""


def _desc(values: dict[str, dict[str, float]], key: str) -> list[tuple[str, dict[str, float]]]:
    return sorted(values.items(), key=lambda kv: -kv[1][key])
