"""Orchestrate a run: data set, export, one fresh worker process per backend, then evaluation.

The parent never imports torch or onnxruntime: workers do the measuring, the parent decodes every
backend's raw outputs with the same numpy post-processing, computes metrics and parity against the
reference, and assembles the results document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from reportgen import __version__, analysis, environment, metrics, parity, timing
from reportgen.config import Config
from reportgen.demo import DEFAULT_CHECKPOINT
from reportgen.demo.shapes import make_dataset
from reportgen.detections import GroundTruth
from reportgen.errors import ReportgenError
from reportgen.results import SCHEMA_VERSION, check_invariants
from reportgen.tasks import segmentation

Progress = Callable[[str], None]
EXAMPLES = 4


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
    raw = {}
    for backend in config.backends:
        progress(f"measuring {backend.name} ({backend.kind}) in a fresh process")
        raw[backend.name] = _run_backend(config, backend, model, checkpoint, dataset_path, work_dir)
    env["other_cpu_share"] = contention.other_share()
    progress("decoding outputs, computing metrics and parity")
    ground_truths = [GroundTruth(boxes=s.boxes, classes=s.classes, masks=s.masks) for s in samples]
    document = _document(config, config_path, env, model, samples, raw, ground_truths)
    document["findings"] = analysis.findings(document)
    check_invariants(document)
    return document


def _export(config: Config, checkpoint: str, work_dir: Path, progress: Progress) -> dict:
    progress(f"exporting ONNX ({config.export.exporter} exporter, opset {config.export.opset})")
    job = {
        "job": "export",
        "checkpoint": checkpoint,
        "onnx_path": str(work_dir / "model.onnx"),
        "exporter": config.export.exporter,
        "opset": config.export.opset,
        "input_size": config.model.input_size,
    }
    result = _run_worker(
        job, work_dir / "export", config.measurement.timeout_s, threads=config.measurement.threads
    )
    if "checkpoint" not in result:  # without a loadable model there is nothing to compare
        raise ReportgenError(f"{checkpoint}: the model could not be loaded: {result['error']}")
    return result


def _run_backend(
    config: Config, backend, model: dict, checkpoint: str, dataset_path: Path, work_dir: Path
) -> dict:
    onnx_info = model["onnx"]
    if backend.kind == "onnxruntime" and onnx_info["status"] != "ok":
        return {"status": "failed", "error": f"ONNX export failed: {onnx_info['error']}"}
    threads = config.threads_for(backend)
    job = {
        "job": "backend",
        "kind": backend.kind,
        "threads": threads,
        "input_size": config.model.input_size,
        "model_path": checkpoint if backend.kind == "pytorch" else onnx_info["path"],
        "settings": {
            "warmup_iterations": config.warmup_for(backend),
            "time_load_in_latency": backend.time_load_in_latency,
            **({"graph_optimization": backend.graph_optimization} if backend.kind == "onnxruntime" else {}),
        },
        "measurement": config.measurement.model_dump(),
        "dataset_path": str(dataset_path),
        "outputs_path": str(work_dir / f"{backend.name}.outputs.npz"),
    }
    timeout_s = backend.timeout_s or config.measurement.timeout_s
    result = _run_worker(job, work_dir / backend.name, timeout_s, threads)
    result["job"] = job
    return result


def _run_worker(job: dict, stem: Path, timeout_s: float, threads: int) -> dict:
    """Run one job in a fresh interpreter; a crash or a timeout becomes a failed result."""
    job = {**job, "result_path": str(stem.with_suffix(".result.json"))}
    job_path = stem.with_suffix(".job.json")
    job_path.write_text(json.dumps(job, indent=2))
    Path(job["result_path"]).unlink(missing_ok=True)
    # Thread pools sized before the runtime starts: both runtimes get exactly `threads`.
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


def _document(config, config_path, env, model, samples, raw, ground_truths) -> dict:
    num_classes = len(model["class_names"])
    decoded = {name: _decode(r, config, num_classes) for name, r in raw.items() if r["status"] == "ok"}
    reference = config.reference
    backends = {}
    for b in config.backends:
        backends[b.name] = _backend_entry(config, b, raw[b.name], model, decoded, ground_truths)
    _add_speedups(backends, reference)
    onnx_info = model["onnx"]
    return {
        "schema_version": SCHEMA_VERSION,
        "version": config.version,
        "title": config.title,
        "locale": config.locale,
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reportgen_version": __version__,
        "config": config.model_dump(mode="json"),
        "config_path": config_path,
        "environment": env,
        "model": {
            "name": config.model.name,
            "task": config.model.task,
            "source": config.model.source,
            "parameters": model["parameters"],
            "input_shape": model["input_shape"],
            "class_names": model["class_names"],
            "checkpoint": model["checkpoint"],
            "onnx": onnx_info,
        },
        "dataset": {
            "source": config.dataset.source,
            "seed": config.dataset.seed,
            "images": len(samples),
            "image_size": config.model.input_size,
            "objects": int(sum(len(s.classes) for s in samples)),
            "labelled": True,
        },
        "reference": reference,
        "backend_order": [b.name for b in config.backends],
        "backends": backends,
        "examples": _examples(decoded, backends, reference, model["class_names"]),
    }


def _decode(raw: dict, config: Config, num_classes: int) -> dict:
    """Return the raw outputs and the detections of every image, decoded by the shared task code."""
    with np.load(raw["job"]["outputs_path"]) as data:
        outputs = {name: data[name] for name in data.files}
    p = config.postprocess
    detections = [
        segmentation.decode(
            outputs["output0"][i : i + 1],
            outputs["output1"][i : i + 1],
            num_classes,
            p.conf_threshold,
            p.iou_threshold,
            p.max_detections,
            p.mask_threshold,
        )
        for i in range(len(outputs["output0"]))
    ]
    return {"outputs": outputs, "detections": detections}


def _backend_entry(config, backend, raw, model, decoded, ground_truths) -> dict:
    kind_file = model["checkpoint"] if backend.kind == "pytorch" else model["onnx"]
    entry = {
        "kind": backend.kind,
        "status": raw["status"],
        "error": raw.get("error"),
        "threads": config.threads_for(backend),
        "settings": raw.get("job", {}).get("settings", {}),
        "file_size_mb": kind_file.get("size_mb"),
        "weight_dtype": kind_file.get("dtype"),
        "load_ms": None,
        "first_inference_ms": None,
        "warmup_ms": None,
        "latency_ms": None,
        "fps": None,
        "memory_mb": None,
        "metrics": None,
        "parity": None,
        "speedup": None,
        "speedup_interval": None,
    }
    if raw["status"] != "ok":
        return entry
    latency = timing.summarize(raw["latency_samples_ms"])
    warmup = raw["warmup_samples_ms"]
    entry.update(
        {
            "threads": raw["threads"],
            "settings": {**entry["settings"], **raw["runtime"]},
            "load_ms": raw["load_ms"],
            "first_inference_ms": raw["first_inference_ms"],
            "warmup_ms": {k: timing.summarize(warmup)[k] for k in ("median", "mean", "max", "n")}
            if warmup
            else None,
            "latency_ms": latency,
            "fps": 1000.0 / latency["median"],
            "memory_mb": raw["memory_mb"],
            "metrics": metrics.evaluate(decoded[backend.name]["detections"], ground_truths),
        }
    )
    reference = decoded.get(config.reference)
    if backend.name != config.reference and reference is not None:
        entry["parity"] = _parity(config, reference, decoded[backend.name])
    return entry


def _parity(config: Config, reference: dict, candidate: dict) -> dict:
    p = config.parity
    outputs = parity.compare_outputs(reference["outputs"], candidate["outputs"], p.atol, p.rtol, p.rel_floor)
    dets = parity.compare_detections(
        reference["detections"],
        candidate["detections"],
        p.match_iou,
        config.postprocess.conf_threshold,
        p.near_threshold_band,
    )
    return {**outputs, **dets, "atol": p.atol, "rtol": p.rtol}


def _add_speedups(backends: dict, reference: str) -> None:
    ref = backends.get(reference)
    if not ref or ref["status"] != "ok":
        return
    for name, entry in backends.items():
        if name == reference or entry["status"] != "ok":
            continue
        ref_samples, samples = ref["latency_ms"]["samples"], entry["latency_ms"]["samples"]
        entry["speedup"] = ref["latency_ms"]["median"] / entry["latency_ms"]["median"]
        entry["speedup_interval"] = timing.speedup_interval(ref_samples, samples)


def _examples(decoded: dict, backends: dict, reference: str, class_names: list[str]) -> list[dict]:
    """Pick images worth showing: where a backend disagrees with the reference first, then the first ones."""
    chosen: list[tuple[int, str]] = []
    for name, entry in backends.items():
        for index in (entry.get("parity") or {}).get("disagreeing_images", []):
            if index not in [c[0] for c in chosen]:
                chosen.append((index, f"{name} disagrees with {reference}"))
    n_images = len(next(iter(decoded.values()))["detections"]) if decoded else 0
    for index in range(n_images):
        if len(chosen) >= EXAMPLES:
            break
        if index not in [c[0] for c in chosen]:
            chosen.append((index, "agreement sample"))
    return [
        {
            "image": index,
            "reason": reason,
            "detections": {
                name: _detections_json(d["detections"][index], class_names) for name, d in decoded.items()
            },
        }
        for index, reason in chosen[:EXAMPLES]
    ]


def _detections_json(dets, class_names) -> list[dict]:
    return [
        {
            "box": [round(float(v), 2) for v in box],
            "score": round(float(score), 5),
            "class_id": int(c),
            "class_name": class_names[int(c)],
        }
        for box, score, c in zip(dets.boxes, dets.scores, dets.classes)
    ]
