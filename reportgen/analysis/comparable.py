"""Like with like across versions: two versions' numbers are compared only where the model, its task,
its inputs and a backend's own settings are the same; otherwise what changed is said instead.

A ``raw`` run and a ``classification`` run of another config once read as "speed-up -76%, worse" on
the changes table while ONNX Runtime's own median had not moved. The page's "changes since the previous
version" (report/pages.changes), the index's trends (report/trends.py) and the regression gate
(release/compare.py) all ask here first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reportgen.results.schema import Document

# Backend config keys that do not change what is measured (a timeout, a display name).
_NEUTRAL = frozenset({"name", "timeout_s"})


@dataclass(frozen=True)
class Change:
    """One thing that differs between two versions: ``what`` (model, task, inputs, settings), its
    value before and after as short text, and the backend it concerns (None: the whole run)."""

    what: str
    old: str
    new: str
    backend: str | None = None

    def sentence(self) -> str:
        """Return it in English, for the gate's text output and logs."""
        whose = f"{self.backend}'s settings" if self.backend else f"the {self.what}"
        return f"not compared: {whose} changed from {self.old} to {self.new}"


def _model(doc: Document) -> dict:
    # The index's trend history of merged versions (results/merge.trend_history) has no model: unknown.
    return dict(doc.get("model") or {})


def _inputs(doc: Document) -> str | None:
    """Return the model's inputs as short text: names, dtypes and shapes (else the input shape)."""
    model = _model(doc)
    if model.get("inputs"):
        return ", ".join(f"{s['name']} {s['dtype']} {list(s['shape'])}" for s in model["inputs"])
    return str(list(model["input_shape"])) if model.get("input_shape") else None


def run_changes(old: Document, new: Document) -> list[Change]:
    """Return what differs between two versions for every backend at once: model, task, inputs."""
    out = []
    for what, read in (
        ("model", lambda d: _model(d).get("name")),
        ("task", lambda d: _model(d).get("task")),
        ("inputs", _inputs),
    ):
        before, after = read(old), read(new)
        if before is not None and after is not None and before != after:
            out.append(Change(what, before, after))
    return out


def _settings(doc: Document, name: str) -> dict[str, object] | None:
    """Return a backend's config entry (what it was asked to be), without keys that measure nothing."""
    config: Mapping[str, Any] = doc.get("config", {})
    for entry in config.get("backends") or []:
        if entry.get("name") == name:
            return {k: v for k, v in entry.items() if k not in _NEUTRAL}
    return None  # an older document without its config: nothing to hold against it


def backend_change(old: Document, new: Document, name: str) -> Change | None:
    """Return how a backend's own settings differ between two versions (kind, quantization, precision,
    threads ...), or None when they match or either side does not say."""
    before, after = _settings(old, name), _settings(new, name)
    if before is None or after is None or before == after:
        return None
    keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return Change(
        "settings",
        ", ".join(f"{k} {before.get(k)}" for k in keys),
        ", ".join(f"{k} {after.get(k)}" for k in keys),
        name,
    )


def comparable(old: Document, new: Document, name: str) -> bool:
    """Return whether one backend's numbers of two versions measure the same thing."""
    return not run_changes(old, new) and backend_change(old, new, name) is None
