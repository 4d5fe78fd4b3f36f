"""How long must the pause between two backends' slices be? Spinning threads of the runtime that just ran.

    .venv/bin/python benchmarks/bench_pause.py WORK_DIR [--reference pytorch] [--candidate onnxruntime]
        [--pauses 0,0.005,0.01,0.02,0.03,0.05,0.1] [--cycles 40] [--slice 0.1]

WORK_DIR is the work folder of a `reportgen run` (build/reportgen/<version>/): its round-1 job files of
the two backends are started again as live workers (measure/slices.py). Each cycle takes every pause
in a shuffled order and times reference, pause, candidate, pause, reference (then 0.1 s of rest), so
every pause length samples the same machine states. Printed per pause: the median of the triplets'
speed-ups (geometric mean of the two reference slices / candidate slice) and its interquartile range.
A runtime whose idle threads still spin slows the next slice on a 2-core machine: the speed-up moves
until the pause is long enough for them to sleep.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from reportgen.measure import slices

REST_S = 0.1


def _worker(work: Path, name: str, tag: str) -> slices.Worker:
    job = json.loads((work / f"{name}-round1.job.json").read_text())
    job["outputs_path"] = None
    return slices.Worker(job, work / f"{name}-{tag}", job["threads"], 600.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--reference", default="pytorch")
    parser.add_argument("--candidate", default="onnxruntime")
    parser.add_argument("--pauses", default="0,0.005,0.01,0.02,0.03,0.05,0.1")
    parser.add_argument("--cycles", type=int, default=40)
    parser.add_argument("--slice", type=float, default=0.1)
    args = parser.parse_args()
    pauses = [float(p) for p in args.pauses.split(",")]
    plan = slices.Plan(args.slice, 0.0, 1, 1, 100_000, 1, 1.0, 1.0, 600.0)
    ref, cand = _worker(args.work, args.reference, "pause"), _worker(args.work, args.candidate, "pause")
    ratios: dict[float, list[float]] = {p: [] for p in pauses}
    rng = random.Random(0)
    for _ in range(args.cycles):
        order = list(pauses)
        rng.shuffle(order)
        for pause in order:
            medians = []
            for worker in (ref, cand, ref):
                medians.append(statistics.median(worker.time_slice(plan)["samples"]))
                time.sleep(pause)
            ratios[pause].append((medians[0] * medians[2]) ** 0.5 / medians[1])
            time.sleep(REST_S)
    ref.finish(), cand.finish()
    head = f"{args.candidate} against {args.reference}: {args.cycles} triplets per pause"
    print(f"{head}, {args.slice:g}-s slices")
    for pause, values in ratios.items():
        q1, median, q3 = statistics.quantiles(values, n=4)
        print(f"pause {1000 * pause:5.0f} ms: speed-up {median:.3f} (IQR {q1:.3f}-{q3:.3f})")


if __name__ == "__main__":
    main()
