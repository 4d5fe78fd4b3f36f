"""How much work the model is and how much the machine can do: FLOPs and a matmul peak probe."""

from __future__ import annotations

import time

import torch
from torch.utils.flop_counter import FlopCounterMode

PROBE_SIZE = 2048  # large enough to be compute-bound on a CPU, small enough to take ~0.1 s
PROBE_REPEATS = 8


def count_flops(model: torch.nn.Module, args: tuple, kwargs: dict) -> int:
    """Return the FLOPs of one forward pass (multiply-add = 2), as torch's flop counter counts them."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(*args, **kwargs)
    return int(counter.get_total_flops())


def matmul_peak_gflops(threads: int) -> float:
    """Return the best FP32 GFLOP/s of a square matmul on ``threads`` threads: a practical peak."""
    torch.set_num_threads(threads)
    a = torch.randn(PROBE_SIZE, PROBE_SIZE)
    b = torch.randn(PROBE_SIZE, PROBE_SIZE)
    torch.mm(a, b)  # warm-up: first call allocates and picks kernels
    best = float("inf")
    for _ in range(PROBE_REPEATS):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * PROBE_SIZE**3 / best / 1e9
