"""The results document: schema version, atomic write, read with upgrade, sanity invariants.

docs/results.md describes every key. Files of a newer schema are refused; older ones are upgraded
by ``UPGRADES`` (one small function per version step) when read, then checked whole: the schema and
the invariants (reportgen/results/reader.py) are the same at write and at every read.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

import numpy as np
from typing_extensions import TypeIs

from reportgen import stats
from reportgen.config.schema import AnalysisConfig
from reportgen.errors import ResultsError, SanityError
from reportgen.files import write_atomic
from reportgen.results import reader
from reportgen.results.schema import Document, Merged

SCHEMA_VERSION = 5


def upgrade_v1_to_v2(document: dict) -> dict:
    """Schema 2 adds the robust CV, FLOPs and GFLOP/s, CPU contention, finding params and example pictures.

    It also dropped ``analysis.max_load_average`` (a lagging load average flagged quiet machines; CPU
    contention is now measured during the run), so the stored config loads with today's schema.
    Upgraded findings keep their English text and carry no ``key``/``params``.
    """
    doc = copy.deepcopy(document)
    doc.get("config", {}).get("analysis", {}).pop("max_load_average", None)
    doc.setdefault("model", {}).setdefault("flops", None)
    doc.setdefault("environment", {}).update(
        {k: doc["environment"].get(k) for k in ("peak_gflops", "other_cpu_share")}
    )
    for backend in doc.get("backends", {}).values():
        for key in ("gflops", "model_path", "weight_dtypes"):
            backend.setdefault(key, None)
        if backend.get("memory_mb"):
            backend["memory_mb"].setdefault("at_start", None)
        latency = backend.get("latency_ms")
        if latency and "robust_cv" not in latency:
            latency["robust_cv"] = stats.summarize(latency["samples"])["robust_cv"]
        if backend.get("parity"):
            backend["parity"].setdefault("first_divergence", None)
    for example in doc.get("examples", []):
        example.setdefault("backends", list(example.get("detections", {})))
        example.setdefault("pictures", {})
        example.setdefault("ground_truth_objects", None)
    doc["schema_version"] = 2
    return doc


def upgrade_v2_to_v3(document: dict) -> dict:
    """Schema 3 times every backend in several fresh processes (rounds); an older file was one.

    Each measured backend gets one round made of its samples, so its interval is the one-process
    bootstrap it always was; ``config.measurement.rounds`` becomes 1, which the report's method
    findings read to say that such an interval ignores the variance between processes.
    """
    doc = copy.deepcopy(document)
    config = doc.setdefault("config", {})
    config.setdefault("measurement", {})["rounds"] = 1
    config.setdefault("analysis", {}).setdefault(
        "max_round_spread", AnalysisConfig.model_fields["max_round_spread"].default
    )
    doc.setdefault("environment", {}).update({"steal_share": None, "cpu_mhz": None})
    for backend in doc.get("backends", {}).values():
        backend.setdefault("steal_share", None)
        latency = backend.get("latency_ms")
        if not latency:
            backend.setdefault("rounds", None)
            continue
        latency.update({"rounds": 1, "round_spread": None})
        backend["rounds"] = [
            {
                "median_ms": latency["median"],
                "n": latency["n"],
                "other_cpu_share": backend.get("other_cpu_share"),
                "steal_share": None,
                "cpu_mhz": None,
                "started_at": None,
            }
        ]
    doc["schema_version"] = 3
    return doc


def upgrade_v3_to_v4(document: dict) -> dict:
    """Schema 4 times backends in time-paired slices (``slices``, ``timing``; issue 17) and stores what
    was measured only: the findings and speed-ups an older run judged are dropped, the analysis judges
    on read (issue 19). A schema-3 file has no slices: its speed-ups come from its rounds."""
    doc = copy.deepcopy(document)
    doc.pop("findings", None)
    doc["timing"] = None
    for backend in doc.get("backends", {}).values():
        backend["slices"] = None
        for judged in ("speedup", "speedup_interval"):  # judged on read now (analysis/finding.speedup_of)
            backend.pop(judged, None)
    for example in doc.get("examples", []):
        example.setdefault("name", None)  # added within schema 3: earlier files lack it
    doc["schema_version"] = 4
    return doc


def upgrade_v4_to_v5(document: dict) -> dict:
    """Schema 5 records where each backend's time goes (``profile``; issue 18): older runs were not
    profiled, so their speed findings carry no measured cause."""
    doc = copy.deepcopy(document)
    for backend in doc.get("backends", {}).values():
        backend["profile"] = None
    doc["schema_version"] = 5
    return doc


# UPGRADES[n] turns a schema-n document into a schema-(n+1) one.
UPGRADES: dict[int, Callable[[dict], dict]] = {
    1: upgrade_v1_to_v2,
    2: upgrade_v2_to_v3,
    3: upgrade_v3_to_v4,
    4: upgrade_v4_to_v5,
}


def latency_rounds(backend: dict) -> list[np.ndarray]:
    """Return a measured backend's latency samples (ms) round by round."""
    latency = backend["latency_ms"]
    return stats.split_rounds(latency["samples"], [r["n"] for r in backend["rounds"]])


def dumps(document: Mapping[str, object]) -> str:
    """Return the canonical JSON text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_results(path: Path, document: Mapping[str, object]) -> None:
    """Check the invariants, then write the document atomically."""
    check_invariants(document)
    write_atomic(path, dumps(document))


def read_results(path: Path) -> Document | Merged:
    """Read a results file: refuse a newer schema, upgrade an older one, then check it whole.

    Every command that reads a document reads it here (render, render --all, --merge, compare,
    publish, build --results), so each gets the same check (reportgen/results/reader.py): a bad file
    is one ResultsError line (exit 2) naming the file, the key path and what was expected."""
    source = str(path)
    document = reader.load(Path(path))
    if not isinstance(document, dict) or not _is_schema_version(document.get("schema_version")):
        raise ResultsError(
            f"{source}: schema_version: expected an integer, this is not a reportgen results file"
        )
    document = upgrade(document, source=source)
    reader.check(document, source)
    return cast("Document | Merged", document)  # checked whole against those types just above


def _is_schema_version(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_merged(document: Document | Merged | dict) -> TypeIs[Merged]:
    """Return whether a document merges the results of several machines (it holds ``machines``)."""
    return "machines" in document


def machine_documents(document: Document | Merged) -> list[Document]:
    """Return the one-machine documents: a merged document's machines, else the document itself."""
    return list(document["machines"]) if is_merged(document) else [document]


def upgrade(document: dict, source: str = "results") -> dict:
    """Return ``document`` upgraded step by step to SCHEMA_VERSION (a merged one machine by machine)."""
    found = document["schema_version"]
    if found > SCHEMA_VERSION:
        raise ResultsError(
            f"{source}: schema_version: {found} is newer than this reportgen understands "
            f"({SCHEMA_VERSION}); upgrade reportgen"
        )
    if is_merged(document):
        return _upgrade_merged(document, source)
    if document["schema_version"] < SCHEMA_VERSION:
        reader.check_upgradable(document, source)
    while document["schema_version"] < SCHEMA_VERSION:
        found = document["schema_version"]
        step = UPGRADES.get(found)
        if step is None:
            raise ResultsError(f"{source}: schema_version: {found} cannot be upgraded")
        try:
            document = step(document)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
            # check_upgradable lets through only what the steps read; this is the net under it.
            detail = " ".join(f"{type(e).__name__}: {e}".split())[:120]
            raise ResultsError(
                f"{source}: schema_version: {found} document cannot be upgraded ({detail})"
            ) from None
    return document


def _upgrade_merged(document: Merged | dict, source: str) -> dict:
    """Upgrade every machine of a merged document; each is refused or upgraded like a file of its own."""
    machines = document["machines"]
    if not isinstance(machines, list) or not machines:
        raise ResultsError(f"{source}: machines: expected a non-empty list of results documents")
    upgraded = []
    for i, machine in enumerate(machines):
        where = f"{source}: machines[{i}]"
        if not isinstance(machine, dict) or not _is_schema_version(machine.get("schema_version")):
            raise ResultsError(f"{where}: schema_version: expected an integer, not a results document")
        if is_merged(machine):
            raise ResultsError(f"{where}: a machine's results cannot themselves be merged")
        upgraded.append(upgrade(machine, where))
    # Merged documents exist since schema 2; the envelope itself has nothing to upgrade.
    return {**document, "schema_version": SCHEMA_VERSION, "machines": upgraded}


def check_invariants(document: Mapping[str, object]) -> None:
    """Raise SanityError (exit 1) when a document about to be written breaks a rule every reader
    checks (reportgen/results/reader.py): an impossible measurement (a confidence outside [0, 1], a
    negative count, a non-positive latency, rounds that do not add up) must never reach a page, and
    nothing is written that ``read_results`` would refuse."""
    # As the file will hold it (tuples as lists), NaN kept so the reader can name where it is.
    found = reader.problems(json.loads(json.dumps(document, allow_nan=True)))
    if found:
        shown = [reader.key_path(p.loc) + ": " + p.text for p in found[:MAX_SHOWN]]
        more = f"; and {len(found) - MAX_SHOWN} more" if len(found) > MAX_SHOWN else ""
        raise SanityError("impossible measurements, run rejected: " + "; ".join(shown) + more)


MAX_SHOWN = 5  # problems a rejected run lists
