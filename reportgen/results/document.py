"""The results document: schema version, atomic write, read with upgrade, sanity invariants.

docs/results.md describes every key. Files of a newer schema are refused; older ones are upgraded
by ``UPGRADES`` (one small function per version step) when read.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reportgen import stats
from reportgen.config.schema import AnalysisConfig
from reportgen.errors import ResultsError, SanityError
from reportgen.files import write_atomic

SCHEMA_VERSION = 3


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


# UPGRADES[n] turns a schema-n document into a schema-(n+1) one.
UPGRADES: dict[int, Callable[[dict], dict]] = {1: upgrade_v1_to_v2, 2: upgrade_v2_to_v3}


def latency_rounds(backend: dict) -> list[np.ndarray]:
    """Return a measured backend's latency samples (ms) round by round."""
    latency = backend["latency_ms"]
    return stats.split_rounds(latency["samples"], [r["n"] for r in backend["rounds"]])


def dumps(document: dict) -> str:
    """Return the canonical JSON text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_results(path: Path, document: dict) -> None:
    """Check the invariants, then write the document atomically."""
    check_invariants(document)
    write_atomic(path, dumps(document))


def read_results(path: Path) -> dict:
    """Read a results file, upgrading an older schema and refusing a newer one."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: not a readable results file ({e})") from None
    if not isinstance(document, dict) or not isinstance(document.get("schema_version"), int):
        raise ResultsError(
            f"{path}: schema_version: expected an integer, this is not a reportgen results file"
        )
    return upgrade(document, source=str(path))


def is_merged(document: dict) -> bool:
    """Return whether a document merges the results of several machines (it holds ``machines``)."""
    return "machines" in document


def machine_documents(document: dict) -> list[dict]:
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
    while document["schema_version"] < SCHEMA_VERSION:
        step = UPGRADES.get(document["schema_version"])
        if step is None:
            raise ResultsError(f"{source}: schema_version: {document['schema_version']} cannot be upgraded")
        document = step(document)
    return document


def _upgrade_merged(document: dict, source: str) -> dict:
    """Upgrade every machine of a merged document; each is refused or upgraded like a file of its own."""
    machines = document["machines"]
    if not isinstance(machines, list) or not machines:
        raise ResultsError(f"{source}: machines: expected a non-empty list of results documents")
    upgraded = []
    for i, machine in enumerate(machines):
        where = f"{source}: machines[{i}]"
        if not isinstance(machine, dict) or not isinstance(machine.get("schema_version"), int):
            raise ResultsError(f"{where}: schema_version: expected an integer, not a results document")
        if is_merged(machine):
            raise ResultsError(f"{where}: a machine's results cannot themselves be merged")
        upgraded.append(upgrade(machine, where))
    # Merged documents exist since schema 2; the envelope itself has nothing to upgrade.
    return {**document, "schema_version": SCHEMA_VERSION, "machines": upgraded}


# Metrics that are counts (>= 0) and rates (in [0, 1]), whatever the task.
COUNTS = ("detections_per_image", "images", "ground_truth_objects")
RATES = (
    "detection_rate",
    "precision",
    "recall",
    "map50",
    "map50_95",
    "mask_map50",
    "top1_accuracy",
    "top5_accuracy",
)


def check_invariants(document: dict) -> None:
    """Raise SanityError when a measurement is impossible; such a number must never reach a page."""
    problems = []
    for i, machine in enumerate(machine_documents(document)):
        prefix = f"machines[{i}]." if is_merged(document) else ""
        for name, backend in machine.get("backends", {}).items():
            if backend.get("status") != "ok":
                continue
            problems += [f"{prefix}backends.{name}.{p}" for p in _backend_problems(backend)]
    if problems:
        raise SanityError("impossible measurements, run rejected: " + "; ".join(problems))


def _backend_problems(backend: dict) -> list[str]:
    problems = []
    metrics = backend.get("metrics") or {}
    confidence = metrics.get("mean_confidence")
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        problems.append(f"metrics.mean_confidence: {confidence} is outside [0, 1]")
    for key in COUNTS + RATES:
        value = metrics.get(key)
        if value is not None and (not _finite(value) or value < 0):
            problems.append(f"metrics.{key}: {value} is negative or not finite")
    for key in RATES:
        value = metrics.get(key)
        if value is not None and value > 1.0:
            problems.append(f"metrics.{key}: {value} is above 1")
    latency = backend.get("latency_ms") or {}
    bad = [s for s in latency.get("samples", []) if not _finite(s) or s <= 0]
    if bad or not latency.get("n"):
        problems.append(f"latency_ms: {len(bad)} non-positive samples of {latency.get('n', 0)}")
    rounds = backend.get("rounds") or []
    if sum(r.get("n") or 0 for r in rounds) != len(latency.get("samples", [])):
        problems.append("rounds: their sample counts do not add up to latency_ms.samples")
    for i, r in enumerate(rounds):
        if not _finite(r.get("median_ms")) or r["median_ms"] <= 0:
            problems.append(f"rounds[{i}].median_ms: {r.get('median_ms')} is not positive")
        for key in ("other_cpu_share", "steal_share"):
            if r.get(key) is not None and not (_finite(r[key]) and 0 <= r[key] <= 1):
                problems.append(f"rounds[{i}].{key}: {r[key]} is outside [0, 1]")
    for key in ("load_ms", "first_inference_ms", "file_size_mb"):
        value = backend.get(key)
        if value is not None and (not _finite(value) or value <= 0):
            problems.append(f"{key}: {value} is not positive")
    for key, value in (backend.get("memory_mb") or {}).items():
        if value is not None and (not _finite(value) or value <= 0):
            problems.append(f"memory_mb.{key}: {value} is not positive")
    return problems


def _finite(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
