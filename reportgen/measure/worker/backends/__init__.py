"""Runtimes behind one small interface. Adding a runtime means adding two modules here: ``<kind>.py``
(the runtime, imported only by its worker) and ``<kind>_config.py`` (its config model, no runtime
import; config/backends.py joins the models into the union every other list of kinds derives from).

A backend module defines ``load(model_path, threads, settings) -> Runner`` where ``Runner`` is a
callable taking a feed (``{input name: array}``, see measure/inputs.py) and returning ``{output name:
array}``, and ``info(runner)`` with what the runtime really used (providers, ...). Modules are imported
lazily, by kind, so the ONNX Runtime worker never imports torch. A ``load`` that finds the machine
without what the backend needs (a GPU, a provider) raises ``availability.Unavailable``: the backend is
recorded as not available on this machine, not as failed.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def backend_module(kind: str) -> ModuleType:
    """Import and return the module implementing ``kind``."""
    return importlib.import_module(f"{__name__}.{kind}")
