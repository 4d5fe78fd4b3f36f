"""More backends (issue 13): OpenVINO, torch.compile, an FP16 ONNX Runtime file, GPU backends that this
machine cannot run. Document-level tests first (fast), then end-to-end builds of small configs (slow)."""

import copy
import json
import re

from reportgen.analysis import rules, score
from reportgen.release.compare import compare
from reportgen.report.render import render_report
from reportgen.results.document import check_invariants, read_results

NO_GPU = "onnxruntime.get_available_providers() lists CPUExecutionProvider, not CUDAExecutionProvider"


def _with_new_backends(demo: dict) -> dict:
    """Return the demo document with an FP16 file, an OpenVINO backend and an unavailable GPU backend."""
    doc = copy.deepcopy(demo)
    ort = doc["backends"]["onnxruntime"]
    fp16 = copy.deepcopy(ort)
    fp16["settings"]["precision"] = "fp16"
    fp16.update(file_size_mb=ort["file_size_mb"] / 2, weight_dtype="float16")
    openvino = {**copy.deepcopy(ort), "kind": "openvino"}
    gpu = dict.fromkeys(ort)
    gpu.update(kind="onnxruntime", status="unavailable", error=NO_GPU, settings={"provider": "cuda"})
    doc["backends"] |= {"ort-fp16": fp16, "openvino": openvino, "ort-cuda": gpu}
    doc["backend_order"] += ["ort-fp16", "openvino", "ort-cuda"]
    doc["findings"] = rules.findings(doc)
    return doc


def _keys(doc: dict, backend: str) -> dict[str, str]:
    return {f["key"]: f["severity"] for f in doc["findings"] if f["backend"] == backend}


def test_an_unavailable_backend_is_said_not_failed(demo, tmp_path):
    doc = _with_new_backends(demo)
    check_invariants(doc)  # an unavailable backend needs no measurements
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    assert read_results(path)["backends"]["ort-cuda"]["status"] == "unavailable"
    assert _keys(doc, "ort-cuda") == {"backend.unavailable": "info"}
    assert not any(f["severity"] == "fail" for f in doc["findings"])
    assert "ort-cuda" not in {r["backend"] for r in score.scores(doc, 0.98)}
    page = re.sub(r"<[^>]+>", " ", render_report(doc))
    assert "ort-cuda is not available on this machine" in page
    assert page.count(f"not available on this machine: {NO_GPU}") >= 3  # verdict and table rows
    assert "이 머신에서 사용할 수 없" in render_report(doc, locale="ko")


def test_an_unavailable_backend_is_no_regression(demo):
    from reportgen.analysis.verdicts import Thresholds

    doc = _with_new_backends(demo)
    new = copy.deepcopy(doc)
    new["backends"]["openvino"] = new["backends"]["ort-cuda"] | {"kind": "openvino"}
    rows = compare(doc, new, Thresholds.of(new))["rows"]
    (row,) = [r for r in rows if r["backend"] == "openvino"]
    assert row["status"] == "info"


def test_the_size_advice_cites_the_measured_fp16_file(demo):
    doc = _with_new_backends(demo)
    (advice,) = [
        f for f in doc["findings"] if f["key"] == "size.file/dtype_fp16" and f["backend"] == "onnxruntime"
    ]
    assert "untested" not in advice["recommendation"]
    assert (
        "FP16 export ort-fp16: 5.94 MB (0.50× this file), 100.0% of predictions agree"
        in advice["recommendation"]
    )
    assert _keys(doc, "ort-fp16")["size.file/fp16"] == "info"
    plain = copy.deepcopy(demo)
    plain["findings"] = rules.findings(plain)
    (old,) = [f for f in plain["findings"] if f["key"] == "size.file/dtype" and f["backend"] == "onnxruntime"]
    assert "untested in this run" in old["recommendation"]


def test_fp16_outputs_differing_are_expected_not_a_failure(demo):
    doc = _with_new_backends(demo)
    parity = doc["backends"]["ort-fp16"]["parity"]
    parity.update(allclose=False, max_abs_diff=3e-3)
    doc["findings"] = rules.findings(doc)
    assert _keys(doc, "ort-fp16")["parity.outputs/fp16"] == "info"


def test_every_new_kind_is_ranked_and_has_its_efficiency(demo):
    doc = _with_new_backends(demo)
    ranked = {r["backend"] for r in score.scores(doc, 0.98) if r["rank"]}
    assert {"ort-fp16", "openvino"} <= ranked
    assert {"ort-fp16", "openvino"} <= {
        f["backend"] for f in doc["findings"] if f["id"] == "efficiency.gflops"
    }


def test_keeping_the_reference_names_what_was_measured(demo):
    doc = _with_new_backends(demo)
    for b in doc["backends"].values():  # nothing faster than the reference any more
        if b["status"] == "ok" and b["speedup"]:
            b["speedup"], b["speedup_interval"] = 1.0, [0.9, 1.1]
    doc["findings"] = rules.findings(doc)
    (keep,) = [f for f in doc["findings"] if f["id"] == "recommend.keep"]
    assert keep["key"] == "recommend.keep/measured"
    assert (
        "measured here without beating it: OpenVINO, FP16; untested in this run: TensorRT, torch.compile"
        in (keep["recommendation"])
    )


def test_fp16_is_simpler_than_int8_and_less_simple_than_fp32():
    from reportgen.analysis.verdicts import simplicity

    plain, fp16, int8 = ({"settings": s} for s in ({}, {"precision": "fp16"}, {"quantization": "static"}))
    assert sorted([int8, fp16, plain], key=simplicity) == [plain, fp16, int8]


def test_a_compiling_backend_says_its_cold_and_warm_compile(demo):
    doc = _with_new_backends(demo)
    compiled = copy.deepcopy(doc["backends"]["onnxruntime"]) | {"kind": "torch_compile"}
    for number, record in enumerate(compiled["rounds"]):
        record["first_inference_ms"] = 77_000.0 if number == 0 else 4_000.0 + number
    doc["backends"]["torch-compile"] = compiled
    doc["backend_order"].append("torch-compile")
    doc["findings"] = rules.findings(doc)
    (cost,) = [f for f in doc["findings"] if f["id"] == "speed.compile"]
    assert cost["key"] == "speed.compile/payback" and cost["backend"] == "torch-compile"
    assert cost["params"]["cold_s"] == 77.0 and 4.0 < cost["params"]["warm_s"] < 4.1
    assert "77.0 s with a cold cache" in cost["title"]
    page = re.sub(r"<[^>]+>", " ", render_report(doc))
    assert "torch-compile compiles at its first call" in page
