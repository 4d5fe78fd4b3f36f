"""Planted faults on a real demo results document: each is diagnosed by the right rule and no other."""

import copy
import json
from pathlib import Path

import pytest
from documents import set_rounds

from reportgen.analysis import rules
from reportgen.analysis.finding import speedup_of
from reportgen.results.document import upgrade

DEMO = Path(__file__).parent / "data" / "results_demo.json"


@pytest.fixture(scope="module")
def clean():
    doc = upgrade(json.loads(DEMO.read_text()))  # as every reader gets it
    # The committed run comes from a quiet machine; pin that, and steady rounds at each backend's
    # measured median, so that these tests of the rules do not depend on that run's noise.
    doc["environment"].update(load_average_per_core=0.1, other_cpu_share=0.0, steal_share=0.0)
    for backend in doc["backends"].values():
        if backend["latency_ms"]:
            set_rounds(backend, [[backend["latency_ms"]["median"]] * 30] * len(backend["rounds"]))
            backend.update(other_cpu_share=0.0, steal_share=0.0)
    return doc


def _problems(doc) -> set[tuple[str, str | None, str]]:
    return {
        (f["key"], f["backend"], f["severity"])
        for f in rules.findings(doc)
        if f["severity"] in ("warn", "fail")
    }


def test_the_clean_demo_warns_only_about_dynamic_int8(clean):
    # Measured on purpose: dynamic INT8 is often slower than FP32 on conv nets, and then the report
    # says so; in the committed run it measured no faster than the reference (1.05x), so no warning.
    slower = speedup_of(clean, "ort-int8-dynamic").high < 0.95
    expected = {("speed.latency/slower_dynamic", "ort-int8-dynamic", "warn")} if slower else set()
    assert _problems(clean) == expected
    keys = {f["key"] for f in rules.findings(clean)}
    assert {"parity.outputs/same", "parity.detections/same", "method.ok", "recommend.fastest"} <= keys


def test_fp16_checkpoint_size_is_explained_not_flagged(clean):
    size = [
        f for f in rules.findings(clean) if f["key"] == "size.file/dtype" and f["backend"] == "onnxruntime"
    ]
    assert len(size) == 1 and size[0]["severity"] == "info"
    assert "float16" in size[0]["cause"] and "nothing was added or lost" in size[0]["cause"]


def _set(path, value):
    def plant(doc):
        *keys, last = path
        target = doc
        for key in keys:
            target = target[key]
        target[last] = value

    return plant


ORT = ("backends", "onnxruntime")
BIASED = {("speed.latency/faster_method", "onnxruntime", "warn")}
REMEASURE = {("recommend.remeasure", None, "warn")}


def _flips(doc):
    p = doc["backends"]["onnxruntime"]["parity"]
    p.update(
        detection_match_rate=0.9, unmatched_reference=3, unmatched_candidate=2, unmatched_near_threshold=5
    )


def _real_divergence(doc):
    p = doc["backends"]["onnxruntime"]["parity"]
    p.update(
        detection_match_rate=0.6, unmatched_reference=30, unmatched_candidate=20, unmatched_near_threshold=2
    )


def _localized(doc):
    p = doc["backends"]["onnxruntime"]["parity"]
    p.update(allclose=False, max_abs_diff=0.03)
    p["first_divergence"] = {
        "found": True,
        "node": "node_Conv_7",
        "op_type": "Conv",
        "module": "down4.1.cv1.1",
        "initializers": ["down4.1.cv1.0.weight"],
        "max_abs_diff": 0.02,
        "diverging_output": "silu_14",
    }


def _slower(doc):
    b = doc["backends"]["onnxruntime"]
    b["latency_ms"]["samples"] = [s * 3 for s in doc["backends"]["pytorch"]["latency_ms"]["samples"]]
    b.update(speedup=1 / 3, speedup_interval=[0.32, 0.34])


def _map_drop(doc):
    m = doc["backends"]["onnxruntime"]["metrics"]
    m["map50"] -= 0.05


def _failed(doc):
    doc["backends"]["onnxruntime"].update(status="failed", error="RuntimeError: boom")


@pytest.mark.parametrize(
    "plant, expected",
    [
        (_flips, {("parity.detections/flips", "onnxruntime", "warn")}),
        (_real_divergence, {("parity.detections/differ", "onnxruntime", "fail")}),
        (_localized, {("parity.outputs/localized", "onnxruntime", "fail")}),
        (_map_drop, {("accuracy.map/dropped", "onnxruntime", "warn")}),
        # A method mistake also puts the speed-up it touches in doubt, and one that touches the whole run
        # (or the reference) withholds the recommendation.
        (_set((*ORT, "threads"), 1), {("method.threads", None, "warn"), *BIASED, *REMEASURE}),
        (
            _set((*ORT, "settings", "warmup_iterations"), 0),
            {("method.warmup", "onnxruntime", "warn"), *BIASED},
        ),
        (
            _set((*ORT, "settings", "time_load_in_latency"), True),
            {("method.load_in_latency", "onnxruntime", "warn"), *BIASED},
        ),
        (_set((*ORT, "latency_ms", "n"), 5), {("method.samples", "onnxruntime", "warn"), *BIASED}),
        (_set((*ORT, "latency_ms", "robust_cv"), 0.4), {("method.noise", "onnxruntime", "warn"), *BIASED}),
        (
            _set((*ORT, "other_cpu_share"), 0.4),
            {("method.contention/backend", "onnxruntime", "warn"), *BIASED},
        ),
        (
            _set(("backends", "pytorch", "other_cpu_share"), 0.4),
            {("method.contention/backend", "pytorch", "warn"), *BIASED, *REMEASURE},
        ),
        (
            _set(("environment", "other_cpu_share"), 0.5),
            {("method.contention", None, "warn"), *BIASED, *REMEASURE},
        ),
        (_slower, {("speed.latency/slower", "onnxruntime", "warn")}),
        (_failed, {("backend.failed", "onnxruntime", "fail")}),
    ],
)
def test_each_planted_fault_is_diagnosed_by_its_rule_alone(clean, plant, expected):
    doc = copy.deepcopy(clean)
    doc["backends"] = {n: b for n, b in doc["backends"].items() if n in ("pytorch", "onnxruntime")}
    doc["backend_order"] = ["pytorch", "onnxruntime"]
    plant(doc)
    assert _problems(doc) == expected


def test_localized_divergence_names_node_module_and_weights(clean):
    doc = copy.deepcopy(clean)
    _localized(doc)
    (f,) = [f for f in rules.findings(doc) if f["key"] == "parity.outputs/localized"]
    assert "node_Conv_7" in f["title"] and "down4.1.cv1.1" in f["title"]
    assert "down4.1.cv1.0.weight" in f["cause"] and "silu_14" in f["evidence"]


def test_slower_with_a_method_mistake_blames_the_method(clean):
    doc = copy.deepcopy(clean)
    _slower(doc)
    doc["backends"]["onnxruntime"]["settings"]["warmup_iterations"] = 0
    keys = {k for k, _, _ in _problems(doc)}
    assert keys >= {"speed.latency/slower_method", "method.warmup"} and "speed.latency/slower" not in keys


def test_dynamic_quantization_slowdown_is_explained(clean):
    doc = copy.deepcopy(clean)
    _slower(doc)
    doc["backends"]["onnxruntime"]["settings"]["quantization"] = "dynamic"
    keys = {k for k, _, _ in _problems(doc)}
    assert "speed.latency/slower_dynamic" in keys


def test_optimization_level_is_a_mistake_only_without_an_optimized_session(clean):
    doc = copy.deepcopy(clean)
    doc["backends"] = {n: b for n, b in doc["backends"].items() if n in ("pytorch", "onnxruntime")}
    doc["backend_order"] = ["pytorch", "onnxruntime"]
    doc["backends"]["onnxruntime"]["settings"]["graph_optimization"] = "disabled"
    assert _problems(doc) == {("method.optimization/only", "onnxruntime", "warn"), *BIASED}


def test_recommendation_names_the_fastest_backend_that_keeps_the_answers(clean):
    (f,) = [f for f in rules.findings(clean) if f["id"] == "recommend.fastest"]
    fastest = max(
        (speedup_of(clean, n).value, n)
        for n, b in clean["backends"].items()
        if b["status"] == "ok" and b["parity"] and b["parity"]["detection_match_rate"] >= 0.98
    )
    assert f["backend"] == fastest[1]
    assert "validate on your own data" in f["recommendation"]
