"""How far do fresh processes of one worker job disagree, and does the process environment change it?

    .venv/bin/python benchmarks/bench_process_noise.py build/reportgen/0.1.0 [--reps 5]
        [--backends pytorch onnxruntime]

Takes the work folder of an earlier `reportgen run` (its round-1 job files, data set and model files) and
re-runs each backend's job ``--reps`` times in fresh processes (one 1.5-s slice each), one after another,
under each environment variant, interleaved (rep 1 of every variant, then rep 2...). Printed per backend
and variant: the median of the process medians and their spread ((max - min) / median). The variants are
what one would try first against between-process noise: OpenMP threads bound to cores, OpenMP's passive
wait policy, and address-space randomization off (``setarch -R``). The data-set pass is skipped
(``outputs_path`` null): only the timed calls run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from reportgen.measure import slices

TIMED_S = 1.5  # one slice per process, as long as a round's slices of the demo together
VARIANTS = {
    "default": ({}, []),
    "omp-bind": ({"OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}, []),
    "omp-passive": ({"OMP_WAIT_POLICY": "PASSIVE"}, []),
    "aslr-off": ({}, ["setarch", "x86_64", "-R"]),
}


def _job(work: Path, backend: str, scratch: Path) -> dict:
    """Return the backend's round-1 job, pointed at copies in ``scratch`` (a later run deletes ``work``)."""
    job = json.loads((work / f"{backend}-round1.job.json").read_text())
    job["dataset_path"], job["outputs_path"] = str(scratch / "dataset"), None
    if isinstance(job["model_path"], str):  # a file (not the pytorch model section)
        target = scratch / f"{backend}-{Path(job['model_path']).name}"
        shutil.copy(job["model_path"], target)
        job["model_path"] = str(target)
    return job


def _median_ms(job: dict, scratch: Path, extra_env: dict, prefix: list[str]) -> float | None:
    """Start the job as a live worker (measure/slices.py) under the variant, time one slice of
    TIMED_S, let it finish; return the slice's median, or None if it failed."""
    job = {**job, "env": {**job.get("env", {}), **extra_env}}
    worker = slices.Worker(job, scratch / "job", job["threads"], 600.0, tuple(prefix))
    plan = slices.Plan(TIMED_S, 0.0, 1, 20, 100_000, 1, 1.0, 1.0, 600.0)
    timed = worker.time_slice(plan) if worker.ready is not None else None
    worker.finish()
    return statistics.median(timed["samples"]) if timed else None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("work", type=Path, help="work folder of an earlier run (build/reportgen/<version>)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=["pytorch", "onnxruntime"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        shutil.copytree(args.work / "dataset", scratch / "dataset")
        for backend in args.backends:
            job = _job(args.work, backend, scratch)
            medians: dict[str, list[float]] = {name: [] for name in VARIANTS}
            for _ in range(args.reps):
                for name, (extra_env, prefix) in VARIANTS.items():
                    median = _median_ms(job, scratch, extra_env, prefix)
                    if median is not None:
                        medians[name].append(median)
            for name, values in medians.items():
                if not values:
                    print(f"{backend:14s} {name:12s} failed")
                    continue
                middle = statistics.median(values)
                spread = (max(values) - min(values)) / middle
                shown = " ".join(f"{v:.2f}" for v in values)
                print(f"{backend:14s} {name:12s} median {middle:8.2f} ms  spread {spread:5.0%}  ({shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
