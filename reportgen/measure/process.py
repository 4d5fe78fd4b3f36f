"""Start a worker job in a fresh interpreter and collect its result: one way for every job.

A job is a JSON file the worker reads (``python -m reportgen.measure.worker JOB.json``); its result is
the JSON file the job names, its output the log beside them. A crash, a timeout or a missing result
becomes a failed result, so a broken backend is data and the run goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def launch(
    job: dict, stem: Path, threads: int, pass_fds: tuple[int, ...] = (), prefix: tuple[str, ...] = ()
) -> subprocess.Popen:
    """Write ``job`` beside ``stem`` and start its worker (under ``prefix``, a command such as
    ``setarch -R`` that runs it: benchmarks/bench_process_noise.py); return the running process."""
    job = {**job, "result_path": str(stem.with_suffix(".result.json"))}
    stem.with_suffix(".job.json").write_text(json.dumps(job, indent=2))
    Path(job["result_path"]).unlink(missing_ok=True)
    # Thread pools are sized before the runtime starts: every runtime gets exactly `threads`.
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env |= job.get("env", {})  # a runtime's own variables (the job file keeps them; results do not)
    with stem.with_suffix(".log").open("w") as out:
        return subprocess.Popen(
            [*prefix, sys.executable, "-m", "reportgen.measure.worker", str(stem.with_suffix(".job.json"))],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=pass_fds,
        )


def shown_log(stem: Path) -> str:
    """Return a worker's log as an error names it: relative to the current folder (build/reportgen/...),
    since errors reach the published results and pages, which never show the build machine's folders."""
    log = stem.with_suffix(".log").absolute()
    try:
        return str(log.relative_to(Path.cwd()))
    except ValueError:  # a work folder outside the current one: its name, in the run's work folder
        return f"{log.name} in the run's work folder"


def collect(proc: subprocess.Popen, stem: Path, timeout_s: float) -> dict:
    """Wait for a worker to end and return its result (a failed one if it wrote none in time)."""
    log = stem.with_suffix(".log")
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return {"status": "failed", "error": f"timed out after {timeout_s:g} s (see {shown_log(stem)})"}
    result_path = stem.with_suffix(".result.json")
    if result_path.exists():
        return json.loads(result_path.read_text())
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
    return {
        "status": "failed",
        "error": f"worker exited with code {proc.returncode}: {tail[0][:500]} (see {shown_log(stem)})",
    }


def run_job(job: dict, stem: Path, timeout_s: float, threads: int) -> dict:
    """Run one job to its end in a fresh interpreter and return its result."""
    return collect(launch(job, stem, threads), stem, timeout_s)
