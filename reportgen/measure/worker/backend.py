"""One backend in its own fresh process, kept alive for a round: load, warm up, then timed slices on
the parent's command, then the other batch sizes and the data-set pass.

A fresh process per backend means one runtime's allocations, threads and imports never pollute
another's numbers; this module imports only the backend's own runtime. The process stays alive
between slices so the parent can alternate short slices of every backend (measure/slices.py): each
backend then samples the same moments of the machine, whose speed changes over time.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

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


class Live:
    """A loaded backend: its first call and warm-up done, ready to time slices of the headline batch."""

    def __init__(self, job: dict) -> None:
        from reportgen.measure.inputs import make_batch, read_inputs
        from reportgen.measure.worker.backends import backend_module
        from reportgen.measure.worker.backends.installed import require

        self.job = job
        at_start = _rss_mb()
        require(job["kind"])  # a runtime that is not installed: 'unavailable', with the pip line
        self.module = backend_module(job["kind"])  # the runtime's import cost lands before 'before_load'
        if job["from_source"]:  # built from the model source, not from a file the run made
            from reportgen.measure.worker.models import preload

            preload(job["model_path"])  # so does a model source's library (ultralytics)
        sizes, specs = job["batch_sizes"], job["inputs"]
        self.samples = read_inputs(job, limit=max(sizes))  # only the timing inputs stay in memory
        self.feed = make_batch(self.samples, specs, sizes[0])
        before_load = _rss_mb()
        t0 = time.perf_counter_ns()
        self.runner = self.load()
        self.load_ms = (time.perf_counter_ns() - t0) / 1e6
        after_load = _rss_mb()
        _check_supported(self.runner, self.feed, sizes[0])
        t0 = time.perf_counter_ns()
        self.runner(self.feed)
        self.first_inference_ms = (time.perf_counter_ns() - t0) / 1e6
        warmup_n = job["settings"]["warmup_iterations"]
        self.warmup = time_calls(self._call, warmup_n, 0, warmup_n) if warmup_n else []
        self.memory = {"at_start": at_start, "before_load": before_load, "after_load": after_load}

    def load(self) -> Callable:
        job = self.job
        return self.module.load(job["model_path"], job["threads"], job["settings"])

    def _call(self) -> None:
        if self.job["settings"]["time_load_in_latency"]:
            self.load()(self.feed)
        else:
            self.runner(self.feed)

    def time_slice(self, seconds: float, min_calls: int, max_calls: int) -> dict:
        """Time calls of the headline batch for ``seconds`` (within the call bounds); say when it began
        on the machine's monotonic clock, which every process of the run shares."""
        start_ns = time.monotonic_ns()
        return {"start_ns": start_ns, "samples": time_calls(self._call, min_calls, seconds, max_calls)}

    def finish(self) -> dict:
        """Time the other batch sizes, run the data set (round 1 only) and return the round's result."""
        from reportgen.measure.inputs import make_batch, read_inputs

        job = self.job
        peak = _peak_rss_mb()  # before the data set pass, whose stored outputs would inflate it
        by_batch_size: dict[str, dict[str, Any]] = {}
        for size in job["batch_sizes"][1:]:  # in the order asked; the memory high-water mark only grows
            feed = make_batch(self.samples, job["inputs"], size)
            why = _unsupported(self.runner, feed)
            if why:
                by_batch_size[str(size)] = {"status": "unsupported", "error": why}
                continue
            by_batch_size[str(size)] = {
                "status": "ok",
                "latency_samples_ms": _time_batch(job, self.runner, feed),
                "peak_mb": _peak_rss_mb(),
            }
        self.samples, self.feed = [], {}  # the timing inputs are no longer needed: freed
        if job["outputs_path"]:  # the data-set pass: one round of each backend, not every round
            outputs: dict[str, list[np.ndarray]] = {}
            for feed in read_inputs(job):
                for name, value in self.runner(feed).items():
                    outputs.setdefault(name, []).append(value)
            stacked: dict[str, Any] = _stack(outputs)  # (numpy's stub reads **arrays as allow_pickle)
            np.savez(job["outputs_path"], **stacked)
        return {
            "status": "ok",
            "error": None,
            "threads": job["threads"],
            # Evidence, not a promise: whether this process ever imported torch (the ORT worker must not).
            "runtime": {**self.module.info(self.runner), "torch_imported": "torch" in sys.modules},
            "load_ms": self.load_ms,
            "first_inference_ms": self.first_inference_ms,
            "warmup_samples_ms": self.warmup,
            "by_batch_size": by_batch_size,
            "memory_mb": {**self.memory, "peak": peak},
        }


def serve(job: dict, conn: Connection) -> dict:
    """Load the backend, say so, then time a slice per ``("slice", seconds, min, max)`` message until
    ``("finish",)``; return the round's result (the parent also receives it as the last message)."""
    live = Live(job)
    conn.send(("ready", {"load_ms": live.load_ms, "first_inference_ms": live.first_inference_ms}))
    while True:
        message = conn.recv()
        if message[0] == "slice":
            conn.send(("slice", live.time_slice(*message[1:])))
        elif message[0] == "finish":
            return live.finish()
        else:
            raise ValueError(f"unknown message {message[0]!r}")


def _time_batch(job: dict, runner: Callable, feed: dict) -> list[float]:
    """Warm up on ``feed`` and time it (another batch size: timed in one go, not in slices)."""
    warmup_n = job["settings"]["warmup_iterations"]
    if warmup_n:
        time_calls(lambda: runner(feed), warmup_n, 0, warmup_n)
    m = job["measurement"]
    return time_calls(lambda: runner(feed), m["min_iterations"], m["min_time_s"], m["max_iterations"])


def _unsupported(runner: Callable, feed: dict) -> str | None:
    """Return why a runner's file cannot take this batch (a fixed batch axis), or None."""
    return runner.unsupported(feed) if hasattr(runner, "unsupported") else None


def _check_supported(runner: Callable, feed: dict, size: int) -> None:
    why = _unsupported(runner, feed)
    if why:
        from reportgen.errors import ReportgenError

        raise ReportgenError(f"the file cannot run at batch size {size}, the first of batch_sizes: {why}")
