"""One judge (issue 19): the badge, the finding and the gate agree; every archived version is judged
by today's rules, whatever its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from documents import set_rounds
from report_helpers import escaped, page_section, page_text

from reportgen import stats
from reportgen.analysis import rules
from reportgen.analysis.assess import assess
from reportgen.analysis.verdicts import SEVERITY_ORDER, Thresholds
from reportgen.release import compare
from reportgen.report import render as site
from reportgen.results.document import read_results
from reportgen.stats import Speedup

DATA = Path(__file__).parent / "data"


def _worst(findings: list[dict]) -> str:
    return min((f["severity"] for f in findings), key=SEVERITY_ORDER.__getitem__)


# The demo's 8 backends, and a real run of configs/seed-methodology.yaml (the seed report's four
# mistakes on its segmentation model; 16 images, 3 short rounds, made by `reportgen run`).
AGREEING = ["results_demo.json", "results_seed.json"]


@pytest.mark.parametrize("name", AGREEING)
def test_the_badge_the_finding_and_the_gate_agree_on_every_backend(name):
    document = read_results(DATA / name)
    judged = assess(document)
    found = list(judged.findings)
    gate = compare.compare(document, document, Thresholds.of(document))
    kept = {r["backend"]: r["new"] for r in gate["rows"] if r["metric"] == "parity"}
    assert len(judged.backends) == len(document["backend_order"]) - 1
    for name, verdicts in judged.backends.items():
        mine = [f for f in found if f["backend"] == name]
        (speed,) = [f for f in mine if f["id"] == "speed.latency"]
        direction = speed["key"].split("/")[1].split("_")[0]
        assert (verdicts.speed.code, verdicts.speed.severity) == (f"speed.{direction}", speed["severity"])
        parity = [f for f in mine if f["id"].startswith("parity.")]
        # The answers badge never reads better than a finding on the same answers.
        assert SEVERITY_ORDER[verdicts.answers.severity] <= SEVERITY_ORDER[_worst(parity)], name
        assert kept[name] == (verdicts.answers.severity != "fail"), name
    (advice,) = [f for f in found if f["id"].startswith("recommend.") and f["key"] != "recommend.batch"]
    assert judged.recommendation.backend == advice["backend"]


def test_the_seed_methodology_is_judged_as_a_method_not_a_runtime():
    document = read_results(DATA / "results_seed.json")
    judged = assess(document)
    keys = {f["key"] for f in judged.findings if f["backend"] in ("onnxruntime", None)}
    assert {"method.warmup", "method.load_in_latency", "method.optimization/only", "method.threads"} <= keys
    onnx = judged.backends["onnxruntime"]
    # Whatever the timing said, it is in doubt: the badge warns, and nothing is recommended.
    assert onnx.speed.severity == "warn" and judged.recommendation.kind == "remeasure"
    assert onnx.answers.severity == "pass"  # the export keeps the answers, against the seed's claim


def test_a_biased_timing_is_a_warning_on_the_badge_as_in_the_finding(demo):
    demo["backends"]["onnxruntime"]["settings"]["warmup_iterations"] = 0  # method.warmup: biased
    judged = assess(demo)
    (speed,) = [f for f in judged.findings if f["backend"] == "onnxruntime" and f["id"] == "speed.latency"]
    assert speed["key"] == "speed.latency/faster_method" and speed["severity"] == "warn"
    assert judged.backends["onnxruntime"].speed.severity == "warn"


def test_render_all_judges_every_schema_with_todays_rules(tmp_path, reportgen):
    site = tmp_path / "site"
    raw = {}
    for version, name in (("0.0.1", "results_v1"), ("0.0.2", "results_v2"), ("0.0.3", "results_demo")):
        document = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
        assert (
            document["schema_version"] in (1, 2, 3) and document["findings"]
        )  # judged by an older reportgen
        document["version"] = version
        (site / version).mkdir(parents=True)
        (site / version / "results.json").write_text(json.dumps(document), encoding="utf-8")
        raw[version] = document
    code, _, err = reportgen("render", "--all", "--site-dir", site)
    assert code == 0, err
    for version, document in raw.items():
        page = (site / version / "index.html").read_text(encoding="utf-8")
        today = rules.findings(read_results(site / version / "results.json"))
        key = page_section(page, "findings")
        for f in today:
            assert escaped(f["title"]) in page, (version, f["key"])
        stale = {f["title"] for f in document["findings"]} - {f["title"] for f in today}
        assert not [t for t in stale if t and escaped(t) in page], version
        assert len(re.findall(r'<li class="finding finding-', key)) >= 1


def test_a_speed_up_the_machine_states_moved_is_said_not_warned(demo, monkeypatch):
    # Issue 17's states: a state that slows two runtimes unequally changes the speed-up; said (info).
    fast, slow = Speedup(3.05, 2.9, 3.2, 40), Speedup(3.88, 3.6, 4.1, 12)
    monkeypatch.setattr(stats, "speedups_by_state", lambda ref, cand: (fast, slow))
    found = [f for f in rules.findings(demo) if f["key"] == "method.states"]
    assert len(found) == len(demo["backend_order"]) - 1 and {f["severity"] for f in found} == {"info"}
    assert "3.05× in the fast state, 3.88× in the slow state" in found[0]["title"]
    monkeypatch.setattr(stats, "speedups_by_state", lambda ref, cand: (fast, fast))  # the same in both
    assert not [f for f in rules.findings(demo) if f["key"] == "method.states"]


def test_a_run_timed_in_paired_slices_says_how_it_was_timed_and_what_ranks(demo):
    page = site.render_report(demo)
    assert "Timed in" not in page and "Speed-ups rank the backends" not in page  # before slices
    timing = {"design": "paired-slices", "rounds": 3, "stopped": "budget", "slice_s": 0.15, "pause_s": 0.05}
    timing |= {"precision": 0.05, "precision_reached": 0.082, "max_time_s": 120.0, "timed_s": 119.0}
    page = site.render_report({**demo, "timing": timing})
    assert "stopped at the time budget (120 s) at ±8.2% (target ±5.0%)" in page_text(page)
    assert "Speed-ups rank the backends" in page_section(page, "speed")


def test_the_machine_states_chart_shows_the_reference_slices_over_time(demo):
    assert "chart-states" not in site.render_report(demo)  # timed before slices: no such chart
    ref = demo["backends"][demo["reference"]]
    levels = [10.0, 10.0, 15.0, 15.0, 10.0, 15.0, 10.0, 10.0, 15.0, 10.0]  # ms of each 8-sample slice
    set_rounds(ref, [[level for level in levels for _ in range(8)]])
    ref["slices"] = [{"round": 1, "cycle": i, "start_s": 0.2 * i, "n": 8} for i in range(len(levels))]
    timing = {"design": "paired-slices", "rounds": 1, "stopped": "budget"}
    page = page_text(page_section(site.render_report({**demo, "timing": timing}), "speed"))
    assert "Fast state 10.00 ms, slow state 15.00 ms, 40.0% of the time slow, 6 switches" in page
