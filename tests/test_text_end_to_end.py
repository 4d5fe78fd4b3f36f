"""The text demo end to end: two int64 inputs from files, labels from a file, batch sizes 1 and 8."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow
CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_the_text_demo_measures_accuracy_int8_and_throughput(tmp_path):
    config = yaml.safe_load((CONFIGS / "demo-text.yaml").read_text())
    config["dataset"]["images"] = 60  # fewer samples and shorter rounds: the same code paths
    config["measurement"] |= {
        "rounds": 2,
        "warmup_iterations": 2,
        "min_iterations": 5,
        "min_time_s": 0.05,
        "max_time_s": 1,
        "profile": False,
    }
    quick = CONFIGS / f".tmp-{tmp_path.name}.yaml"  # beside the shipped one: its text/*.npy paths hold
    quick.write_text(yaml.safe_dump(config))
    out = tmp_path / "results.json"
    try:
        command = [sys.executable, "-m", "reportgen", "run", "-c", str(quick), "-o", str(out)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    finally:
        quick.unlink()
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["dataset"]["labelled"] and document["model"]["class_names"] == [
        "red",
        "green",
        "blue",
        "yellow",
    ]
    backends = document["backends"]
    assert set(backends) == {"pytorch", "onnxruntime", "ort-int8-dynamic"}
    for name, b in backends.items():
        assert b["status"] == "ok", (name, b["error"])
        assert b["metrics"]["top1_accuracy"] >= 0.95, name
        sizes = b["by_batch_size"]
        assert set(sizes) == {"1", "8"} and sizes["8"]["throughput_per_s"] > 0
    assert backends["onnxruntime"]["parity"]["allclose"]
    assert backends["ort-int8-dynamic"]["parity"]["top1_agreement"] >= 0.95
    assert backends["ort-int8-dynamic"]["weight_dtype"] == "int8"
