"""One backend in its own fresh process: load, warm up, time the calls, then the data-set pass.

A fresh process per backend means one runtime's allocations, threads and imports never pollute
another's numbers; this module imports only the backend's own runtime.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable

import numpy as np
import psutil

MIB = 2**20


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / MIB


def _peak_rss_mb() -> float:
    """Return this process's RSS high-water mark.

    Linux's ru_maxrss survives execve: a child forked from a 250 MB parent reports at least 250 MB.
    VmHWM belongs to the process's own address space, so it starts fresh at exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / MIB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
    return peak / MIB if sys.platform == "darwin" else peak * 1024 / MIB


def _stack(outputs: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack each output over images; outputs whose shape varies (rect letterbox) stay apart as name@i."""
    stacked = {}
    for name, values in outputs.items():
        if len({v.shape for v in values}) == 1:
            stacked[name] = np.concatenate(values)
        else:
            stacked |= {f"{name}@{i}": v for i, v in enumerate(values)}
    return stacked


def time_calls(
    call: Callable[[], object], min_iterations: int, min_time_s: float, max_iterations: int
) -> list[float]:
    """Call ``call`` until both ``min_iterations`` and ``min_time_s`` are reached; return ms per call."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < max_iterations:
        t0 = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        if len(samples) >= min_iterations and time.perf_counter() - started >= min_time_s:
            break
    return samples


def run_backend(job: dict) -> dict:
    """Load and time one backend (one round) at every batch size; with an ``outputs_path``, run the data
    set through it too (one sample at a time)."""
    from reportgen.measure.inputs import make_batch, read_inputs
    from reportgen.measure.worker.backends import backend_module

    at_start = _rss_mb()
    module = backend_module(job["kind"])  # the runtime's import cost lands before 'before_load'
    if job["kind"] in ("pytorch", "torch_compile"):
        from reportgen.measure.worker.models import preload

        preload(job["model_path"])  # so does a model source's library (ultralytics)
    sizes, specs = job["batch_sizes"], job["inputs"]
    samples = read_inputs(job, limit=max(sizes))  # only the timing inputs stay in memory until peak
    first = make_batch(samples, specs, sizes[0])
    before_load = _rss_mb()

    def load():
        return module.load(job["model_path"], job["threads"], job["settings"])

    t0 = time.perf_counter_ns()
    runner = load()
    load_ms = (time.perf_counter_ns() - t0) / 1e6
    after_load = _rss_mb()
    _check_supported(runner, first, sizes[0])
    t0 = time.perf_counter_ns()
    runner(first)
    first_inference_ms = (time.perf_counter_ns() - t0) / 1e6

    warmup, timed = _time_batch(job, load, runner, first)
    peak = _peak_rss_mb()  # before the data set pass, whose stored outputs would inflate it
    by_batch_size = {}
    for size in sizes[1:]:  # in the order asked; the memory high-water mark only grows
        feed = make_batch(samples, specs, size)
        why = _unsupported(runner, feed)
        if why:
            by_batch_size[str(size)] = {"status": "unsupported", "error": why}
            continue
        by_batch_size[str(size)] = {
            "status": "ok",
            "latency_samples_ms": _time_batch(job, load, runner, feed)[1],
            "peak_mb": _peak_rss_mb(),
        }
    del samples, first

    if job["outputs_path"]:  # the data-set pass: one round of each backend, not every round
        outputs: dict[str, list[np.ndarray]] = {}
        for feed in read_inputs(job):
            for name, value in runner(feed).items():
                outputs.setdefault(name, []).append(value)
        np.savez(job["outputs_path"], **_stack(outputs))
    return {
        "status": "ok",
        "error": None,
        "threads": job["threads"],
        # Evidence, not a promise: whether this process ever imported torch (the ORT worker must not).
        "runtime": {**module.info(runner), "torch_imported": "torch" in sys.modules},
        "load_ms": load_ms,
        "first_inference_ms": first_inference_ms,
        "warmup_samples_ms": warmup,
        "latency_samples_ms": timed,
        "by_batch_size": by_batch_size,
        "memory_mb": {
            "at_start": at_start,
            "before_load": before_load,
            "after_load": after_load,
            "peak": peak,
        },
    }


def _time_batch(job: dict, load: Callable, runner: Callable, feed: dict) -> tuple[list[float], list[float]]:
    """Warm up on ``feed`` and time it; return (warm-up ms, timed ms)."""
    warmup_n = job["settings"]["warmup_iterations"]
    warmup = time_calls(lambda: runner(feed), warmup_n, 0, warmup_n) if warmup_n else []
    call = (lambda: load()(feed)) if job["settings"]["time_load_in_latency"] else (lambda: runner(feed))
    m = job["measurement"]
    return warmup, time_calls(call, m["min_iterations"], m["min_time_s"], m["max_iterations"])


def _unsupported(runner: Callable, feed: dict) -> str | None:
    """Return why a runner's file cannot take this batch (a fixed batch axis), or None."""
    return runner.unsupported(feed) if hasattr(runner, "unsupported") else None


def _check_supported(runner: Callable, feed: dict, size: int) -> None:
    why = _unsupported(runner, feed)
    if why:
        from reportgen.errors import ReportgenError

        raise ReportgenError(f"the file cannot run at batch size {size}, the first of batch_sizes: {why}")
