"""Capture the machine and software a run measured on, without importing torch or onnxruntime."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import time
from importlib import metadata

import psutil

PACKAGES = ("torch", "onnx", "onnxruntime", "onnxscript", "numpy", "reportgen")


def capture(threads: int) -> dict:
    """Return CPU, cores, memory, OS, Python, package versions, threads, load and git commit."""
    cores = psutil.cpu_count(logical=True) or 1
    return {
        "cpu": _cpu_model(),
        "cores_logical": cores,
        "cores_physical": psutil.cpu_count(logical=False) or cores,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "threads": threads,
        "load_average_per_core": round(os.getloadavg()[0] / cores, 2) if hasattr(os, "getloadavg") else None,
        "git_commit": _git_commit(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class CpuContention:
    """Measure how much CPU other processes used between construction and ``other_share()``.

    Busy CPU time of the whole machine minus this process's and its children's own CPU time,
    as a share of all cores over the interval: 0 on a quiet machine, a competing job shows up.
    """

    def __init__(self) -> None:
        self._start = self._snapshot()

    @staticmethod
    def _snapshot() -> tuple[float, float, float]:
        times = psutil.cpu_times()
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        own = sum(
            resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        return time.monotonic(), busy, own

    def other_share(self) -> float:
        """Return the share (0..1) of all CPU time used by other processes since construction."""
        wall0, busy0, own0 = self._start
        wall1, busy1, own1 = self._snapshot()
        capacity = (wall1 - wall0) * _usable_cores()
        if capacity <= 0:
            return 0.0
        return round(min(1.0, max(0.0, ((busy1 - busy0) - (own1 - own0)) / capacity)), 3)


def _usable_cores() -> int:
    """Return the cores this process may run on (a container's share, not the whole machine)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return psutil.cpu_count() or 1
