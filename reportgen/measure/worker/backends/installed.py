"""Whether a backend's runtime package is installed: the runtimes are extras, not dependencies.

``pip install reportgen`` brings torch and onnx but no runtime (a machine with onnxruntime-gpu does not
want onnxruntime beside it; openvino is large). A backend whose runtime is missing is not a failure of
the model: it is recorded as unavailable, with the pip line that installs it.
"""

from __future__ import annotations

import importlib.util

from reportgen.measure.worker.backends.availability import Unavailable

# backend kind -> (the module it imports, the extras that install that module)
RUNTIMES = {
    "onnxruntime": ("onnxruntime", ("onnxruntime", "onnxruntime-gpu")),
    "openvino": ("openvino", ("openvino",)),
}


def missing(kind: str) -> str | None:
    """Return why ``kind`` cannot run here for want of its package (with the pip line), or None."""
    if kind not in RUNTIMES:
        return None
    module, extras = RUNTIMES[kind]
    if importlib.util.find_spec(module) is not None:
        return None
    lines = " or ".join(f"pip install 'reportgen[{extra}]'" for extra in extras)
    return f"the Python package {module} is not installed: {lines}"


def require(kind: str) -> None:
    """Raise Unavailable when the runtime of backend ``kind`` is not installed."""
    why = missing(kind)
    if why:
        raise Unavailable(why)
