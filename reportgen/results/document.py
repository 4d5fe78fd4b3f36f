"""The results document: schema version, atomic write, read with upgrade, sanity invariants.

docs/results.md describes every key. Files of a newer schema are refused; older ones are upgraded
by ``UPGRADES`` (one small function per version step) when read.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from reportgen import stats
from reportgen.errors import ResultsError, SanityError

SCHEMA_VERSION = 2


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


# UPGRADES[n] turns a schema-n document into a schema-(n+1) one.
UPGRADES: dict[int, Callable[[dict], dict]] = {1: upgrade_v1_to_v2}


def dumps(document: dict) -> str:
    """Return the canonical JSON text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(path: Path, document: dict) -> None:
    """Check the invariants, then write the document atomically."""
    check_invariants(document)
    write_text_atomic(path, dumps(document))


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
