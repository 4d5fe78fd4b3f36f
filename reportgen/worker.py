"""What runs inside a fresh process: an export, a quantization, a divergence search, or one backend.

    python -m reportgen.worker JOB.json

The parent (runner.py) writes the job, this process writes its result JSON (and, for a backend, the
raw outputs as .npz). A fresh process per backend means one runtime's allocations, threads and
imports never pollute another's numbers. A backend worker imports only its own runtime.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from pathlib import Path

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


def read_inputs(job: dict, limit: int | None = None) -> list[np.ndarray]:
    """Return the input tensors: stored random tensors, or prepared images through the task's to_tensor."""
    from reportgen.tasks import task_module

    task, folder, settings = task_module(job["task"]), Path(job["dataset_path"]), job["task_settings"]
    if (folder / "tensors.npy").exists():
        # Memory-mapped and copied: only the tensors asked for enter this process's memory.
        return [np.array(t) for t in np.load(folder / "tensors.npy", mmap_mode="r")[:limit]]
    images = np.load(folder / "images.npy", mmap_mode="r")[:limit]
    if job.get("settings", {}).get("letterbox") == "rect":  # this backend's own, non-square letterbox
        sources = [np.load(folder / f"source_{i}.npy") for i in range(len(images))]
        return [
            task.to_tensor(task.prepare(s, settings["input_size"], rect=True)[0], settings) for s in sources
        ]
    return [task.to_tensor(np.array(image), settings) for image in images]


def _stack(outputs: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack each output over images; outputs whose shape varies (rect letterbox) stay apart as name@i."""
    stacked = {}
    for name, values in outputs.items():
        if len({v.shape for v in values}) == 1:
            stacked[name] = np.concatenate(values)
        else:
            stacked |= {f"{name}@{i}": v for i, v in enumerate(values)}
    return stacked


def run_backend(job: dict) -> dict:
    """Load, time and run the data set through one backend; return the measurements."""
    from reportgen import timing
    from reportgen.backends import backend_module

    at_start = _rss_mb()
    module = backend_module(job["kind"])  # the runtime's import cost lands before 'before_load'
    if job["kind"] == "pytorch":
        from reportgen.models import preload

        preload(job["model_path"])  # so does a model source's library (ultralytics)
    (first_input,) = read_inputs(job, limit=1)  # only the timing input stays in memory until peak
    before_load = _rss_mb()

    def load():
        return module.load(job["model_path"], job["threads"], job["settings"])

    t0 = time.perf_counter_ns()
    runner = load()
    load_ms = (time.perf_counter_ns() - t0) / 1e6
    after_load = _rss_mb()
    t0 = time.perf_counter_ns()
    runner(first_input)
    first_inference_ms = (time.perf_counter_ns() - t0) / 1e6

    warmup_n = job["settings"]["warmup_iterations"]
    warmup = timing.time_calls(lambda: runner(first_input), warmup_n, 0, warmup_n) if warmup_n else []
    call = (
        (lambda: load()(first_input))
        if job["settings"]["time_load_in_latency"]
        else (lambda: runner(first_input))
    )
    m = job["measurement"]
    samples = timing.time_calls(call, m["min_iterations"], m["min_time_s"], m["max_iterations"])
    peak = _peak_rss_mb()  # before the data set pass, whose stored outputs would inflate it

    outputs: dict[str, list[np.ndarray]] = {}
    for tensor in read_inputs(job):
        for name, value in runner(tensor).items():
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
        "latency_samples_ms": samples,
        "memory_mb": {
            "at_start": at_start,
            "before_load": before_load,
            "after_load": after_load,
            "peak": peak,
        },
    }


def _job_function(kind: str):
    """Import only what the job needs: a backend job imports only its own runtime."""
    if kind == "export":
        from reportgen.export import export_model

        return export_model
    if kind == "quantize":
        from reportgen.quantize import quantize

        return quantize
    if kind == "localize":
        from reportgen.localize import first_divergence

        return first_divergence
    return run_backend


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    try:
        result = _job_function(job["job"])(job)
    except Exception as e:  # a failed backend is data: record it and let the run go on
        from reportgen.errors import ReportgenError

        # A ReportgenError already speaks to the user; anything else needs its type to be understood.
        message = " ".join((str(e) if isinstance(e, ReportgenError) else f"{type(e).__name__}: {e}").split())
        result = {"status": "failed", "error": message[:2000], "traceback": traceback.format_exc()}
    Path(job["result_path"]).write_text(json.dumps(result))
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
