"""Several machines, one version: the merged results document, a label per machine, machines matched.

`reportgen run` on each machine writes one results document; ``merge`` keeps each of them whole under
``machines`` (docs/results.md). Hardware differs, so nothing here ever combines the numbers of two
machines: pages show a section per machine and ``compare`` pairs a machine with the same machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from reportgen import __version__
from reportgen.errors import ResultsError
from reportgen.results.document import SCHEMA_VERSION, check_invariants, is_merged, machine_documents
from reportgen.results.schema import Document, Merged
from reportgen.results.version import check_version_label

# Marketing words and the clock of a CPU name, left out of its label: "Intel(R) Xeon(R) Platinum 8370C
# CPU @ 2.80GHz" -> "intel-xeon-platinum-8370c".
_CPU_NOISE = re.compile(r"\((?:r|tm|c)\)|@.*$|\b(?:cpu|processor|\d+-core)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
MAX_CPU_CHARS = 32


def machine_label(environment: Mapping[str, object]) -> str:
    """Return a short, file-system-safe label of a machine: its CPU, OS and logical cores.

    ``intel-xeon-platinum-8370c-linux-4c``; letters, digits and '-' only, so it also names an anchor.
    """
    cpu = ""
    for word in _WORD.findall(_CPU_NOISE.sub(" ", str(environment.get("cpu") or "")).lower()):
        if len(cpu) + len(word) + 1 > MAX_CPU_CHARS and cpu:
            break
        cpu = f"{cpu}-{word}" if cpu else word[:MAX_CPU_CHARS]
    # platform.platform() starts with the system: "Linux-6.8.0-...", "macOS-14.2-...", "Windows-10-...".
    system = _WORD.findall(str(environment.get("os") or "").lower())
    cores = environment.get("cores_logical")
    cores_text = f"{cores}c" if isinstance(cores, int) and not isinstance(cores, bool) else "unknown"
    return f"{cpu or 'unknown'}-{system[0] if system else 'unknown'}-{cores_text}"


def labelled(document: Document | Merged) -> list[tuple[str, Document]]:
    """Return (label, one-machine document) per machine; the second of two alike gets '-2', and so on."""
    pairs: list[tuple[str, Document]] = []
    seen: dict[str, int] = {}
    for machine in machine_documents(document):
        base = machine_label(machine["environment"])
        seen[base] = seen.get(base, 0) + 1
        # A base label ends with "c" ("4c") or "unknown", never a digit: "-2" cannot make another base label.
        pairs.append((base if seen[base] == 1 else f"{base}-{seen[base]}", machine))
    return pairs


def _created(document: Document, source: str) -> datetime:
    try:
        return datetime.fromisoformat(str(document["created_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise ResultsError(f"{source}: created_at: expected an ISO 8601 time") from None


def merge(documents: list[tuple[str, Document | Merged]]) -> Merged:
    """Return one merged document of (source, results document) pairs, all of one version label.

    A merged input contributes its machines, so a machine can be added to a merged version."""
    if not documents:
        raise ResultsError("no results files to merge")
    machines: list[tuple[str, Document]] = []
    for source, document in documents:
        machines += [(source, m) for m in machine_documents(document)]
    for source, machine in machines:
        check_version_label(machine.get("version"), source)
    first_source, first = machines[0]
    for source, machine in machines[1:]:
        if machine.get("version") != first.get("version"):
            raise ResultsError(
                f"{source}: version {machine.get('version')!r} differs from {first.get('version')!r} of "
                f"{first_source}; the machines of one report must share its version label"
            )
    newest = max(machines, key=lambda pair: _created(pair[1], pair[0]))[1]
    merged: Merged = {
        "schema_version": SCHEMA_VERSION,
        "version": first["version"],
        "title": first["title"],
        "locale": first["locale"],
        "created_at": newest["created_at"],
        "reportgen_version": __version__,
        "machines": [machine for _, machine in machines],
    }
    check_invariants(merged)
    return merged


def counterpart(document: Document | Merged, machine: Document) -> Document | None:
    """Return the machine of `document` (merged or not) with the label of one-machine `machine`."""
    label = machine_label(machine["environment"])
    return next((m for found, m in labelled(document) if found == label), None)


def matched(
    old: Document | Merged, new: Document | Merged
) -> list[tuple[str, Document | None, Document | None]]:
    """Return (label, OLD machine or None, NEW machine or None): NEW's machines, then OLD's others."""
    before, after = dict(labelled(old)), dict(labelled(new))
    labels = [*after, *(label for label in before if label not in after)]
    return [(label, before.get(label), after.get(label)) for label in labels]


def trend_history(history: list[Document | Merged]) -> list[Document]:
    """Return the history as the trend charts read it: once any version is merged, one line per
    backend and machine ("onnxruntime · <label>"), so no line joins two machines' numbers."""
    if not any(is_merged(d) for d in history):
        return [d for d in history if not is_merged(d)]
    projected: list[Document] = []
    for document in history:
        machines = labelled(document)
        backends: dict[str, Any] = {}
        order: list[str] = []
        for label, machine in machines:
            for name in machine["backend_order"]:
                if name in machine["backends"]:
                    order.append(f"{name} · {label}")
                    backends[order[-1]] = machine["backends"][name]
        first_label, first = machines[0]
        # Only the keys the trend charts read (report/trends.py): a projection, not a results document.
        version = {
            "version": document["version"],
            "reference": f"{first['reference']} · {first_label}",
            "backend_order": order,
            "backends": backends,
        }
        projected.append(cast(Document, version))
    return projected
