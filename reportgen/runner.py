"""Orchestrate a run: data set, export, one fresh worker process per backend, then evaluation.

The parent never imports torch or onnxruntime: workers export, quantize and measure; the parent
hands their raw outputs to ``evaluate`` (numpy) and assembles the results document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reportgen import analysis, environment, evaluate
from reportgen.config import BackendConfig, Config
from reportgen.demo import DEFAULT_CHECKPOINT
from reportgen.demo.shapes import make_dataset
from reportgen.errors import ReportgenError
from reportgen.results import check_invariants
from reportgen.tasks.segmentation import preprocess

Progress = Callable[[str], None]


def run(
    config: Config, work_dir: Path, config_path: str | None = None, progress: Progress = lambda _: None
) -> dict:
    """Measure every backend of ``config`` and return the checked results document."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env = environment.capture(config.measurement.threads)  # before we load the CPU ourselves
    contention = environment.CpuContention()
    progress(f"generating {config.dataset.images} images (seed {config.dataset.seed})")
    samples = make_dataset(config.dataset.seed, config.dataset.images, config.model.input_size)
    dataset_path = work_dir / "dataset.npz"
    np.savez(dataset_path, images=np.stack([s.image for s in samples]))
    checkpoint = str(config.model.checkpoint or DEFAULT_CHECKPOINT)
    model = _export(config, checkpoint, work_dir, progress)
    files = {b.name: _model_file(config, b, model, checkpoint, work_dir, progress) for b in config.backends}
    raw = {}
    for backend in config.backends:
        progress(f"measuring {backend.name} ({backend.kind}) in a fresh process")
        raw[backend.name] = _run_backend(config, backend, files[backend.name], dataset_path, work_dir)
    env["other_cpu_share"] = contention.other_share()
    progress("decoding outputs, computing metrics and parity")
    document = evaluate.document(config, config_path, env, model, samples, raw, files)
    _localize_divergence(config, document, checkpoint, dataset_path, work_dir, progress)
    document["findings"] = analysis.findings(document)
    check_invariants(document)
    return document


def _export(config: Config, checkpoint: str, work_dir: Path, progress: Progress) -> dict:
    source = (
        f"checking {config.export.onnx_file}"
        if config.export.onnx_file
        else (f"exporting ONNX ({config.export.exporter} exporter, opset {config.export.opset})")
    )
    progress(f"{source}, counting FLOPs, probing the CPU's matmul peak")
    needs_torchscript = any(b.kind == "torchscript" for b in config.backends)
    job = {
        "job": "export",
        "checkpoint": checkpoint,
        "onnx_path": str(work_dir / "model.onnx"),
        "onnx_file": config.export.onnx_file,
        "exporter": config.export.exporter,
        "opset": config.export.opset,
        "input_size": config.model.input_size,
        "threads": config.measurement.threads,
        "torchscript_path": str(work_dir / "model.torchscript.pt") if needs_torchscript else None,
    }
    result = _run_worker(job, work_dir / "export", config.measurement.timeout_s, config.measurement.threads)
    if "checkpoint" not in result:  # without a loadable model there is nothing to compare
        raise ReportgenError(f"{checkpoint}: the model could not be loaded: {result['error']}")
    return result


def _model_file(
    config: Config, backend: BackendConfig, model: dict, checkpoint: str, work_dir: Path, progress: Progress
) -> dict:
    """Return the file a backend loads (path, size, dtypes, status), quantizing it first if asked."""
    if backend.kind == "pytorch":
        return {**model["checkpoint"], "status": "ok", "error": None}
    if backend.kind == "torchscript":
        return model["torchscript"]
    if model["onnx"]["status"] != "ok" or backend.quantization == "none":
        return model["onnx"]
    target = work_dir / f"model.int8-{backend.quantization}-{backend.calibration_images}.onnx"
    if not target.exists():
        progress(f"quantizing to INT8 ({backend.quantization})")
        job = {
            "job": "quantize",
            "mode": backend.quantization,
            "onnx_path": model["onnx"]["path"],
            "output_path": str(target),
            "calibration_images": backend.calibration_images,
            "calibration_path": _calibration_inputs(config, backend.calibration_images, work_dir),
        }
        result = _run_worker(
            job, target.with_suffix(""), config.measurement.timeout_s, config.measurement.threads
        )
        if result["status"] != "ok":
            return {
                "status": "failed",
                "error": f"INT8 quantization failed: {result['error']}",
                "path": str(target),
            }
    from reportgen.modelfile import describe_onnx  # imports onnx: only when quantizing

    return {**describe_onnx(target), "status": "ok", "error": None, "quantization": backend.quantization}


def _calibration_inputs(config: Config, count: int, work_dir: Path) -> str:
    """Write pre-processed calibration inputs: generated images after the evaluation set (held out)."""
    path = work_dir / f"calibration-{count}.npz"
    size = config.model.input_size
    samples = make_dataset(config.dataset.seed, count, size, start=config.dataset.images)
    np.savez(path, inputs=np.concatenate([preprocess(s.image, size) for s in samples]))
    return str(path)


def _run_backend(
    config: Config, backend: BackendConfig, model_file: dict, dataset_path: Path, work_dir: Path
) -> dict:
    if model_file["status"] != "ok":
        return {"status": "failed", "error": model_file["error"]}
    threads = config.threads_for(backend)
    settings = {
        "warmup_iterations": config.warmup_for(backend),
        "time_load_in_latency": backend.time_load_in_latency,
    }
    if backend.kind == "onnxruntime":
        settings |= {"graph_optimization": backend.graph_optimization, "quantization": backend.quantization}
    if backend.kind == "torchscript":
        settings["freeze"] = backend.freeze
    job = {
        "job": "backend",
        "kind": backend.kind,
        "threads": threads,
        "input_size": config.model.input_size,
        "model_path": model_file["path"],
        "settings": settings,
        "measurement": config.measurement.model_dump(),
        "dataset_path": str(dataset_path),
        "outputs_path": str(work_dir / f"{backend.name}.outputs.npz"),
    }
    result = _run_worker(
        job, work_dir / backend.name, backend.timeout_s or config.measurement.timeout_s, threads
    )
    result["job"] = job
    return result


def _localize_divergence(
    config: Config, document: dict, checkpoint: str, dataset_path: Path, work_dir: Path, progress: Progress
) -> None:
    """For an FP32 ONNX backend whose outputs differ, name the first node that diverges."""
    for name in document["backend_order"]:
        backend, entry = config.backend(name), document["backends"][name]
        parity = entry.get("parity")
        if (
            not parity
            or parity["allclose"]
            or backend.kind != "onnxruntime"
            or backend.quantization != "none"
        ):
            continue
        progress(f"{name}: outputs differ, comparing intermediate tensors to find the first diverging node")
        worst = max(parity["outputs"].values(), key=lambda o: o["max_abs_diff"] or 0.0)
        job = {
            "job": "localize",
            "checkpoint": checkpoint,
            "onnx_path": entry["model_path"],
            "dataset_path": str(dataset_path),
            "image": int((worst.get("worst_index") or [0])[0]),
            "input_size": config.model.input_size,
            "atol": config.parity.atol,
            "rtol": config.parity.rtol,
        }
        parity["first_divergence"] = _run_worker(
            job, work_dir / f"{name}.localize", config.measurement.timeout_s, config.measurement.threads
        )


def _run_worker(job: dict, stem: Path, timeout_s: float, threads: int) -> dict:
    """Run one job in a fresh interpreter; a crash or a timeout becomes a failed result."""
    job = {**job, "result_path": str(stem.with_suffix(".result.json"))}
    job_path = stem.with_suffix(".job.json")
    job_path.write_text(json.dumps(job, indent=2))
    Path(job["result_path"]).unlink(missing_ok=True)
    # Thread pools are sized before the runtime starts: every runtime gets exactly `threads`.
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    log = stem.with_suffix(".log")
    try:
        with log.open("w") as out:
            proc = subprocess.run(
                [sys.executable, "-m", "reportgen.worker", str(job_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout_s,
            )
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": f"timed out after {timeout_s:g} s (see {log})"}
    result_path = Path(job["result_path"])
    if result_path.exists():
        return json.loads(result_path.read_text())
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
    return {
        "status": "failed",
        "error": f"worker exited with code {proc.returncode}: {tail[0][:500]} (see {log})",
    }
