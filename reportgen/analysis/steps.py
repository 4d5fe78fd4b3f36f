"""A shared step that failed before any backend ran: the ONNX export, the TorchScript trace, the INT8
quantization or the FP16 conversion. Each is said once (one finding, at the top), and the backends
that needed its file are "not measured: the export failed", not a failure of their own each.

The runner (measure/runner.py ``_model_file``) fails every backend that needed a failed step with the
step's own line behind the prefix below; backends failing with the same step and line share one cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analysis.finding import Finding, finding
from reportgen.analysis.verdicts import Thresholds
from reportgen.results.schema import Document

# step -> the prefix runner._model_file puts before the step's error in each backend that needed it
PREFIXES = {
    "export": "ONNX export failed: ",
    "trace": "TorchScript trace failed: ",
    "quantization": "INT8 quantization failed: ",
    "fp16": "FP16 conversion failed: ",
}


@dataclass(frozen=True)
class StepFailure:
    """One failed step: which, its own error line, and the backends left unmeasured by it."""

    step: str
    error: str
    backends: tuple[str, ...]


def failed_steps(document: Document) -> list[StepFailure]:
    """Return each failed step with the backends it left unmeasured, in config order.

    The reference is never one of them: a reference that failed is the run's own failure (its worker
    says why), whatever step it needed."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name in document["backend_order"]:
        b = document["backends"][name]
        if name == document["reference"] or b["status"] != "failed" or not b["error"]:
            continue
        for step, prefix in PREFIXES.items():
            if b["error"].startswith(prefix):
                groups.setdefault((step, b["error"][len(prefix) :]), []).append(name)
                break
    return [StepFailure(step, error, tuple(names)) for (step, error), names in groups.items()]


def blocked(document: Document) -> dict[str, str]:
    """Return backend -> the step whose failure left it unmeasured."""
    return {name: f.step for f in failed_steps(document) for name in f.backends}


def step_findings(document: Document, th: Thresholds) -> list[Finding]:
    """Return one finding per failed step, naming every backend it left unmeasured."""
    return [
        finding(
            f"backend.step/{f.step}",
            "fail",
            None,
            names=", ".join(f.backends),
            error=f.error,
        )
        for f in failed_steps(document)
    ]
