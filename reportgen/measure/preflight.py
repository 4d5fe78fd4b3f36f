"""``reportgen validate --deep``: the run's preflight on demand, without timing anything.

The same steps a run takes before its first round (measure/runner.py): the evaluation inputs, then the
export worker, which calls the reference once at every batch size, exports and calls the export once
(worker/preflight.py), then the task's check of the outputs. A config mistake is the same one line,
raised as a ConfigError (exit 2).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from reportgen.config.schema import Config
from reportgen.measure import runner


def deep_check(config: Config, config_path: str | None = None) -> list[str]:
    """Run the preflight of ``config``; return what it found, one line each (export failures included)."""
    work_dir = Path(tempfile.mkdtemp(prefix="reportgen-preflight-"))
    try:
        data, _, model = runner.prepare(config, work_dir, config_path)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    sizes = ", ".join(map(str, config.measurement.batch_sizes))
    found = [*data.warnings]
    if model.get("status") == "failed":
        found.append(f"the model could not be loaded: {model['error']}")
        return found
    found.append(f"the reference ran on the configured inputs at batch sizes {sizes}")
    onnx = model["onnx"]
    if onnx["status"] == "ok":
        found.append(f"ONNX file ok ({onnx['exporter']}, opset {onnx['opset']}, {onnx['precision']})")
    else:
        found.append(f"ONNX export failed: {onnx['error']}")
    return found
