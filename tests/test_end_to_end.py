"""The real pipeline on the shipped demo model: export, worker processes, metrics, parity, site."""

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import onnx
import pytest

from reportgen.analysis import rules

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path, version, extra=""):
    path = tmp_path / f"{version}.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        version: {version}
        dataset: {{images: 24}}
        measurement: {{rounds: 3, warmup_iterations: 3, min_iterations: 15, min_time_s: 0.3, max_time_s: 1}}
        site: {{dir: {tmp_path / "site"}}}
        """)
        + textwrap.dedent(extra)
    )
    return path


def _build(tmp_path, config):
    # cwd=tmp_path: the work folder (build/) lands there, not in the repository.
    return subprocess.run(
        [sys.executable, "-m", "reportgen", "build", "-c", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_demo_build_measures_both_backends_and_writes_the_site(tmp_path):
    result = _build(tmp_path, _config(tmp_path, "e2e"))
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    doc = json.loads((site / "e2e" / "results.json").read_text())
    torch_, ort = doc["backends"]["pytorch"], doc["backends"]["onnxruntime"]
    assert torch_["status"] == ort["status"] == "ok"
    assert torch_["threads"] == ort["threads"] == 2
    assert ort["settings"]["providers"] == ["CPUExecutionProvider"]
    assert ort["settings"]["torch_imported"] is False and torch_["settings"]["torch_imported"] is True
    assert ort["parity"]["allclose"] and ort["parity"]["max_abs_diff"] < 1e-3
    assert ort["parity"]["detection_match_rate"] >= 0.98
    assert torch_["metrics"]["map50"] >= 0.85
    for backend in (torch_, ort):
        assert 0 <= backend["metrics"]["mean_confidence"] <= 1
        assert backend["latency_ms"]["n"] >= 15 and min(backend["latency_ms"]["samples"]) > 0
        memory = backend["memory_mb"]
        assert 0 < memory["at_start"] <= memory["before_load"] <= memory["peak"]
    # The ONNX worker never imports torch, so its whole process stays far below torch's import cost.
    assert ort["memory_mb"]["peak"] < torch_["memory_mb"]["before_load"]
    assert torch_["weight_dtype"] == "float16" and ort["weight_dtype"] == "float32"
    assert 1.8 < ort["file_size_mb"] / torch_["file_size_mb"] < 2.2
    assert doc["model"]["parameters"] >= 1_000_000
    assert {f["id"] for f in rules.findings(doc)} >= {"parity.outputs", "parity.detections", "speed.latency"}
    # The profile pass: both backends profiled, and the speed finding's cause drawn from the profiles.
    assert torch_["profile"]["status"] == ort["profile"]["status"] == "ok"
    speed = next(f for f in rules.findings(doc) if f["id"] == "speed.latency")
    assert speed["because"][0]["key"].startswith("cause.breakdown/")
    page = (site / "e2e" / "index.html").read_text()
    assert "onnxruntime" in page and (site / "index.html").exists()
    # Published files name files, never the build machine's folders: not the work folder (build/),
    # not the config's folder (only site.dir, which this config itself spells out, may appear).
    archived = (site / "e2e" / "results.json").read_text()
    for text in (page, archived):
        assert str(tmp_path / "build") not in text and str(tmp_path / "e2e.yaml") not in text
    assert ort["model_path"] == "model.onnx" and doc["config_path"] == "e2e.yaml"
    assert (site / "assets" / "plotly.min.js").stat().st_size > 1_000_000


def test_a_failing_backend_is_recorded_and_the_report_still_builds(tmp_path):
    config = _config(
        tmp_path,
        "fail",
        """\
        backends:
          - {name: pytorch, kind: pytorch}
          - {name: onnxruntime, kind: onnxruntime, timeout_s: 0.01}
        """,
    )
    result = _build(tmp_path, config)
    # Nothing but the reference was measured: the report is built, and the exit code tells CI.
    assert result.returncode == 1, result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "error: the run could not measure what it was asked: every backend but the reference failed (onnxruntime): "
        )
    )  # ... and why: the backend's own error
    doc = json.loads((tmp_path / "site" / "fail" / "results.json").read_text())
    assert doc["backends"]["pytorch"]["status"] == "ok"
    # The error names the worker's log as the run's folders go (the document is published), not absolutely.
    error = doc["backends"]["onnxruntime"]["error"]
    assert "(see build/reportgen/fail/onnxruntime-round1.log)" in error and str(tmp_path) not in error
    failed = doc["backends"]["onnxruntime"]
    assert failed["status"] == "failed" and failed["error"].startswith("timed out after 0.01 s")
    assert [f["severity"] for f in rules.findings(doc) if f["id"] == "backend.failed"] == ["fail"]
    assert "timed out after 0.01 s" in (tmp_path / "site" / "fail" / "index.html").read_text()


def _run(tmp_path, config, out):
    return subprocess.run(
        [sys.executable, "-m", "reportgen", "run", "-c", str(config), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def _split(samples: list[float], counts: list[int]) -> list[list[float]]:
    edges = [sum(counts[:i]) for i in range(len(counts) + 1)]
    return [samples[a:b] for a, b in zip(edges, edges[1:])]


def test_slices_are_interleaved_and_a_real_slowdown_fails_the_gate(tmp_path):
    # The same backends, the same settings, but the ONNX file carries a chain of MatMuls on every call
    # (benchmarks/bench_gate.py's plant: real work, the same answers): a real slowdown of ONNX Runtime
    # alone, far beyond the noise between rounds. The gate must catch it against the reference timed
    # beside it in both runs (changing the backend's settings instead would make it another backend).
    def config(name: str, export: str = ""):
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            textwrap.dedent(f"""\
            version: {name}
            dataset: {{images: 4}}
            measurement: {{rounds: 3, warmup_iterations: 3, min_iterations: 15, min_time_s: 0.2, max_time_s: 1, profile: false}}
            backends:
              - {{name: pytorch, kind: pytorch}}
              - {{name: onnxruntime, kind: onnxruntime}}
            """)
            + export
        )
        return path

    done = _run(tmp_path, config("fast"), tmp_path / "fast.json")
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("bench_gate", ROOT / "benchmarks" / "bench_gate.py")
    bench_gate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_gate)
    planted = tmp_path / "planted.onnx"
    onnx.save(
        bench_gate.plant(onnx.load(tmp_path / "build" / "reportgen" / "fast" / "model.onnx"), 300), planted
    )
    done = _run(tmp_path, config("slow", f"export: {{onnx_file: {planted}}}\n"), tmp_path / "slow.json")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "fast.json").read_text())
    assert (
        doc["schema_version"] == 5
        and doc["timing"]["rounds"] == 3
        and doc["timing"]["stopped"] in ("budget", "precision")  # a quiet machine may reach it in 3
    )
    for b in doc["backends"].values():
        assert [r["n"] for r in b["rounds"]] and sum(r["n"] for r in b["rounds"]) == b["latency_ms"]["n"]
        assert b["latency_ms"]["rounds"] == 3 and b["latency_ms"]["round_spread"] is not None
        assert sum(s["n"] for s in b["slices"]) == b["latency_ms"]["n"]
    # Every cycle times the candidate between two slices of the reference, with a pause after each
    # slice: the slices of all backends, in time order, never overlap and leave the pause between.
    timeline = sorted(
        (s["start_s"], s["cycle"], name, sum(samples))
        for name, b in doc["backends"].items()
        for s, samples in zip(b["slices"], _split(b["latency_ms"]["samples"], [s["n"] for s in b["slices"]]))
    )
    cycles = sorted({c for _, c, _, _ in timeline})
    assert cycles == list(range(3 * 4)) and [c for _, c, _, _ in timeline] == sorted(
        c for _, c, _, _ in timeline
    )
    for cycle in cycles:
        assert [n for _, c, n, _ in timeline if c == cycle] == ["pytorch", "onnxruntime", "pytorch"]
    pause = doc["timing"]["pause_s"]
    for (start, cycle, _, busy_ms), (after, next_cycle, _, _) in zip(timeline, timeline[1:]):
        if next_cycle == cycle:
            assert after - start >= busy_ms / 1000 + 0.8 * pause
    gate = subprocess.run(
        [
            sys.executable,
            "-m",
            "reportgen",
            "compare",
            str(tmp_path / "fast.json"),
            str(tmp_path / "slow.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert gate.returncode == 1, gate.stdout + gate.stderr
    line = next(x for x in gate.stdout.splitlines() if x.startswith("onnxruntime") and "latency" in x)
    assert "regression" in line and "against the same reference timed beside it in both runs" in line
