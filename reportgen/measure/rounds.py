"""One backend's rounds combined: the fresh processes' results and the slices they timed.

A round is one fresh process of a backend, alive while the parent drives slices of every backend in
turn (measure/slices.py). Round 1 also runs the data-set pass. What a process measures once (load,
first call, memory) is summarized over the rounds; its latency samples are its slices' samples.
"""

from __future__ import annotations

import statistics

MEMORY_FIELDS = ("at_start", "before_load", "after_load", "peak")


def combine(results: list[dict], slices: list[dict], t0_ns: int) -> dict:
    """Return one backend's measurements from its rounds' results in order (the first ran the data-set
    pass) and its slices ({round, cycle, start_ns, samples}, in time order).

    Load, first-inference and memory figures are the median over the rounds; CPU shares are their mean
    (the rounds of a run last about as long as each other). Each round's samples are its slices'.
    """
    samples = {
        r: [x for s in slices if s["round"] == r for x in s["samples"]] for r in range(1, len(results) + 1)
    }
    first, records = results[0], [_record(r, samples[i]) for i, r in enumerate(results, start=1)]
    return {
        **first,
        "load_ms": statistics.median(r["load_ms"] for r in results),
        "first_inference_ms": statistics.median(r["first_inference_ms"] for r in results),
        "memory_mb": {k: statistics.median(r["memory_mb"][k] for r in results) for k in MEMORY_FIELDS},
        "latency_rounds_ms": [samples[i] for i in range(1, len(results) + 1)],
        "slices": [
            {
                "round": s["round"],
                "cycle": s["cycle"],
                "start_s": round((s["start_ns"] - t0_ns) / 1e9, 3),
                "n": len(s["samples"]),
            }
            for s in slices
        ],
        "by_batch_size": {size: _batch_rounds(results, size) for size in first.get("by_batch_size", {})},
        "rounds": records,
        "other_cpu_share": round(statistics.fmean(r["other_cpu_share"] for r in records), 3),
        "steal_share": round(statistics.fmean(r["steal_share"] for r in records), 3),
    }


def _record(result: dict, samples: list[float]) -> dict:
    """Return one round's record of the machine and of the process: its median, count, load, first call."""
    return {
        **result["round"],
        "median_ms": statistics.median(samples),
        "n": len(samples),
        # Each round's own load and first call: a compile (torch_compile) is cold in round 1 only.
        "load_ms": result["load_ms"],
        "first_inference_ms": result["first_inference_ms"],
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
