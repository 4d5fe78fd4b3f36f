"""Turn the workers' raw measurements into the results document (numpy only, no runtime imported).

Every backend's raw outputs are decoded by the same task code, scored against the ground truth and
compared with the reference; latency samples become summaries and bootstrap speed-up intervals.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from reportgen import __version__, stats
from reportgen.config.schema import Config
from reportgen.measure import examples, parity, tasks
from reportgen.measure.datasets import Dataset
from reportgen.measure.tasks import task_module, task_settings
from reportgen.results.document import SCHEMA_VERSION


def document(
    config: Config, config_path, env: dict, model: dict, data: Dataset, raw: dict, files: dict, timing: dict
) -> dict:
    """Return the results document (without findings) of one run."""
    settings = task_settings(config)
    raw = {name: _reject_nonfinite(r) for name, r in raw.items()}
    decoded = _decode_all(raw, config.model.task, settings, data)
    backends = {
        b.name: _backend_entry(config, b, raw[b.name], files[b.name], decoded, data, settings)
        for b in config.backends
    }
    _add_speed(backends, config.reference, model, config.measurement.batch_sizes[0])
    if config.measurement.batch_sizes != [1]:
        for b in config.backends:
            backends[b.name]["by_batch_size"] = _by_batch_size(config, raw[b.name])
    class_names = config.model.class_names or model.get("class_names") or data.class_names
    return {
        "schema_version": SCHEMA_VERSION,
        "version": config.version,
        "title": config.title,
        "locale": config.locale,
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reportgen_version": __version__,
        "config": config.model_dump(mode="json"),
        "config_path": _shown(config_path),
        "environment": {**env, "peak_gflops": model.get("peak_gflops")},
        "model": {
            "name": config.model.name,
            "task": config.model.task,
            "source": config.model.source,
            "parameters": model["parameters"],
            "flops": model.get("flops"),
            "input_shape": model["input_shape"],
            "inputs": model.get("inputs"),
            "input_binding": (model["onnx"] or {}).get("inputs"),
            "output_names": model.get("output_names"),
            "class_names": class_names,
            "checkpoint": _named(model["checkpoint"]),
            "onnx": _named(model["onnx"]),
        },
        "dataset": _named({**data.info, "warnings": data.warnings}),
        "reference": config.reference,
        "backend_order": [b.name for b in config.backends],
        "backends": backends,
        "timing": timing,
        "examples": examples.pick(data, decoded, backends, config.reference, class_names or [])
        if config.model.task in ("detection", "segmentation", "set_detection")  # their predictions are boxes
        else [],
    }


def _shown(path: str | None) -> str | None:
    """Return a file's name only: the document is published, the build machine's folders are not."""
    return Path(path).name if path else None


def _named(entry: dict | None) -> dict | None:
    """Return a copy of an entry whose ``path`` is shown by its name only."""
    return {**entry, "path": _shown(entry.get("path"))} if entry else entry


def _reject_nonfinite(raw: dict) -> dict:
    """Fail a backend whose outputs hold NaN or inf: its answers are broken, not different."""
    if raw["status"] != "ok":
        return raw
    with np.load(raw["job"]["outputs_path"]) as stored:
        bad = sum(int((~np.isfinite(stored[name])).sum()) for name in stored.files)
    if not bad:
        return raw
    return {**raw, "status": "failed", "error": f"its outputs hold {bad} NaN or infinite values"}


def _decode_all(raw: dict, task: str, settings: dict, data: Dataset) -> dict:
    """Return every successful backend's decoded outputs. A backend whose outputs the task cannot
    decode fails with why, in ``raw`` (exit 1 still writes the results and the report), instead of
    ending the run in a traceback after every round was measured."""
    decoded = {}
    for name, r in raw.items():
        if r["status"] != "ok":
            continue
        try:
            decoded[name] = _decode(r, task, settings, data)
        except Exception as e:  # noqa: BLE001 - whatever the decoder raises is this backend's failure
            error = f"its outputs could not be decoded as task {task}: {type(e).__name__}: {e}"
            raw[name] = {**r, "status": "failed", "error": error[:500]}
    return decoded


def _decode(raw: dict, task: str, settings: dict, data: Dataset) -> dict:
    """Return the raw outputs and every image's prediction, decoded by the shared task code.

    A backend with its own rect letterbox gets non-square outputs per image (name@i); its predictions
    are moved into the square letterbox's coordinates so they compare with everyone else's.
    """
    with np.load(raw["job"]["outputs_path"]) as stored:
        outputs = {name: stored[name] for name in stored.files}
    module = task_module(task)
    if raw["job"]["settings"].get("letterbox") != "rect":
        count = len(next(iter(outputs.values())))
        per_image = [{k: v[i : i + 1] for k, v in outputs.items()} for i in range(count)]
        return {"outputs": outputs, "predictions": [module.decode(o, settings) for o in per_image]}
    predictions = []
    for i, source in enumerate(data.sources):
        image_outputs = _image_outputs(outputs, i)
        canvas, rect_meta = module.prepare(source, settings["input_size"], rect=True)
        square_meta = module.prepare(source, settings["input_size"])[1]
        prediction = module.decode(image_outputs, {**settings, "tensor_hw": canvas.shape[:2]})
        predictions.append(module.rect_to_square(prediction, rect_meta, square_meta, settings["input_size"]))
    return {"outputs": None, "predictions": predictions}


def _image_outputs(outputs: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    """Return image i's outputs: ``name@i`` where shapes vary per image, else row i of the stack."""
    names = {key.split("@")[0] for key in outputs}
    return {n: outputs[f"{n}@{i}"] if f"{n}@{i}" in outputs else outputs[n][i : i + 1] for n in names}


def _backend_entry(
    config: Config, backend, raw: dict, model_file: dict, decoded: dict, data: Dataset, settings: dict
) -> dict:
    entry = {
        "kind": backend.kind,
        "status": raw["status"],
        "error": raw.get("error"),
        "threads": config.threads_for(backend),
        "settings": raw.get("job", {}).get("settings", {}),
        "model_path": _shown(model_file.get("path")),
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
        "rounds": None,
        "slices": None,
        "profile": raw.get("profile"),
    }
    if raw["status"] != "ok":
        return entry
    latency = stats.summarize_rounds(raw["latency_rounds_ms"], [s["n"] for s in raw["slices"]])
    warmup = raw["warmup_samples_ms"]
    task = task_module(config.model.task)
    entry.update(
        {
            "threads": raw["threads"],
            "settings": {**entry["settings"], **raw["runtime"]},
            "load_ms": raw["load_ms"],
            "first_inference_ms": raw["first_inference_ms"],
            "warmup_ms": {k: stats.summarize(warmup)[k] for k in ("median", "mean", "max", "n")}
            if warmup
            else None,
            "latency_ms": latency,
            "rounds": raw["rounds"],
            "slices": raw["slices"],
            "other_cpu_share": raw["other_cpu_share"],
            "steal_share": raw["steal_share"],
            "fps": config.measurement.batch_sizes[0] * 1000.0 / latency["median"],  # items per second
            "memory_mb": raw["memory_mb"],
            "metrics": task.evaluate(decoded[backend.name]["predictions"], data.truths, settings),
            "answers": _answers(decoded[backend.name], config.model.task),
        }
    )
    reference = decoded.get(config.reference)
    if backend.name != config.reference and reference is not None:
        entry["parity"] = _parity(config, task, reference, decoded[backend.name], settings)
    return entry


def _answers(decoded: dict, task: str) -> dict:
    """Return whether a backend's answers vary over the samples: constant outputs, or one top-1 class
    for every sample, leave nothing for an agreement to be judged on (analysis/nothing.py)."""
    outputs, predictions = decoded["outputs"], decoded["predictions"]
    constant = None  # one sample, or outputs whose shapes vary per sample: not known
    if outputs is not None and len(predictions) > 1:
        constant = all(bool((v == v[:1]).all()) for v in outputs.values())
    top1 = None  # how many classes are ever the answer: of a sample (classification), of a pixel
    if task == "classification":
        top1 = len({int(np.argmax(p)) for p in predictions})
    elif task == "semantic_segmentation" and predictions:
        top1 = len(np.unique(np.concatenate([p.ravel() for p in predictions])))
    return {"samples": len(predictions), "constant_outputs": constant, "distinct_top1": top1}


def _parity(config: Config, task, reference: dict, candidate: dict, settings: dict) -> dict:
    p = config.parity
    if reference["outputs"] is None or candidate["outputs"] is None:  # rect vs square: other tensor shapes
        outputs: dict[str, Any] = {
            "outputs": {},
            "max_abs_diff": None,
            "max_rel_diff": None,
            "cosine_min": None,
            "allclose": False,
            "letterbox_differs": True,
        }
    else:
        judged = tasks.judged(reference["outputs"], settings)
        outputs = parity.compare_outputs(
            reference["outputs"], candidate["outputs"], p.atol, p.rtol, p.rel_floor, judged
        )
    agreement = task.compare(reference["predictions"], candidate["predictions"], settings)
    return {**outputs, **agreement, "atol": p.atol, "rtol": p.rtol, "first_divergence": None}


def _by_batch_size(config: Config, raw: dict) -> dict:
    """Return latency, throughput (items/s) and peak memory at every batch size, or why it is missing."""
    if raw["status"] != "ok":
        return {
            str(size): {"status": "failed", "error": raw.get("error")}
            for size in config.measurement.batch_sizes
        }
    first = str(config.measurement.batch_sizes[0])
    measured = {
        first: {
            "status": "ok",
            "latency_rounds_ms": raw["latency_rounds_ms"],
            "peak_mb": raw["memory_mb"]["peak"],
        },
        **raw["by_batch_size"],
    }
    return {size: _batch_entry(int(size), m) for size, m in measured.items()}


def _batch_entry(size: int, measured: dict) -> dict:
    if measured["status"] != "ok":
        return {"status": measured["status"], "error": measured["error"]}
    latency = stats.summarize_rounds(measured["latency_rounds_ms"])
    latency.pop("samples")  # the headline batch keeps its samples; these are summaries
    return {
        "status": "ok",
        "error": None,
        "latency_ms": latency,
        "throughput_per_s": size * 1000.0 / latency["median"],
        "memory_mb": measured["peak_mb"],
    }


def _add_speed(backends: dict, reference: str, model: dict, batch_size: int) -> None:
    """Add achieved GFLOP/s to every backend. Speed-ups are judged when a document is read
    (analysis/finding.speedup_of, issue 19), not stored."""
    for entry in backends.values():
        if entry["status"] == "ok" and model.get("flops"):  # counted for one sample
            entry["gflops"] = batch_size * model["flops"] / (entry["latency_ms"]["median"] / 1000) / 1e9
