"""Checks of the backend keys that belong to one runtime (precision, provider, device, compile_mode):
set on another kind, or in a combination that measures something else than its name says.

Only values other than the default count, so that a dumped config (which writes every key) loads. Each
is one pydantic error detail worded by words.error_line, reported with every other error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic_core import InitErrorDetails

from reportgen.config.sections import BackendConfig
from reportgen.config.words import cross_error

if TYPE_CHECKING:
    from reportgen.config.schema import Config

# The kinds each key acts on; on any other kind a value other than the default is an error.
SCOPES = {
    "precision": ("onnxruntime",),
    "provider": ("onnxruntime",),
    "device": ("pytorch", "torch_compile", "openvino"),
    "compile_mode": ("torch_compile",),
}
# The devices each kind can be asked for.
DEVICES = {"pytorch": ("cpu", "cuda"), "torch_compile": ("cpu", "cuda"), "openvino": ("cpu", "gpu")}


def runtime_problems(config: Config) -> list[InitErrorDetails]:
    """Return the errors of runtime-specific backend keys, one line each."""
    defaults = BackendConfig(name="x", kind="pytorch")
    problems = []
    for index, backend in enumerate(config.backends):
        where = ("backends", index)
        for key, kinds in SCOPES.items():
            value = getattr(backend, key)
            if value != getattr(defaults, key) and backend.kind not in kinds:
                expected = f"no {key} on a backend of kind {backend.kind!r} (it has no effect there)"
                problems.append(cross_error((*where, key), value, expected))
        devices = DEVICES.get(backend.kind, ())
        if backend.kind in DEVICES and backend.device not in devices:
            expected = f"{' or '.join(map(repr, devices))} on a backend of kind {backend.kind!r}"
            problems.append(cross_error((*where, "device"), backend.device, expected))
        if backend.precision == "fp16" and backend.quantization != "none":
            expected = "'fp32' with INT8 quantization (an INT8 file is not converted to FP16 as well)"
            problems.append(cross_error((*where, "precision"), backend.precision, expected))
    return problems
