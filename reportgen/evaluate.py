"""Turn the workers' raw measurements into the results document (numpy only, no runtime imported).

Every backend's raw outputs are decoded by the same task code, scored against the ground truth and
compared with the reference; latency samples become summaries and bootstrap speed-up intervals.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from reportgen import __version__, examples, metrics, parity, timing
from reportgen.config import Config
from reportgen.detections import GroundTruth
from reportgen.results import SCHEMA_VERSION
from reportgen.tasks import segmentation


def document(config: Config, config_path, env: dict, model: dict, samples, raw: dict, files: dict) -> dict:
    """Return the results document (without findings) of one run."""
    decoded = {
        name: _decode(r, config, len(model["class_names"])) for name, r in raw.items() if r["status"] == "ok"
    }
    truths = [GroundTruth(boxes=s.boxes, classes=s.classes, masks=s.masks) for s in samples]
    backends = {
        b.name: _backend_entry(config, b, raw[b.name], files[b.name], decoded, truths)
        for b in config.backends
    }
    _add_speed(backends, config.reference, model)
    env = {**env, "peak_gflops": model.get("peak_gflops")}
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
            "flops": model.get("flops"),
            "input_shape": model["input_shape"],
            "class_names": model["class_names"],
            "checkpoint": model["checkpoint"],
            "onnx": model["onnx"],
        },
        "dataset": {
            "source": config.dataset.source,
            "seed": config.dataset.seed,
            "images": len(samples),
            "image_size": config.model.input_size,
            "objects": int(sum(len(s.classes) for s in samples)),
            "labelled": True,
        },
        "reference": config.reference,
        "backend_order": [b.name for b in config.backends],
        "backends": backends,
        "examples": examples.pick(samples, decoded, backends, config.reference, model["class_names"]),
    }


def _decode(raw: dict, config: Config, num_classes: int) -> dict:
    """Return the raw outputs and every image's detections, decoded by the shared task code."""
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


def _backend_entry(config: Config, backend, raw: dict, model_file: dict, decoded: dict, truths) -> dict:
    entry = {
        "kind": backend.kind,
        "status": raw["status"],
        "error": raw.get("error"),
        "threads": config.threads_for(backend),
        "settings": raw.get("job", {}).get("settings", {}),
        "model_path": model_file.get("path"),
        "file_size_mb": model_file.get("size_mb"),
        "weight_dtype": model_file.get("dtype"),
        "weight_dtypes": model_file.get("dtypes"),
        "load_ms": None,
        "first_inference_ms": None,
        "warmup_ms": None,
        "latency_ms": None,
        "fps": None,
        "gflops": None,
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
            "metrics": metrics.evaluate(decoded[backend.name]["detections"], truths),
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
    return {**outputs, **dets, "atol": p.atol, "rtol": p.rtol, "first_divergence": None}


def _add_speed(backends: dict, reference: str, model: dict) -> None:
    """Add achieved GFLOP/s to every backend and speed-ups with bootstrap intervals to candidates."""
    ref = backends.get(reference)
    for name, entry in backends.items():
        if entry["status"] != "ok":
            continue
        if model.get("flops"):
            entry["gflops"] = model["flops"] / (entry["latency_ms"]["median"] / 1000) / 1e9
        if name == reference or not ref or ref["status"] != "ok":
            continue
        entry["speedup"] = ref["latency_ms"]["median"] / entry["latency_ms"]["median"]
        entry["speedup_interval"] = timing.speedup_interval(
            ref["latency_ms"]["samples"], entry["latency_ms"]["samples"]
        )
