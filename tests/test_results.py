"""The results document: atomic canonical writes, schema checks and sanity invariants."""

import copy
import json
import math
import os
import re
from pathlib import Path

import pytest

from reportgen.errors import ResultsError, SanityError
from reportgen.results import document as results
from reportgen.results import reader

DATA = Path(__file__).parent / "data"
GOOD = results.read_results(DATA / "results_v2.json")  # today's schema, as every reader gets it


def _document(change=None):
    """A copy of a real document, its onnxruntime backend changed by ``change`` (in place)."""
    doc = copy.deepcopy(GOOD)
    if change is not None:
        change(doc["backends"]["onnxruntime"])
    return doc


def test_write_is_canonical_and_round_trips(tmp_path):
    path = tmp_path / "r" / "results.json"
    doc = _document()
    results.write_results(path, doc)
    text = path.read_text()
    assert (
        text.endswith("}\n") and text == json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    )
    assert results.read_results(path) == doc
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temp files left


def test_impossible_confidence_is_rejected_and_nothing_is_written(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("previous\n")
    with pytest.raises(
        SanityError,
        match=r"backends\.onnxruntime\.metrics\.mean_confidence: expected a number in \[0, 1\] or null, got 1\.83",
    ):
        results.write_results(path, _document(lambda b: b["metrics"].update(mean_confidence=1.83)))
    assert path.read_text() == "previous\n"


def _set_round(key, value):
    return lambda b: b["rounds"][0].update({key: value})


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda b: b["latency_ms"]["samples"].__setitem__(3, 0.0),
            "latency_ms.samples[3]: expected a positive number, got 0.0",
        ),
        (
            lambda b: b["metrics"].update(detections_per_image=-1.0),
            "metrics.detections_per_image: expected a non-negative number, got -1.0",
        ),
        (lambda b: b.update(load_ms=-5.0), "load_ms: expected a positive number or null, got -5.0"),
        (
            lambda b: b["metrics"].update(map50=1.2),
            "metrics.map50: expected a number in [0, 1] or null, got 1.2",
        ),
        (
            _set_round("n", 3),
            "backends.onnxruntime.rounds: expected rounds whose n add up to the 576 latency_ms.samples, got 3",
        ),
        (_set_round("median_ms", -1.0), "rounds[0].median_ms: expected a positive number, got -1.0"),
        (
            _set_round("steal_share", 1.5),
            "rounds[0].steal_share: expected a number in [0, 1] or null, got 1.5",
        ),
        (
            lambda b: b["latency_ms"].update(median=math.nan),
            "latency_ms.median: expected a positive number, got nan",
        ),
        (
            lambda b: b.update(latency_ms=None),
            "latency_ms: expected the measurement of a backend whose status",
        ),
        (lambda b: b["latency_ms"].pop("median"), "latency_ms.median: required key missing"),
    ],
)
def test_invariants(change, message):
    with pytest.raises(SanityError, match=re.escape(message)):
        results.check_invariants(_document(change))


def test_a_rejected_run_lists_at_most_five_problems():
    def negative(b):
        b["latency_ms"]["samples"] = [-s for s in b["latency_ms"]["samples"]]

    with pytest.raises(SanityError) as info:
        results.check_invariants(_document(negative))
    assert str(info.value).count("expected a positive number") == 5
    assert str(info.value).endswith("; and 571 more")


def test_failed_backends_may_hold_null_measurements():
    def failed(b):
        b.update(status="failed", error="worker exited", latency_ms=None, metrics=None, rounds=None, fps=None)

    results.check_invariants(_document(failed))


def test_the_reader_and_the_writer_apply_the_same_rules(tmp_path):
    doc = _document(lambda b: b["memory_mb"].update(peak=0.0))
    with pytest.raises(
        SanityError, match=re.escape("backends.onnxruntime.memory_mb.peak: expected a positive")
    ):
        results.check_invariants(doc)
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsError) as info:
        results.read_results(path)
    assert str(info.value) == (
        f"{path}: backends.onnxruntime.memory_mb.peak: expected a positive number, got 0.0"
    )


def test_key_paths_quote_keys_that_are_not_plain_words():
    assert (
        reader.key_path(("machines", 1, "backends", "ort-int8", "rounds", 0))
        == "machines[1].backends.ort-int8.rounds[0]"
    )
    assert reader.key_path(("backends", "a.b\nc", "kind")) == "backends['a.b\\nc'].kind"


def test_a_merged_document_is_checked_machine_by_machine(tmp_path):
    bad = _document(lambda b: b["metrics"].update(mean_confidence=1.83))
    envelope = {k: GOOD[k] for k in ("version", "title", "locale", "created_at", "reportgen_version")}
    path = tmp_path / "merged.json"
    path.write_text(json.dumps({"schema_version": 3, **envelope, "machines": [_document(), bad]}))
    with pytest.raises(
        ResultsError, match=r"machines\[1\]\.backends\.onnxruntime\.metrics\.mean_confidence: "
    ):
        results.read_results(path)


def test_an_older_document_is_checked_before_its_upgrade_reads_it(tmp_path):
    raw = json.loads((DATA / "results_v2.json").read_text())
    del raw["backends"]["pytorch"]["latency_ms"]["n"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ResultsError) as info:
        results.read_results(path)
    assert str(info.value) == f"{path}: backends.pytorch.latency_ms.n: required key missing"


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
    v1 = DATA / "results_v1.json"
    assert json.loads(v1.read_text())["schema_version"] == 1
    doc = results.read_results(v1)
    assert doc["schema_version"] == results.SCHEMA_VERSION == 5
    assert "max_load_average" not in doc["config"]["analysis"]
    # Schema 4 stores measurements only: the findings the old run judged are gone (issue 19).
    assert "findings" not in doc and doc["timing"] is None
    assert all(b["slices"] is None for b in doc["backends"].values())
    assert doc["backends"]["onnxruntime"]["memory_mb"]["at_start"] is None  # schema 1 did not read it
    assert (
        doc["backends"]["onnxruntime"]["rounds"][0]["n"] == doc["backends"]["onnxruntime"]["latency_ms"]["n"]
    )
    ort = doc["backends"]["onnxruntime"]
    assert ort["latency_ms"]["robust_cv"] > 0 and ort["gflops"] is None
    assert ort["parity"]["first_divergence"] is None
    assert doc["examples"][0]["backends"] == list(doc["examples"][0]["detections"])
    from reportgen.config.schema import parse_config

    parse_config(doc["config"], "stored config")  # loads with today's schema
