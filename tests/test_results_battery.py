"""A battery of malformed results files through the real CLI (in-process): `render`, `render --merge` and
`compare` refuse each with exit status 2 and one line on stderr naming the file and the key path, no
traceback, no gate verdict, and the site folder exactly as it was.

Each case is (id, how to make the file, the text the line must hold after ``<file>: ``). Files are
made from tests/data/results_v2.json: mutations of it as read (upgraded to schema 3), of it as written
(schema 2, upgraded on read), and texts that are not results documents at all.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reportgen.results.document import SCHEMA_VERSION, read_results

DATA = Path(__file__).parent / "data" / "results_v2.json"
GOOD = read_results(DATA)  # today's schema, as every reader gets it
RAW = json.loads(DATA.read_text(encoding="utf-8"))  # schema 2, as written
LABEL = "a label of letters, digits, '.', '_' or '-'"

Make = Callable[[Path], None]


def doc(change: Callable[[dict], Any], base: dict = GOOD) -> Make:
    """A results document: a copy of ``base`` that ``change`` altered in place."""

    def make(path: Path) -> None:
        document = copy.deepcopy(base)
        change(document)
        path.write_text(json.dumps(document), encoding="utf-8")

    return make


def old(change: Callable[[dict], Any]) -> Make:
    """A schema-2 document, as tests/data/results_v2.json was written, altered by ``change``."""
    return doc(change, RAW)


def text(data: str | bytes) -> Make:
    return lambda path: path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def merged(*changes: Callable[[dict], Any]) -> Make:
    """A merged document of GOOD's machine once per change, each altered by its change."""

    def make(path: Path) -> None:
        machines = []
        for change in changes:
            machine = copy.deepcopy(GOOD)
            change(machine)
            machines.append(machine)
        envelope = {k: GOOD[k] for k in ("version", "title", "locale", "created_at", "reportgen_version")}
        path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, **envelope, "machines": machines}))

    return make


def ort(document: dict) -> dict:
    return document["backends"]["onnxruntime"]


def keep(document: dict) -> None:
    pass


def put(path: str, value: object) -> Callable[[dict], None]:
    """Set the value at a dotted key path ("backends.onnxruntime.latency_ms.median")."""

    def change(document: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            document = document[key]
        document[last] = value

    return change


def delete(path: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            document = document[key]
        del document[last]

    return change


def _nan_median(path: Path) -> None:
    body = json.dumps(GOOD)
    path.write_text(re.sub(r'"median": [0-9.e-]+', '"median": NaN', body, count=1), encoding="utf-8")


def _folder(path: Path) -> None:
    path.mkdir()


def _missing(path: Path) -> None:
    pass


LAT = "backends.onnxruntime.latency_ms"
# (id, make, what the line says after "<file>: ")
CASES: list[tuple[str, Make, str]] = [
    # --- the file itself ---------------------------------------------------------------------------
    ("missing-file", _missing, "no such results file"),
    ("a-folder", _folder, "is a folder, not a results file"),
    (
        "not-utf8",
        text(b'{"schema_version": 3, "title": "caf\xe9"}'),
        "not a readable results file (not UTF-8",
    ),
    ("not-json", text('{"schema_version": 3,'), "not a readable results file (not JSON"),
    ("empty-file", text(""), "not a readable results file (not JSON"),
    ("a-list", text("[1, 2]"), "schema_version: expected an integer"),
    (
        "nested-past-the-parser",
        text('{"schema_version": 3, "config": ' + "[" * 5000 + "]" * 5000 + "}"),
        "nested deeper",
    ),
    (
        "nested-40-levels",
        doc(put("config.measurement", json.loads("[" * 40 + "]" * 40))),
        "config.measurement[0]",
    ),
    ("integer-of-5000-digits", text('{"schema_version": ' + "9" * 5000 + "}"), "too many digits"),
    # --- the schema version ------------------------------------------------------------------------
    ("schema-too-new", doc(put("schema_version", 9)), "schema_version: 9 is newer than"),
    ("schema-missing", doc(delete("schema_version")), "schema_version: expected an integer"),
    ("schema-a-string", doc(put("schema_version", "3")), "schema_version: expected an integer"),
    ("schema-true", doc(put("schema_version", True)), "schema_version: expected an integer"),
    ("schema-zero", doc(put("schema_version", 0)), "schema_version: 0 cannot be upgraded"),
    # --- required keys deleted ---------------------------------------------------------------------
    ("no-backends", doc(delete("backends")), "backends: required key missing"),
    ("no-backend-order", doc(delete("backend_order")), "backend_order: required key missing"),
    ("no-reference", doc(delete("reference")), "reference: required key missing"),
    ("no-median", doc(delete(f"{LAT}.median")), f"{LAT}.median: required key missing"),
    ("no-status", doc(delete("backends.pytorch.status")), "backends.pytorch.status: required key missing"),
    ("no-environment", doc(delete("environment")), "environment: required key missing"),
    ("no-model-name", doc(delete("model.name")), "model.name: required key missing"),
    ("old-without-median", old(delete(f"{LAT}.median")), f"{LAT}.median: required key missing"),
    # --- wrong types -------------------------------------------------------------------------------
    ("latency-a-string", doc(put(LAT, "fast")), f"{LAT}: expected an object, got 'fast'"),
    (
        "median-a-string",
        doc(put(f"{LAT}.median", "3.4")),
        f"{LAT}.median: expected a positive number, got '3.4'",
    ),
    # --- issue 20: whether a backend's answers vary (no verdict on nothing) ------------------------
    (
        "answers-distinct-negative",
        doc(
            put(
                "backends.onnxruntime.answers", {"samples": 4, "constant_outputs": False, "distinct_top1": -1}
            )
        ),
        "backends.onnxruntime.answers.distinct_top1",
    ),
    (
        "answers-constant-a-string",
        doc(
            put(
                "backends.onnxruntime.answers",
                {"samples": 4, "constant_outputs": "yes", "distinct_top1": None},
            )
        ),
        "backends.onnxruntime.answers.constant_outputs",
    ),
    (
        "answers-without-samples",
        doc(put("backends.onnxruntime.answers", {"constant_outputs": None, "distinct_top1": None})),
        "backends.onnxruntime.answers.samples",
    ),
    (
        "threads-a-word",
        doc(put("backends.onnxruntime.threads", "two")),
        "backends.onnxruntime.threads: expected",
    ),
    (
        "threads-true",
        doc(put("backends.onnxruntime.threads", True)),
        "backends.onnxruntime.threads: expected",
    ),
    ("backends-a-list", doc(put("backends", [])), "backends: expected an object, got []"),
    ("timing-a-list", doc(put("timing", [])), "timing: expected an object"),
    ("title-a-number", doc(put("title", 42)), "title: expected a string or null, got 42"),
    ("old-latency-a-list", old(put(LAT, [1.0])), f"{LAT}: expected an object"),
    # --- unknown enum values -----------------------------------------------------------------------
    (
        "status-maybe",
        doc(put("backends.onnxruntime.status", "maybe")),
        "backends.onnxruntime.status: expected one of",
    ),
    (
        "kind-tensorflow",
        doc(put("backends.onnxruntime.kind", "tf")),
        "backends.onnxruntime.kind: expected one of",
    ),
    (
        "timing-stopped-bored",
        doc(put("timing", {"design": "paired-slices", "rounds": 1, "stopped": "bored"})),
        "timing.stopped: expected one of",
    ),
    (
        "slices-short",
        doc(put("backends.onnxruntime.slices", [{"round": 1, "cycle": 0, "start_s": 0.0, "n": 1}])),
        "backends.onnxruntime.slices: expected slices whose n add up",
    ),
    ("locale-fr", doc(put("locale", "fr")), "locale: expected one of 'en', 'ko', got 'fr'"),
    ("task-pose", doc(put("model.task", "pose")), "model.task: expected one of"),
    # --- impossible numbers: the invariants of a run -------------------------------------------------
    (
        "confidence-1.83",
        doc(put("backends.onnxruntime.metrics.mean_confidence", 1.83)),
        "backends.onnxruntime.metrics.mean_confidence: expected a number in [0, 1] or null, got 1.83",
    ),
    (
        "negative-median",
        doc(put(f"{LAT}.median", -3.0)),
        f"{LAT}.median: expected a positive number, got -3.0",
    ),
    ("zero-sample", doc(lambda d: ort(d)["latency_ms"]["samples"].__setitem__(5, 0.0)), f"{LAT}.samples[5]"),
    ("nan-literal", _nan_median, "latency_ms.median: expected a positive number, got nan"),
    ("infinite-latency", text(json.dumps(GOOD).replace('"p99": ', '"p99": 1e400, "x": ', 1)), "p99"),
    (
        "negative-count",
        doc(put("backends.onnxruntime.metrics.detections_per_image", -1.0)),
        "detections_per_image",
    ),
    (
        "map-above-one",
        doc(put("backends.onnxruntime.metrics.map50", 1.2)),
        "metrics.map50: expected a number in [0, 1]",
    ),
    ("share-above-one", doc(put("environment.other_cpu_share", 1.5)), "environment.other_cpu_share"),
    (
        "peak-rss-zero",
        doc(put("backends.onnxruntime.memory_mb.peak", 0)),
        "memory_mb.peak: expected a positive",
    ),
    (
        "rounds-do-not-add-up",
        doc(lambda d: ort(d)["rounds"][0].update(n=3)),
        "backends.onnxruntime.rounds: expected",
    ),
    ("samples-short", doc(lambda d: ort(d)["latency_ms"]["samples"].pop()), f"{LAT}.n: expected 575"),
    (
        "ok-without-latency",
        doc(put(LAT, None)),
        f"{LAT}: expected the measurement of a backend whose status is 'ok'",
    ),
    ("reference-unknown", doc(put("reference", "tensorflow")), "reference: expected the name of a backend"),
    ("order-lacks-one", doc(lambda d: d["backend_order"].remove("onnxruntime")), "backend_order: expected"),
    (
        "slice-empty",
        doc(put("backends.onnxruntime.slices", [{"round": 1, "cycle": 0, "start_s": 0.0, "n": 0}])),
        "backends.onnxruntime.slices[0].n",
    ),
    (
        "config-nan",
        doc(put("config.parity.x", float("nan"))),
        "config.parity.x: expected a finite number, got nan",
    ),
    ("threshold-a-word", doc(put("config.parity.min_match_rate", "high")), "config.parity.min_match_rate"),
    ("created-at-a-word", doc(put("created_at", "yesterday")), "created_at: expected an ISO 8601 time"),
    ("created-at-without-zone", doc(put("created_at", "2026-11-28T05:40:00")), "created_at: expected"),
    # --- the version label ---------------------------------------------------------------------------
    ("version-dot-dot-etc", doc(put("version", "../../etc")), f"version: expected {LABEL}"),
    ("version-empty", doc(put("version", "")), f"version: expected {LABEL}"),
    ("version-assets", doc(put("version", "assets")), f"version: expected {LABEL}"),
    ("version-a-path", doc(put("version", "a/b")), f"version: expected {LABEL}"),
    ("version-markup", doc(put("version", "<script>")), f"version: expected {LABEL}"),
    ("version-a-number", doc(put("version", 1)), f"version: expected {LABEL}"),
    # --- merged documents ----------------------------------------------------------------------------
    (
        "merged-bad-machine",
        merged(keep, put("backends.onnxruntime.metrics.mean_confidence", 1.83)),
        "machines[1].backends.onnxruntime.metrics.mean_confidence: expected a number in [0, 1]",
    ),
    (
        "merged-machine-too-new",
        merged(keep, put("schema_version", 9)),
        "machines[1]: schema_version: 9 is newer",
    ),
    ("merged-machine-no-backends", merged(delete("backends")), "machines[0].backends: required key missing"),
    ("merged-other-version", merged(keep, put("version", "0.2.0")), "machines[1].version: expected '0.1.0'"),
    ("merged-bad-label", merged(put("version", "../x")), "machines[0].version: expected"),
    ("merged-no-machines", merged(), "machines: expected a non-empty list"),
]


def _tree(folder: Path) -> dict[str, str]:
    """Return every file under ``folder`` with a hash of its bytes (folders too, as empty entries)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A site with one good version (0.0.9) that no refused file may change."""
    from reportgen.release import archive

    folder = tmp_path_factory.mktemp("battery") / "site"
    archive.build_site(folder, {**GOOD, "version": "0.0.9"}, None)
    return folder


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    return path


def _refused(run, args: list, bad: Path, expected: str, site: Path) -> None:
    before = _tree(site)
    code, out, err = run(*args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {bad}: "), lines[0]
    assert expected in lines[0], lines[0]
    assert _tree(site) == before


def test_the_battery_has_what_issue_10_asks():
    assert len(CASES) >= 20 and len({case for case, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("case, make, expected", CASES, ids=[c[0] for c in CASES])
def test_render_refuses(reportgen, tmp_path, site, case, make, expected):
    bad = tmp_path / "bad.json"
    make(bad)
    _refused(reportgen, ["render", bad, "--site-dir", site], bad, expected, site)


@pytest.mark.parametrize("case, make, expected", CASES, ids=[c[0] for c in CASES])
def test_render_merge_refuses(reportgen, tmp_path, site, good, case, make, expected):
    bad = tmp_path / "bad.json"
    make(bad)
    _refused(reportgen, ["render", "--merge", good, bad, "--site-dir", site], bad, expected, site)


@pytest.mark.parametrize("case, make, expected", CASES, ids=[c[0] for c in CASES])
def test_compare_refuses_either_side(reportgen, tmp_path, site, good, case, make, expected):
    bad = tmp_path / "bad.json"
    make(bad)
    if case == "missing-file":
        expected = "no such results file, and no version"  # compare also looks for an archived version
    if case == "a-folder":
        expected = "no such results file, and no version"  # a folder without a results.json in it
    _refused(reportgen, ["compare", good, bad, "--site-dir", site], bad, expected, site)
    _refused(reportgen, ["compare", bad, good, "--site-dir", site], bad, expected, site)
