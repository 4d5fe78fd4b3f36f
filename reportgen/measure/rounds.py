"""Rounds: every backend timed in several fresh processes, interleaved across backends.

One process is one sample of the machine: address-space layout, thread placement, allocator state and
the neighbours of a VM are drawn anew at each start, and on our 2-core VM they moved one backend's
median between 5.4 and 7.5 ms across six fresh processes while a process's own samples spread 3-9%.
So each backend is timed in ``measurement.rounds`` fresh workers: round 1 of every backend, then
round 2, ... (as asv interleaves its rounds), the order inside a round shuffled with a fixed seed, so
slow drift and bursts of load fall on every backend alike. Round 1 also runs the data-set pass.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from datetime import datetime, timezone

from reportgen.measure import environment

SCHEDULE_SEED = 0  # fixed: the same config always measures in the same order
MEMORY_FIELDS = ("at_start", "before_load", "after_load", "peak")


def schedule(names: list[str], rounds: int, seed: int = SCHEDULE_SEED) -> list[list[str]]:
    """Return the order of the workers: one list per round, each a shuffle of ``names``."""
    rng = random.Random(seed)
    order = []
    for _ in range(rounds):
        names = list(names)
        rng.shuffle(names)
        order.append(names)
    return order


def measure(run_worker: Callable[[], dict]) -> dict:
    """Run one round's worker and return its result with the round's record of the machine."""
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    mhz, contention = environment.cpu_mhz(), environment.CpuContention()
    result = run_worker()
    record = {
        "started_at": started_at,
        "other_cpu_share": contention.other_share(),
        "steal_share": contention.steal_share(),
        "cpu_mhz": mhz,
    }
    if result["status"] == "ok":
        samples = result["latency_samples_ms"]
        record |= {"median_ms": statistics.median(samples), "n": len(samples)}
        # Each round's own load and first call: a compile (torch_compile) is cold in round 1 only.
        record |= {"load_ms": result["load_ms"], "first_inference_ms": result["first_inference_ms"]}
    return {**result, "round": record}


def combine(results: list[dict]) -> dict:
    """Return one backend's measurements from its rounds in order (the first ran the data-set pass).

    A failed round fails the backend. Load, first-inference and memory figures are the median over
    the rounds; CPU shares are their mean (each round lasts about as long as the others).
    """
    failed = next((r for r in results if r["status"] != "ok"), None)
    if failed is not None:
        return failed
    first, records = results[0], [r["round"] for r in results]
    return {
        **first,
        "load_ms": statistics.median(r["load_ms"] for r in results),
        "first_inference_ms": statistics.median(r["first_inference_ms"] for r in results),
        "memory_mb": {k: statistics.median(r["memory_mb"][k] for r in results) for k in MEMORY_FIELDS},
        "latency_rounds_ms": [r["latency_samples_ms"] for r in results],
        "by_batch_size": {size: _batch_rounds(results, size) for size in first.get("by_batch_size", {})},
        "rounds": records,
        "other_cpu_share": round(statistics.fmean(r["other_cpu_share"] for r in records), 3),
        "steal_share": round(statistics.fmean(r["steal_share"] for r in records), 3),
    }


def _batch_rounds(results: list[dict], size: str) -> dict:
    """Return one batch size's rounds: every round's samples and peak memory, or why it is unsupported."""
    entries = [r["by_batch_size"][size] for r in results]
    unsupported = next((e for e in entries if e["status"] != "ok"), None)
    if unsupported is not None:
        return unsupported
    return {
        "status": "ok",
        "latency_rounds_ms": [e["latency_samples_ms"] for e in entries],
        "peak_mb": statistics.median(e["peak_mb"] for e in entries),
    }
