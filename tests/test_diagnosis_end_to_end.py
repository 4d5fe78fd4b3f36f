"""Planted faults through the real pipeline: a perturbed ONNX weight, a failing export, the seed's method."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import onnx
import pytest
from onnx import numpy_helper

from reportgen.analysis import rules

pytestmark = pytest.mark.slow

QUICK = """\
dataset: {images: 16}
measurement: {rounds: 3, warmup_iterations: 3, min_iterations: 15, min_time_s: 0.3, max_time_s: 1, profile: false}
"""


def _run(tmp_path, name, body, exit_code=0):
    config = tmp_path / f"{name}.yaml"
    config.write_text(f"version: {name}\n" + QUICK + textwrap.dedent(body))
    out = tmp_path / f"{name}.json"
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "run", "-c", str(config), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == exit_code, result.stderr
    if exit_code:  # the results are written all the same; one line says why the exit code is not 0
        assert result.stderr.strip().splitlines()[-1].startswith("error: the run could not measure")
    return json.loads(out.read_text())


def _export(tmp_path) -> str:
    doc = _run(tmp_path, "export", "backends: [{name: pytorch, kind: pytorch}]\n")
    # The document names the file only; it lies in the run's work folder (build/ under the cwd).
    return str(tmp_path / "build" / "reportgen" / "export" / doc["model"]["onnx"]["path"])


def test_a_perturbed_onnx_weight_is_found_and_named(tmp_path):
    model = onnx.load(_export(tmp_path))
    target = "down4.1.cv1.0.weight"
    (init,) = [i for i in model.graph.initializer if i.name == target]
    weights = numpy_helper.to_array(init).copy()
    weights.flat[0] += 0.5  # one weight of one convolution, after export
    init.CopyFrom(numpy_helper.from_array(weights, target))
    perturbed = tmp_path / "perturbed.onnx"
    onnx.save(model, perturbed)
    doc = _run(tmp_path, "perturbed", f"export: {{onnx_file: {perturbed}}}\n")
    divergence = doc["backends"]["onnxruntime"]["parity"]["first_divergence"]
    assert divergence["found"] and divergence["op_type"] == "Conv"
    assert target in divergence["initializers"] and divergence["module"].startswith("down4.1.cv1")
    (finding,) = [f for f in rules.findings(doc) if f["id"] == "parity.outputs"]
    assert (
        finding["severity"] == "fail"
        and divergence["node"] in finding["title"]
        and target in finding["cause"]
    )
    assert {f["id"] for f in rules.findings(doc) if f["severity"] == "fail"} <= {
        "parity.outputs",
        "parity.detections",
    }


def test_a_failing_export_is_recorded_and_the_reference_still_runs(tmp_path):
    # The legacy exporter cannot express nearest upsampling at opset 7: a real exporter failure.
    doc = _run(tmp_path, "badexport", "export: {exporter: legacy, opset: 7}\n", exit_code=1)
    assert doc["model"]["onnx"]["status"] == "failed" and "upsample" in doc["model"]["onnx"]["error"]
    assert doc["backends"]["pytorch"]["status"] == "ok"
    assert doc["backends"]["onnxruntime"]["status"] == "failed"
    assert doc["backends"]["onnxruntime"]["error"].startswith("ONNX export failed: ")
    # Said once, as the failed step (issue 20): not one backend.failed per backend the export blocked.
    assert [f["id"] for f in rules.findings(doc) if f["severity"] == "fail"] == ["backend.step"]


def test_the_seed_methodology_is_flagged_mistake_by_mistake(tmp_path):
    text = (Path(__file__).parent.parent / "configs" / "seed-methodology.yaml").read_text()
    doc = _run(tmp_path, "seed", text.replace("version: seed-methodology\n", ""))
    keys = {f["key"] for f in rules.findings(doc) if f["severity"] == "warn"}
    assert {"method.threads", "method.warmup", "method.load_in_latency", "method.optimization/only"} <= keys
    # On a quiet machine ONNX Runtime comes out "slower" (0.54x in the demo's note), the seed's conclusion;
    # either way the speed finding blames the method, never the runtime.
    assert keys & {"speed.latency/slower_method", "speed.latency/faster_method", "speed.latency/same_method"}
    assert not {f["key"] for f in rules.findings(doc)} & {
        "speed.latency/slower",
        "speed.latency/faster",
        "speed.latency/same",
    }
