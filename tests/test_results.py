"""The results document: atomic canonical writes, schema checks and sanity invariants."""

import json
import os
import re

import pytest

from reportgen.errors import ResultsError, SanityError
from reportgen.results import document as results


def _document(**backend_overrides):
    backend = {
        "status": "ok",
        "latency_ms": {"samples": [1.0, 1.1], "n": 2},
        "rounds": [{"median_ms": 1.05, "n": 2, "other_cpu_share": 0.0, "steal_share": 0.0}],
        "load_ms": 3.0,
        "first_inference_ms": 2.0,
        "file_size_mb": 1.0,
        "memory_mb": {"peak": 100.0},
        "metrics": {"mean_confidence": 0.8, "detections_per_image": 2.0, "map50": 0.9},
    }
    backend.update(backend_overrides)
    return {"schema_version": results.SCHEMA_VERSION, "backends": {"onnxruntime": backend}}


def test_write_is_canonical_and_round_trips(tmp_path):
    path = tmp_path / "r" / "results.json"
    doc = _document()
    results.write_results(path, doc)
    text = path.read_text()
    assert text.endswith("}\n") and text == json.dumps(doc, sort_keys=True, indent=2) + "\n"
    assert results.read_results(path) == doc
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temp files left


def test_impossible_confidence_is_rejected_and_nothing_is_written(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("previous\n")
    with pytest.raises(
        SanityError, match=r"backends\.onnxruntime\.metrics\.mean_confidence: 1\.83 is outside \[0, 1\]"
    ):
        results.write_results(path, _document(metrics={"mean_confidence": 1.83}))
    assert path.read_text() == "previous\n"


@pytest.mark.parametrize(
    "override, message",
    [
        ({"latency_ms": {"samples": [1.0, 0.0], "n": 2}}, "latency_ms: 1 non-positive samples of 2"),
        ({"metrics": {"detections_per_image": -1.0}}, "metrics.detections_per_image: -1.0 is negative"),
        ({"load_ms": -5.0}, "load_ms: -5.0 is not positive"),
        ({"metrics": {"map50": 1.2}}, "metrics.map50: 1.2 is above 1"),
        ({"rounds": [{"median_ms": 1.0, "n": 3}]}, "rounds: their sample counts do not add up"),
        ({"rounds": [{"median_ms": -1.0, "n": 2}]}, "rounds[0].median_ms: -1.0 is not positive"),
        (
            {"rounds": [{"median_ms": 1.0, "n": 2, "steal_share": 1.5}]},
            "rounds[0].steal_share: 1.5 is outside",
        ),
    ],
)
def test_invariants(override, message):
    with pytest.raises(SanityError, match=re.escape(message)):
        results.check_invariants(_document(**override))


def test_failed_backends_are_not_checked():
    results.check_invariants(_document(status="failed", latency_ms=None, metrics=None))


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": results.SCHEMA_VERSION + 1}))
    with pytest.raises(ResultsError, match="is newer than this reportgen understands"):
        results.read_results(path)


def test_unreadable_files_name_the_file(tmp_path):
    with pytest.raises(ResultsError, match="no such results file"):
        results.read_results(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ResultsError, match="bad.json: not a readable results file"):
        results.read_results(bad)


def test_upgrade_runs_each_step(monkeypatch):
    monkeypatch.setattr(results, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(results.UPGRADES, 1, lambda d: {**d, "schema_version": 2, "a": 1})
    monkeypatch.setitem(results.UPGRADES, 2, lambda d: {**d, "schema_version": 3, "b": 2})
    assert results.upgrade({"schema_version": 1}) == {"schema_version": 3, "a": 1, "b": 2}


def test_crash_during_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text("old\n")

    def boom(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        results.write_results(path, _document())
    assert path.read_text() == "old\n" and len(list(tmp_path.iterdir())) == 1


def test_version_1_file_is_upgraded_on_read():
    from pathlib import Path

    v1 = Path(__file__).parent / "data" / "results_v1.json"
    assert json.loads(v1.read_text())["schema_version"] == 1
    doc = results.read_results(v1)
    assert doc["schema_version"] == results.SCHEMA_VERSION == 3
    assert "max_load_average" not in doc["config"]["analysis"]
    assert (
        doc["backends"]["onnxruntime"]["rounds"][0]["n"] == doc["backends"]["onnxruntime"]["latency_ms"]["n"]
    )
    ort = doc["backends"]["onnxruntime"]
    assert ort["latency_ms"]["robust_cv"] > 0 and ort["gflops"] is None
    assert ort["parity"]["first_divergence"] is None
    assert doc["examples"][0]["backends"] == list(doc["examples"][0]["detections"])
    from reportgen.config.schema import parse_config

    parse_config(doc["config"], "stored config")  # loads with today's schema
