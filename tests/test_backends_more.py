"""More backends (issue 13): OpenVINO, torch.compile, an FP16 ONNX Runtime file, GPU backends that this
machine cannot run. Document-level tests first (fast), then end-to-end builds of small configs (slow)."""

import copy
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reportgen.analysis import rules, score
from reportgen.analysis.finding import speedup_of
from reportgen.release.compare import compare
from reportgen.report.render import render_report
from reportgen.results.document import check_invariants, read_results

FACTORIES = Path(__file__).parent  # the config's folder goes on the import path: factories.models:...
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
    return doc


def _keys(doc: dict, backend: str) -> dict[str, str]:
    return {f["key"]: f["severity"] for f in rules.findings(doc) if f["backend"] == backend}


def test_an_unavailable_backend_is_said_not_failed(demo, tmp_path):
    doc = _with_new_backends(demo)
    check_invariants(doc)  # an unavailable backend needs no measurements
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    assert read_results(path)["backends"]["ort-cuda"]["status"] == "unavailable"
    assert _keys(doc, "ort-cuda") == {"backend.unavailable": "info"}
    assert not any(f["severity"] == "fail" for f in rules.findings(doc))
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
        f for f in rules.findings(doc) if f["key"] == "size.file/dtype_fp16" and f["backend"] == "onnxruntime"
    ]
    assert "untested" not in advice["recommendation"]
    assert (
        "FP16 export ort-fp16: 5.94 MB (0.50× this file), 100.0% of predictions agree"
        in advice["recommendation"]
    )
    assert _keys(doc, "ort-fp16")["size.file/fp16"] == "info"
    plain = copy.deepcopy(demo)
    (old,) = [
        f for f in rules.findings(plain) if f["key"] == "size.file/dtype" and f["backend"] == "onnxruntime"
    ]
    assert "untested in this run" in old["recommendation"]


def test_fp16_outputs_differing_are_expected_not_a_failure(demo):
    doc = _with_new_backends(demo)
    parity = doc["backends"]["ort-fp16"]["parity"]
    parity.update(allclose=False, max_abs_diff=3e-3)
    assert _keys(doc, "ort-fp16")["parity.outputs/fp16"] == "info"


def test_every_new_kind_is_ranked_and_has_its_efficiency(demo):
    doc = _with_new_backends(demo)
    ranked = {r["backend"] for r in score.scores(doc, 0.98) if r["rank"]}
    assert {"ort-fp16", "openvino"} <= ranked
    assert {"ort-fp16", "openvino"} <= {
        f["backend"] for f in rules.findings(doc) if f["id"] == "efficiency.gflops"
    }


def test_keeping_the_reference_names_what_was_measured(demo):
    doc = _with_new_backends(demo)
    ref = doc["backends"][doc["reference"]]
    for b in doc["backends"].values():  # nothing faster than the reference any more: its own timings
        if b["status"] == "ok":
            b["latency_ms"], b["rounds"] = copy.deepcopy(ref["latency_ms"]), copy.deepcopy(ref["rounds"])
    (keep,) = [f for f in rules.findings(doc) if f["id"] == "recommend.keep"]
    assert keep["key"] == "recommend.keep/measured"
    assert (
        "measured here without beating it: OpenVINO, FP16; untested in this run: TensorRT, torch.compile"
        in (keep["recommendation"])
    )


def test_a_run_whose_other_backends_are_all_unavailable_exits_0(demo):
    from reportgen.measure.runner import unmeasured

    doc = _with_new_backends(demo)
    for name in doc["backend_order"][1:]:
        doc["backends"][name].update(status="unavailable", error=NO_GPU)
    assert unmeasured(doc) is None  # nothing failed: the report says what this machine could not run
    doc["backends"]["onnxruntime"].update(status="failed", error="boom")
    assert unmeasured(doc) == "every backend but the reference failed (onnxruntime): boom"
    doc["backends"]["pytorch"].update(status="unavailable", error="no CUDA")
    assert unmeasured(doc) == "the reference pytorch is not available on this machine: no CUDA"


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
    (cost,) = [f for f in rules.findings(doc) if f["id"] == "speed.compile"]
    assert cost["key"] == "speed.compile/payback" and cost["backend"] == "torch-compile"
    assert cost["params"]["cold_s"] == 77.0 and 4.0 < cost["params"]["warm_s"] < 4.1
    assert "77.0 s with a cold cache" in cost["title"]
    page = re.sub(r"<[^>]+>", " ", render_report(doc))
    assert "torch-compile compiles at its first call" in page


# --- End to end: small configs through the real CLI (worker processes, real runtimes) ----------------

QUICK = """\
measurement: {rounds: 2, warmup_iterations: 2, min_iterations: 5, min_time_s: 0.1, max_time_s: 1, profile: false}
"""


def _reportgen(tmp_path, command, name, body):
    """Run ``reportgen COMMAND`` on a config beside tests/factories (so a factory imports); return the
    process and the results document."""
    config = FACTORIES / f".tmp-{tmp_path.name}-{name}.yaml"
    config.write_text(
        f"version: {name}\nsite: {{dir: {tmp_path / 'site'}}}\n" + QUICK + textwrap.dedent(body)
    )
    out = tmp_path / f"{name}.json"
    args = ["-o", str(out)] if command == "run" else []
    try:
        result = subprocess.run(
            [sys.executable, "-m", "reportgen", command, "-c", str(config), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,  # the work folder (build/) lands there
        )
    finally:
        config.unlink()
    results = out if command == "run" else tmp_path / "site" / name / "results.json"
    return result, json.loads(results.read_text()) if results.exists() else None


@pytest.mark.slow
def test_openvino_fp16_and_gpu_backends_on_the_demo_net(tmp_path):
    result, doc = _reportgen(
        tmp_path,
        "build",
        "more",
        """\
        dataset: {images: 8}
        backends:
          - {name: pytorch, kind: pytorch}
          - {name: onnxruntime, kind: onnxruntime}
          - {name: openvino, kind: openvino}
          - {name: ort-fp16, kind: onnxruntime, precision: fp16}
          - {name: ort-cuda, kind: onnxruntime, provider: cuda}
          - {name: torch-cuda, kind: pytorch, device: cuda}
        """,
    )
    assert result.returncode == 0, result.stderr
    b = doc["backends"]
    for name in ("pytorch", "onnxruntime", "openvino", "ort-fp16"):
        assert b[name]["status"] == "ok", (name, b[name]["error"])
        assert len(b[name]["rounds"]) == 2
    ov, fp16 = b["openvino"], b["ort-fp16"]
    assert ov["parity"]["allclose"] and ov["parity"]["detection_match_rate"] >= 0.98
    assert ov["settings"]["inference_num_threads"] == "2" and ov["settings"]["num_streams"] == "1"
    assert (
        ov["settings"]["performance_hint"] == "LATENCY"
        and ov["settings"]["inference_precision_hint"] == "f32"
    )
    assert ov["settings"]["torch_imported"] is False and ov["memory_mb"]["peak"] > 0
    assert ov["model_path"] == "model.onnx" and ov["load_ms"] > 0
    assert fp16["weight_dtype"] == "float16" and fp16["model_path"] == "model.fp16.onnx"
    assert 0.4 < fp16["file_size_mb"] / b["onnxruntime"]["file_size_mb"] < 0.6
    assert fp16["parity"]["detection_match_rate"] >= 0.98 and speedup_of(doc, "ort-fp16").value > 0
    for name in ("ort-cuda", "torch-cuda"):
        assert b[name]["status"] == "unavailable", (name, b[name]["error"])
        assert len(b[name]["error"]) < 300
    assert "CUDAExecutionProvider" in b["ort-cuda"]["error"]
    assert "torch.cuda.is_available() is False" in b["torch-cuda"]["error"]
    assert not [f for f in rules.findings(doc) if f["severity"] == "fail"]
    (advice,) = [
        f for f in rules.findings(doc) if f["key"] == "size.file/dtype_fp16" and f["backend"] == "onnxruntime"
    ]
    assert "FP16 export ort-fp16" in advice["recommendation"]
    page = re.sub(r"<[^>]+>", " ", (tmp_path / "site" / "more" / "index.html").read_text())
    assert "torch-cuda is not available on this machine" in page
    assert "ort-cuda is not available on this machine" in page


@pytest.mark.slow
def test_torch_compile_compiles_cold_once_then_reads_its_cache(tmp_path):
    result, doc = _reportgen(
        tmp_path,
        "run",
        "compiled",
        """\
        model: {source: factory, factory: "factories.models:two_heads", task: raw, input_shape: [1, 3, 24, 24]}
        dataset: {source: random, images: 4}
        backends:
          - {name: pytorch, kind: pytorch}
          - {name: torch-compile, kind: torch_compile}
          - {name: torch-compile-cuda, kind: torch_compile, device: cuda}
        """,
    )
    assert result.returncode == 0, result.stderr
    compiled = doc["backends"]["torch-compile"]
    assert compiled["status"] == "ok" and compiled["parity"]["allclose"]
    assert compiled["settings"]["compile_cache"] == "cold"  # round 1: a fresh work folder
    cold, warm = (r["first_inference_ms"] for r in compiled["rounds"])
    assert cold > warm  # round 2 reads inductor's cache in the run's work folder
    assert (tmp_path / "build" / "reportgen" / "compiled" / "inductor-cache").is_dir()
    assert str(tmp_path / "build") not in json.dumps(
        doc
    )  # the cache folder reaches the worker, not the results
    assert compiled["load_ms"] < compiled["rounds"][0]["first_inference_ms"]  # compiling is the first call
    assert doc["backends"]["torch-compile-cuda"]["status"] == "unavailable"
    assert [
        f["key"]
        for f in rules.findings(doc)
        if f["backend"] == "torch-compile" and f["id"] == "speed.compile"
    ]
