"""The regression gate: `reportgen compare OLD NEW` judges every backend and metric, exit 0 / 1 / 2.

Documents are built from tests/data/results_v1.json (see tests/report_helpers.py on that file); the
expectations are computed from the document, so it can be replaced by a real run.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from documents import scale_latency, set_rounds, write

from reportgen.analysis import rules
from reportgen.analysis.assess import assess
from reportgen.analysis.verdicts import Thresholds
from reportgen.release import compare, gate_report
from reportgen.results.document import read_results

DATA = Path(__file__).parent / "data" / "results_v1.json"
THRESHOLDS = Thresholds.of({})  # the schema's defaults: latency +10%, accuracy -1 point, size +5%, 98%


@pytest.fixture
def results() -> dict:
    return read_results(DATA)  # upgraded: one round per backend


def candidate(results: dict) -> str:
    return next(n for n in results["backend_order"] if n != results["reference"])


def scaled(results: dict, version: str, factor: float, backend: str | None = None) -> dict:
    """Return a copy as another version whose backend's latency samples are multiplied by factor."""
    doc = copy.deepcopy(results)
    doc["version"], doc["created_at"] = version, "2026-12-05T10:00:00Z"
    b = doc["backends"][backend or candidate(doc)]
    scale_latency(b, factor)
    return doc


def rows(report: dict, status: str | None = None) -> list[tuple[str, str]]:
    return [(r["backend"], r["metric"]) for r in report["rows"] if status is None or r["status"] == status]


# --- the CLI and its exit codes --------------------------------------------------------------------


def test_planted_30_percent_slowdown_exits_1(results, tmp_path):
    old = write(tmp_path / "old.json", results)
    new = write(tmp_path / "new.json", scaled(results, "0.2.0", 1.3))
    done = subprocess.run(
        [sys.executable, "-m", "reportgen", "compare", str(old), str(new)], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    name = candidate(results)
    line = next(x for x in done.stdout.splitlines() if x.startswith(name) and "latency_median_ms" in x)
    assert "+30.0%" in line and "regression" in line
    assert done.stdout.rstrip().endswith(f"1 regression from {results['version']} to 0.2.0")
    assert done.stderr == ""


def test_same_results_exit_0(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    code, out, _ = reportgen("compare", old, old)
    assert code == 0
    assert "  regression  " not in out and out.rstrip().endswith("no regression from 0.1.0 to 0.1.0")


def test_missing_file_exits_2_with_one_line(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    code, out, err = reportgen("compare", old, tmp_path / "missing.json", "--site-dir", tmp_path / "site")
    assert code == 2 and out == ""
    assert err.strip() == (
        f"error: {tmp_path / 'missing.json'}: no such results file, and no version "
        f"'{tmp_path / 'missing.json'}' in {tmp_path / 'site'}/"
    )


def test_usage_errors_exit_2(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    assert reportgen("compare", old)[0] == 2
    assert reportgen("compare", old, old, "--format", "html")[0] == 2


def test_unreadable_and_newer_schema_files_exit_2(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    code, _, err = reportgen("compare", old, tmp_path / "broken.json")
    assert code == 2 and "not a readable results file" in err
    newer = write(tmp_path / "newer.json", {**results, "schema_version": 99})
    code, _, err = reportgen("compare", old, newer)
    assert code == 2 and "newer than this reportgen understands" in err and "Traceback" not in err


def test_an_incomplete_document_exits_2(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    doc = copy.deepcopy(results)
    del doc["backends"][candidate(doc)]["status"], doc["reference"]
    code, _, err = reportgen("compare", old, write(tmp_path / "new.json", doc))
    assert code == 2 and "Traceback" not in err
    assert err.strip() == f"error: {tmp_path / 'new.json'}: reference: required key missing"
    doc = copy.deepcopy(results)
    del doc["backends"][candidate(doc)]["status"]
    code, _, err = reportgen("compare", old, write(tmp_path / "new.json", doc))
    assert code == 2
    assert (
        err.strip()
        == f"error: {tmp_path / 'new.json'}: backends.{candidate(doc)}.status: required key missing"
    )


def test_versions_are_found_in_the_site(results, tmp_path, reportgen):
    from reportgen.release import archive

    archive.build_site(tmp_path / "site", results, None)
    archive.build_site(tmp_path / "site", scaled(results, "0.2.0", 1.3), None)
    code, out, _ = reportgen("compare", "0.1.0", "0.2.0", "--site-dir", tmp_path / "site")
    assert code == 1 and "1 regression from 0.1.0 to 0.2.0" in out
    code, _, err = reportgen("compare", "0.1.0", "../0.2.0", "--site-dir", tmp_path / "site")
    assert code == 2 and "no such results file" in err


def test_thresholds_come_from_the_config_given(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    new = write(tmp_path / "new.json", scaled(results, "0.2.0", 1.3))
    config = tmp_path / "ci.yaml"
    config.write_text("analysis:\n  regression_latency_pct: 40\n", encoding="utf-8")
    code, out, _ = reportgen("compare", old, new, "-c", config)
    assert code == 0 and "latency +40%" in out
    config.write_text("analysis:\n  regression_latency_pct: fast\n", encoding="utf-8")
    code, _, err = reportgen("compare", old, new, "-c", config)
    assert code == 2 and "analysis.regression_latency_pct: expected a non-negative number" in err


def test_without_a_config_the_thresholds_of_new_apply(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    doc = scaled(results, "0.2.0", 1.3)
    doc["config"]["analysis"]["regression_latency_pct"] = 50.0
    code, out, _ = reportgen("compare", old, write(tmp_path / "new.json", doc))
    assert code == 0 and "latency +50%" in out
    doc["config"]["analysis"] = {"no_such_key": 1}
    code, _, err = reportgen("compare", old, write(tmp_path / "new.json", doc))
    assert code == 2 and "pass -c CONFIG" in err


def test_json_and_markdown_formats(results, tmp_path, reportgen):
    old = write(tmp_path / "old.json", results)
    new = write(tmp_path / "new.json", scaled(results, "0.2.0", 1.3))
    code, out, _ = reportgen("compare", old, new, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["regressions"] == 1 and out.endswith("}\n")
    assert report["old"]["path"] == str(old) and report["thresholds"]["latency_pct"] == 10.0
    (row,) = [r for r in report["rows"] if r["status"] == "regression"]
    assert (row["backend"], row["metric"]) == (candidate(results), "latency_median_ms")
    assert row["new"] == pytest.approx(row["old"] * 1.3) and row["interval"][0] > 1
    code, out, _ = reportgen("compare", old, new, "--format", "markdown")
    assert code == 1
    assert out.startswith("### reportgen compare: 0.1.0 → 0.2.0\n\n**1 regression from 0.1.0 to 0.2.0**\n")
    assert "| backend | metric | old | new | change | verdict | detail |" in out
    assert f"| {candidate(results)} | latency_median_ms |" in out and "❌ regression" in out


# --- the rules -------------------------------------------------------------------------------------


def test_a_slowdown_below_the_threshold_is_not_a_regression(results):
    report = compare.compare(results, scaled(results, "0.2.0", 1.08), THRESHOLDS)
    assert report["regressions"] == 0
    latency = [r for r in report["rows"] if r["metric"] == "latency_median_ms"]
    assert [r["status"] for r in latency] == ["same", "same"]
    assert latency[1]["text"]["change"] == "+8.0%" and latency[1]["interval"][0] > 1  # real, but small


def test_a_change_inside_the_noise_is_not_a_regression(results):
    # Rounds that disagree by +-30% between fresh processes: a +12% median is no evidence.
    old, new = copy.deepcopy(results), copy.deepcopy(results)
    name = candidate(results)
    set_rounds(old["backends"][name], [[m] * 20 for m in (7.0, 10.0, 13.0, 10.0, 8.0)])
    set_rounds(new["backends"][name], [[m] * 20 for m in (11.2, 8.0, 14.0, 12.0, 9.0)])
    report = compare.compare(old, new, THRESHOLDS)
    row = next(r for r in report["rows"] if (r["backend"], r["metric"]) == (name, "latency_median_ms"))
    assert row["text"]["change"] == "+12.0%" and row["status"] == "same"
    assert row["interval"][0] <= 1 <= row["interval"][1] and row["detail"].startswith("within the noise")
    assert "over 5 rounds" in row["detail"]
    assert report["regressions"] == 0


def test_the_same_change_with_rounds_that_agree_is_a_regression(results):
    old, new = copy.deepcopy(results), copy.deepcopy(results)
    name = candidate(results)
    set_rounds(old["backends"][name], [[m] * 20 for m in (9.9, 10.0, 10.1, 10.0, 10.05)])
    set_rounds(new["backends"][name], [[m] * 20 for m in (11.1, 11.2, 11.3, 11.2, 11.25)])
    row = next(r for r in compare.compare(old, new, THRESHOLDS)["rows"] if r["status"] == "regression")
    assert (row["backend"], row["metric"]) == (name, "latency_median_ms") and row["interval"][0] > 1.05


def test_a_real_speedup_is_an_improvement(results):
    report = compare.compare(results, scaled(results, "0.2.0", 0.7), THRESHOLDS)
    assert rows(report, "improved") == [(candidate(results), "latency_median_ms")]
    assert report["regressions"] == 0


def test_a_file_of_one_process_says_its_interval_ignores_the_variance_between_processes(results):
    report = compare.compare(results, scaled(results, "0.2.0", 1.3), THRESHOLDS)  # schema 1: one round
    row = next(r for r in report["rows"] if r["status"] == "regression")
    assert "of one process: ignores the variance between processes" in row["detail"]


def test_parity_lost_accuracy_down_size_up_are_regressions(results):
    new = copy.deepcopy(results)
    name, ref = candidate(results), results["reference"]
    new["backends"][name]["parity"]["allclose"] = False
    new["backends"][ref]["metrics"]["map50"] -= 0.02  # 2 points: more than 1
    new["backends"][name]["metrics"]["recall"] -= 0.005  # half a point: less than 1
    new["backends"][name]["file_size_mb"] *= 1.1
    report = compare.compare(results, new, THRESHOLDS)
    assert sorted(rows(report, "regression")) == sorted(
        [(name, "parity"), (ref, "map50"), (name, "file_size_mb")]
    )
    assert report["regressions"] == 3
    parity = next(r for r in report["rows"] if r["metric"] == "parity")
    assert parity["text"]["old"].startswith("pass") and parity["text"]["new"].startswith("fail")
    map50 = next(r for r in report["rows"] if (r["backend"], r["metric"]) == (ref, "map50"))
    assert map50["text"]["change"] == "-2.0 pts"


def test_a_detection_match_rate_below_the_minimum_loses_parity(results):
    new = copy.deepcopy(results)
    # 60 detections lost, none near the confidence threshold: the answers differ (the finding fails).
    new["backends"][candidate(new)]["parity"].update(detection_match_rate=0.9, unmatched_reference=60)
    assert rows(compare.compare(results, new, THRESHOLDS), "regression") == [(candidate(results), "parity")]


def test_the_gate_judges_answers_as_the_badge_and_the_finding_do(results):
    # Issue 19: one judge. Detections lost only to threshold flips, outputs within tolerance: the badge
    # says close answers (warn), the finding flips (warn), and the gate does not call it lost parity.
    new = copy.deepcopy(results)
    name = candidate(new)
    new["backends"][name]["parity"]["detection_match_rate"] = 0.9  # every unmatched one a flip (none)
    judged = assess(new).backends[name]
    (finding,) = [f for f in rules.findings(new) if f["backend"] == name and f["id"] == "parity.detections"]
    assert (judged.answers.code, judged.answers.severity, finding["severity"]) == (
        "answers.close",
        "warn",
        "warn",
    )
    assert rows(compare.compare(results, new, THRESHOLDS), "regression") == []


def test_a_backend_that_failed_is_a_regression_and_one_that_recovered_is_not(results):
    new = copy.deepcopy(results)
    name = candidate(results)
    new["backends"][name].update(status="failed", error="session creation failed: bad opset")
    report = compare.compare(results, new, THRESHOLDS)
    assert rows(report, "regression") == [(name, "status")]
    assert "bad opset" in next(r for r in report["rows"] if r["status"] == "regression")["detail"]
    back = compare.compare(new, results, THRESHOLDS)
    assert back["regressions"] == 0 and rows(back, "improved") == [(name, "status")]


def test_added_and_removed_backends_are_listed_not_gated(results):
    new = copy.deepcopy(results)
    name = candidate(results)
    new["backends"]["int8"] = new["backends"].pop(name)
    new["backend_order"] = [n if n != name else "int8" for n in new["backend_order"]]
    report = compare.compare(results, new, THRESHOLDS)
    assert report["regressions"] == 0
    assert rows(report, "added") == [("int8", "status")] and rows(report, "removed") == [(name, "status")]


def test_a_different_machine_is_noted(results):
    new = copy.deepcopy(results)
    new["environment"]["cpu"] = "Another CPU"
    report = compare.compare(results, new, THRESHOLDS)
    assert any("Another CPU" in note for note in report["notes"])
    assert "note: OLD ran on" in gate_report.format_text(report)


# --- versions merged from several machines -----------------------------------------------------------


def on_cpu(results: dict, cpu: str) -> dict:
    doc = copy.deepcopy(results)
    doc["environment"]["cpu"] = cpu
    return doc


def test_merged_versions_compare_machine_by_machine(results, tmp_path, reportgen):
    from reportgen.release import archive
    from reportgen.results import merge

    arm = on_cpu(results, "Neoverse-N1")
    x64_label, arm_label = (
        merge.machine_label(results["environment"]),
        merge.machine_label(arm["environment"]),
    )
    archive.build_site(tmp_path / "site", merge.merge([("x64", results), ("arm", arm)]), None)
    # 0.2.0: the x64 machine as fast as before, a planted 30% slowdown on the arm machine only.
    new = merge.merge([("x64", scaled(results, "0.2.0", 1.0)), ("arm", scaled(arm, "0.2.0", 1.3))])
    archive.build_site(tmp_path / "site", new, None)
    code, out, err = reportgen("compare", "0.1.0", "0.2.0", "--site-dir", tmp_path / "site")
    assert code == 1, err
    assert out.splitlines()[0].split()[:3] == ["machine", "backend", "metric"]
    (line,) = [x for x in out.splitlines() if "  regression  " in x]
    assert line.split()[:3] == [arm_label, candidate(results), "latency_median_ms"] and "+30.0%" in line
    assert out.rstrip().endswith("1 regression from 0.1.0 to 0.2.0")

    code, out, _ = reportgen("compare", "0.1.0", "0.2.0", "--site-dir", tmp_path / "site", "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["machines"] == [x64_label, arm_label] and report["regressions"] == 1
    (row,) = [r for r in report["rows"] if r["status"] == "regression"]
    assert (row["machine"], row["backend"], row["metric"]) == (
        arm_label,
        candidate(results),
        "latency_median_ms",
    )
    x64_latency = [
        r for r in report["rows"] if r["machine"] == x64_label and r["metric"] == "latency_median_ms"
    ]
    assert [r["status"] for r in x64_latency] == ["same", "same"]  # each machine against itself only
    code, out, _ = reportgen(
        "compare", "0.1.0", "0.2.0", "--site-dir", tmp_path / "site", "--format", "markdown"
    )
    assert code == 1 and "| machine | backend | metric | old | new | change | verdict | detail |" in out
    assert f"| {arm_label} | {candidate(results)} | latency_median_ms |" in out and "❌ regression" in out
    assert reportgen("compare", "0.1.0", "0.1.0", "--site-dir", tmp_path / "site")[0] == 0


def test_a_machine_on_one_side_only_is_listed_not_gated(results, tmp_path, reportgen):
    from reportgen.results import merge

    arm, apple = on_cpu(results, "Neoverse-N1"), on_cpu(results, "Apple M2")
    old = write(tmp_path / "old.json", merge.merge([("x64", results), ("arm", arm)]))
    new_doc = merge.merge([("x64", scaled(results, "0.2.0", 1.0)), ("apple", scaled(apple, "0.2.0", 1.3))])
    new = write(tmp_path / "new.json", new_doc)
    code, out, err = reportgen("compare", old, new, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    machine_rows = [
        (r["machine"], r["status"], r["old"], r["new"]) for r in report["rows"] if r["metric"] == "machine"
    ]
    assert machine_rows == [
        (merge.machine_label(apple["environment"]), "added", None, "Apple M2"),
        (merge.machine_label(arm["environment"]), "removed", "Neoverse-N1", None),
    ]
    assert report["regressions"] == 0
    code, out, _ = reportgen("compare", old, new)
    assert code == 0 and "machine not measured in OLD" in out and "machine not measured in NEW" in out
    # A one-machine file against a merged version: its machine is found among the merged ones.
    single = write(tmp_path / "single.json", scaled(results, "0.3.0", 1.3))
    code, out, _ = reportgen("compare", old, single)
    assert code == 1 and "1 regression from 0.1.0 to 0.3.0" in out and "removed" in out


def test_a_newer_machine_inside_a_merged_version_exits_2(results, tmp_path, reportgen):
    from reportgen.results import merge

    doc = merge.merge([("x64", results), ("arm", on_cpu(results, "Neoverse-N1"))])
    doc["machines"][1]["schema_version"] = 99
    path = write(tmp_path / "merged.json", doc)
    code, out, err = reportgen("compare", write(tmp_path / "old.json", results), path)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().startswith(f"error: {path}: machines[1]: schema_version: 99 is newer")
