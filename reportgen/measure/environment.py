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
    """Measure how much CPU others took between construction and ``other_share()`` / ``steal_share()``.

    Other processes: busy CPU time of the whole machine minus this process's and its children's own
    CPU time, as a share of our cores over the interval (0 on a quiet machine; a competing job shows
    up). Steal: time the hypervisor gave our virtual CPUs to other guests while they had work (Linux
    ``steal`` in /proc/stat, read through psutil), as a share of the same capacity. The two never
    overlap: steal is not counted as busy.
    """

    def __init__(self) -> None:
        self._start = self._snapshot()

    @staticmethod
    def _snapshot() -> tuple[float, float, float, float]:
        times = psutil.cpu_times()
        steal = getattr(times, "steal", 0.0)
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0) - steal
        return time.monotonic(), busy, _own_cpu_seconds(), steal

    def other_share(self) -> float:
        """Return the share (0..1) of all CPU time used by other processes since construction."""
        (wall0, busy0, own0, _), (wall1, busy1, own1, _) = self._start, self._snapshot()
        return share((busy1 - busy0) - (own1 - own0), wall1 - wall0)

    def steal_share(self) -> float:
        """Return the share (0..1) of our CPU time the hypervisor gave to other guests since construction."""
        (wall0, *_, steal0), (wall1, *_, steal1) = self._start, self._snapshot()
        return share(steal1 - steal0, wall1 - wall0)


def _own_cpu_seconds() -> float:
    """Return the CPU time of this process and of its finished children (our workers)."""
    return sum(
        resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )


def share(cpu_seconds: float, wall_seconds: float, cores: int | None = None) -> float:
    """Return ``cpu_seconds`` as a share (0..1, 3 decimals) of ``cores`` x ``wall_seconds``."""
    capacity = wall_seconds * (cores or _usable_cores())
    if capacity <= 0:
        return 0.0
    return round(min(1.0, max(0.0, cpu_seconds / capacity)), 3)


def cpu_mhz() -> float | None:
    """Return the CPU's current clock in MHz where the OS shows it (cpufreq or /proc/cpuinfo), else None."""
    try:
        freq = psutil.cpu_freq()
    except (OSError, NotImplementedError, RuntimeError):
        return None
    return round(freq.current, 1) if freq and freq.current else None


def _usable_cores() -> int:
    """Return the cores this process may run on (a container's share, not the whole machine)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return psutil.cpu_count() or 1
