"""Run one job in this fresh process: ``python -m reportgen.measure.worker JOB.json``.

The parent (measure/runner.py) writes the job; this process writes its result JSON (and, for a
backend, the raw outputs as .npz). A backend job also talks with the parent while it lives (slices,
measure/slices.py). A job imports only what it needs.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from pathlib import Path


def _job_function(kind: str):
    """Import only what the job needs: a backend job imports only its own runtime."""
    if kind == "export":
        from reportgen.measure.worker.export import export_model

        return export_model
    if kind == "quantize":
        from reportgen.measure.worker.quantize import quantize

        return quantize
    if kind == "fp16":
        from reportgen.measure.worker.fp16 import convert

        return convert
    if kind == "profile":
        from reportgen.measure.worker.profile import profile

        return profile
    if kind == "localize":
        from reportgen.measure.worker.divergence import first_divergence

        return first_divergence
    from reportgen.measure.worker.backend import serve

    return _served(serve)


def _served(serve):
    """A backend job stays alive for a round: it reads the parent's slice commands from the connection
    whose descriptor the job names (measure/slices.py holds the other end)."""
    from multiprocessing.connection import Connection

    return lambda job: serve(job, Connection(job["connection_fd"]))


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    try:
        result = _job_function(job["job"])(job)
    except Exception as e:  # a failed backend is data: record it and let the run go on
        from reportgen.errors import ConfigError, ReportgenError
        from reportgen.measure.worker.backends.availability import Unavailable

        if isinstance(e, Unavailable):  # no GPU here: a status, not a failure (and no traceback)
            Path(job["result_path"]).write_text(json.dumps({"status": "unavailable", "error": str(e)}))
            return 0

        # A ReportgenError already speaks to the user; anything else needs its type to be understood.
        message = str(e) if isinstance(e, ReportgenError) else f"{type(e).__name__}: {e}"
        # Terminal colour codes (torch.export's "\x1b[96m") never reach the results or the terminal.
        message = " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", message).split())
        result = {"status": "failed", "error": message[:2000], "traceback": traceback.format_exc()}
        if isinstance(e, ConfigError):  # the config and the model disagree: the parent stops with exit 2
            result["config_error"] = True
    Path(job["result_path"]).write_text(json.dumps(result))
    return 0 if result["status"] == "ok" else 1


sys.exit(main(sys.argv[1]))
