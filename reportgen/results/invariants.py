"""The rules of a results document that span keys, checked after its schema (reportgen/results/schema.py)
holds: at write time (``document.check_invariants``, so no impossible run is written) and at every
read (``document.read_results``), the same rules at both doors.

Single values carry their own bounds in the schema (a confidence in [0, 1], counts >= 0, latencies
> 0, finite numbers, shares in [0, 1]); here: a successful backend holds every measurement, its
rounds (and slices) add up to its samples, the reference and the order name the backends there are, a merged
document's machines carry its version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from reportgen.results.leaves import shown
from reportgen.results.schema import OK_MEASUREMENTS, Backend, Document, Merged

Loc = tuple[str | int, ...]

# What a successful export describes of its file (a failed one has no file).
OK_EXPORT = ("size_mb", "dtype", "dtypes", "export_s")


class Problem(NamedTuple):
    """One thing wrong with a document: where (the key path) and what was expected instead."""

    loc: Loc
    text: str


def merged_problems(merged: Merged) -> Iterator[Problem]:
    """Yield the problems of every machine of a merged document, and of machines of another version."""
    for i, machine in enumerate(merged["machines"]):
        if machine["version"] != merged["version"]:
            found = shown(machine["version"])
            text = f"expected {merged['version']!r}, the merged document's version, got {found}"
            yield Problem(("machines", i, "version"), text)
        for problem in problems(machine):
            yield Problem(("machines", i, *problem.loc), problem.text)


def problems(document: Document) -> Iterator[Problem]:
    """Yield the problems of one machine's document that its schema does not see."""
    backends, order = document["backends"], document["backend_order"]
    if document["reference"] not in backends:
        yield Problem(("reference",), f"expected the name of a backend, got {shown(document['reference'])}")
    if sorted(order) != sorted(backends):
        names = ", ".join(sorted(backends)) or "none"
        text = f"expected every backend's name once ({names}), got {shown(order)}"
        yield Problem(("backend_order",), text)
    for name, backend in backends.items():
        if backend["status"] == "ok":
            yield from _measured(("backends", name), backend)
    onnx = document["model"]["onnx"]
    if onnx is not None and onnx["status"] == "ok":
        for key in OK_EXPORT:
            if key not in onnx:
                yield Problem(("model", "onnx", key), "required key missing (the export succeeded)")


def _measured(loc: Loc, backend: Backend) -> Iterator[Problem]:
    entry: dict[str, Any] = dict(backend)  # walked by key name below
    missing = [key for key in OK_MEASUREMENTS if entry[key] is None]
    for key in missing:
        yield Problem((*loc, key), "expected the measurement of a backend whose status is 'ok', got None")
    latency, rounds = backend["latency_ms"], backend["rounds"]
    if latency is None or rounds is None:
        return
    samples = len(latency["samples"])
    if latency["n"] != samples:
        text = f"expected {samples}, the number of latency_ms.samples, got {shown(latency['n'])}"
        yield Problem((*loc, "latency_ms", "n"), text)
    if latency["rounds"] != len(rounds):
        text = f"expected {len(rounds)}, the number of rounds, got {shown(latency['rounds'])}"
        yield Problem((*loc, "latency_ms", "rounds"), text)
    for key in ("rounds", "slices"):  # each splits the same samples, in order
        parts = entry[key]
        counted = sum(r["n"] for r in parts or [])
        if parts is not None and counted != samples:
            text = f"expected {key} whose n add up to the {samples} latency_ms.samples, got {counted}"
            yield Problem((*loc, key), text)
