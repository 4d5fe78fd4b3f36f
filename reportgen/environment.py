"""Capture the machine and software a run measured on, without importing torch or onnxruntime."""

from __future__ import annotations

import os
import platform
import subprocess
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
