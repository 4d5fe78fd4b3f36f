"""Orchestrate a run: data set, export, one fresh worker process per backend, then evaluation.

The parent never imports torch or onnxruntime: workers export, quantize and measure; the parent
hands their raw outputs to ``evaluate`` (numpy) and assembles the results document.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from reportgen.config.schema import BackendConfig, Config
from reportgen.demo.shapes import make_dataset
from reportgen.errors import ConfigError
from reportgen.measure import datasets, environment, evaluate, inputs, process, rounds, slices
from reportgen.measure.datasets import Dataset
from reportgen.measure.inputs import store_inputs
from reportgen.measure.tasks import check_outputs, task_module, task_settings
from reportgen.results.document import check_invariants

Progress = Callable[[str], None]


def run(
    config: Config, work_dir: Path, config_path: str | None = None, progress: Progress = lambda _: None
) -> dict:
    """Measure every backend of ``config`` and return the checked results document."""
    # A fresh work folder: files left by an earlier run of this label (an INT8 model of another
    # model, an export's .onnx.data) must never be measured as this run's.
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    env = environment.capture(config.measurement.threads)  # before we load the CPU ourselves
    env["cpu_mhz"] = environment.cpu_mhz()
    contention = environment.CpuContention()
    data, common, model = prepare(config, work_dir, config_path, progress)
    files = {b.name: _model_file(config, b, model, work_dir, progress) for b in config.backends}
    raw, timing = _measure(config, files, common, work_dir, progress)
    if config.measurement.profile:
        _profile(config, raw, model, work_dir, progress)
    env |= {"other_cpu_share": contention.other_share(), "steal_share": contention.steal_share()}
    progress("decoding outputs, computing metrics and parity")
    document = evaluate.document(config, config_path, env, model, data, raw, files, timing)
    _localize_divergence(config, document, common, files, work_dir, progress)
    check_invariants(document)
    return document


def prepare(
    config: Config, work_dir: Path, config_path: str | None = None, progress: Progress = lambda _: None
) -> tuple[Dataset, dict, dict]:
    """Do what a run does before its first round, the preflight (also `validate --deep`): the
    evaluation inputs stored in ``work_dir``, the export worker (the reference called on them at every
    batch size, the export and its one call) and the task's check of the outputs. Return the data set,
    the part of every worker job they share, and the export's description. A config mistake they reveal
    raises ConfigError (one line, exit 2) before anything is timed."""
    progress(f"loading {config.dataset.images} evaluation inputs ({config.dataset.source})")
    data = datasets.load(config)
    for warning in data.warnings:
        progress(f"warning: {warning}")
    dataset_path = work_dir / "dataset"
    # a rect letterbox (pytorch only) is made by the backend itself, from the images as read
    rect = any(b.kind == "pytorch" and b.letterbox == "rect" for b in config.backends)
    store_inputs(data.images, data.samples, data.sources if rect else [], dataset_path)
    common: dict[str, Any] = {
        "task": config.model.task,
        "task_settings": task_settings(config),
        "dataset_path": str(dataset_path),
        "model": _model_job(config, config_path),
        "inputs": inputs.specs(config),
    }
    model = _export(config, common, work_dir, progress, config_path)
    common["output_names"] = model["output_names"]  # every runtime names its outputs as PyTorch does
    # An output layout the task cannot read is said now, in one line, not as a KeyError after the rounds;
    # a model that could not be loaded has no outputs to check: its load error is the run's data.
    if model.get("status") != "failed":
        check_outputs(config.model.task, model["output_names"], common["task_settings"])
    return data, common, model


def unmeasured(document: Mapping[str, Any]) -> str | None:
    """Return why a run could not measure what it was asked (exit 1), or None.

    The reference failing leaves nothing to compare with; every other backend failing leaves nothing
    compared. The results and the report are still written: the failures are data, the exit code
    tells CI.
    """
    backends, ref = document["backends"], document["reference"]
    if backends[ref]["status"] == "unavailable":
        return f"the reference {ref} is not available on this machine: {backends[ref]['error']}"
    if backends[ref]["status"] != "ok":
        return f"the reference {ref} failed: {backends[ref]['error']}"
    # A backend this machine cannot run (no GPU) is not a failure: it neither fails the run nor counts.
    others = [n for n in document["backend_order"] if n != ref and backends[n]["status"] != "unavailable"]
    if others and all(backends[n]["status"] != "ok" for n in others):
        # The first one's error says why (a failed export's key line, shared by every backend it blocked).
        return f"every backend but the reference failed ({', '.join(others)}): {backends[others[0]]['error']}"
    return None


def _model_job(config: Config, config_path: str | None) -> dict:
    """Return the model section for workers, with the config file's folder on the factory's import path."""
    model = config.model.model_dump(mode="json")
    if config_path:
        model["python_path"] = [*model["python_path"], str(Path(config_path).resolve().parent)]
    return model


def _export(
    config: Config, common: dict, work_dir: Path, progress: Progress, config_path: str | None
) -> dict:
    source = (
        f"checking {config.export.onnx_file}"
        if config.export.onnx_file
        else (f"exporting ONNX ({config.export.exporter} exporter, opset {config.export.opset})")
    )
    progress(
        f"loading the {config.model.source} model, {source}, counting FLOPs, probing the CPU's matmul peak"
    )
    needs_torchscript = any(b.kind == "torchscript" for b in config.backends)
    job = {
        **common,
        "job": "export",
        "onnx_path": str(work_dir / "model.onnx"),
        "onnx_file": config.export.onnx_file,
        "exporter": config.export.exporter,
        "opset": config.export.opset,
        "dynamic_batch": config.measurement.batch_sizes != [1],
        "batch_sizes": config.measurement.batch_sizes,  # the preflight calls the reference at each
        "threads": config.measurement.threads,
        "torchscript_path": str(work_dir / "model.torchscript.pt") if needs_torchscript else None,
    }
    result = process.run_job(
        job, work_dir / "export", config.measurement.timeout_s, config.measurement.threads
    )
    if "onnx" not in result:  # without a loadable model there is nothing to compare
        where = f"{config_path}: " if config_path else ""
        if result.get("config_error"):  # the model and the config disagree: bad input, said as such
            raise ConfigError(f"{where}{result['error']}")
        # Exit 1 still writes the results and the report (README): a model that cannot be loaded is
        # data. Every backend then fails on it (the reference's own worker says why, as here).
        return _unloaded(
            common, job, f"the {config.model.source} model could not be loaded: {result['error']}"
        )
    return result


def _unloaded(common: dict, job: dict, error: str) -> dict:
    """Return the export's description of a model that could not be loaded: nothing but its inputs."""
    onnx = {
        "status": "failed",
        "error": error,
        "path": None,
        "exporter": job["exporter"],
        "opset": job["opset"],
    }
    return {
        "status": "failed",
        "error": error,
        "parameters": 0,
        "class_names": None,
        "input_shape": inputs.item_shape(common["inputs"][0]),
        "inputs": common["inputs"],
        "output_names": [],
        "checkpoint": None,
        "flops": None,
        "peak_gflops": None,
        "onnx": onnx,
        "torchscript": {"status": "failed", "error": error, "path": job["torchscript_path"]},
    }


def _model_file(
    config: Config, backend: BackendConfig, model: dict, work_dir: Path, progress: Progress
) -> dict:
    """Return the file a backend loads (path, size, dtypes, status), quantizing it first if asked."""
    if backend.from_source:
        return {
            **(model["checkpoint"] or {"path": None, "size_mb": None, "dtype": None, "dtypes": None}),
            "status": "ok",
            "error": None,
        }
    made, what = (
        (model["torchscript"], "TorchScript trace")
        if backend.kind == "torchscript"
        else (model["onnx"], "ONNX export")
    )
    if made["status"] != "ok":
        return {**made, "error": f"{what} failed: {made['error']}"}
    if backend.kind != "onnxruntime":  # torchscript, openvino: the trace or the export as made
        return made
    if backend.precision == "fp16":
        return _fp16_file(config, model, work_dir, progress)
    if backend.quantization == "none":
        return made
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
            "inputs": inputs.specs(config),
        }
        result = process.run_job(
            job, target.with_suffix(""), config.measurement.timeout_s, config.measurement.threads
        )
        if result["status"] != "ok":
            return {
                "status": "failed",
                "error": f"INT8 quantization failed: {result['error']}",
                "path": str(target),
            }
    from reportgen.measure.modelfile import describe_onnx  # imports onnx: only when quantizing

    return {**describe_onnx(target), "status": "ok", "error": None, "quantization": backend.quantization}


def _fp16_file(config: Config, model: dict, work_dir: Path, progress: Progress) -> dict:
    """Return the FP16 conversion of the export, made once per run in a worker (worker/fp16.py)."""
    target = work_dir / "model.fp16.onnx"
    if not target.exists():
        progress("converting the export to FP16 (onnxconverter-common)")
        job = {"job": "fp16", "onnx_path": model["onnx"]["path"], "output_path": str(target)}
        stem, m = target.with_suffix(""), config.measurement
        result = process.run_job(job, stem, m.timeout_s, m.threads)
        if result["status"] != "ok":
            return {
                "status": "failed",
                "error": f"FP16 conversion failed: {result['error']}",
                "path": str(target),
            }
    from reportgen.measure.modelfile import describe_onnx  # imports onnx: only when converting

    return {**describe_onnx(target), "status": "ok", "error": None, "precision": "fp16"}


def _calibration_inputs(config: Config, count: int, work_dir: Path) -> str:
    """Write calibration tensors that are not evaluation inputs where the source allows it.

    Synthetic: generated images after the evaluation set. Random: another seed. A folder (or a text
    file): its first images (lines); it has no held-out part: the report's accuracy is then slightly
    optimistic for INT8.
    """
    path = work_dir / f"calibration-{count}.npz"
    # The size the data set is drawn at: a Hugging Face image processor's when the config leaves it.
    task, settings = task_module(config.model.task), task_settings(config)
    size = settings["input_size"]
    if config.dataset.source == "random":
        samples: dict[str, Any] = inputs.generate(config, count, config.dataset.seed + 1)
        np.savez(path, **samples)  # (numpy's stub reads **arrays as allow_pickle: typed Any)
        return str(path)
    if config.dataset.source == "text":  # lines have no held-out part either: the first ones
        lines = datasets.load(config).samples or {}
        first: dict[str, Any] = {name: values[:count] for name, values in lines.items()}
        np.savez(path, **first)
        return str(path)
    if config.dataset.source == "synthetic":
        images = [
            s.image for s in make_dataset(config.dataset.seed, count, size, start=config.dataset.images)
        ]
    else:
        found = datasets.load(config).images
        assert found is not None  # an image folder (the other sources are handled above)
        images = list(found[:count])
    tensors = np.concatenate([task.to_tensor(image, settings) for image in images])
    arrays: dict[str, Any] = {inputs.IMAGE_INPUT: tensors[:, None]}
    np.savez(path, **arrays)
    return str(path)


def _measure(
    config: Config, files: dict, common: dict, work_dir: Path, progress: Progress
) -> tuple[dict[str, dict], dict]:
    """Time every runnable backend in rounds of paired slices; return each one's raw and the record of
    how the measurement went (measure/slices.py)."""
    raw = {b.name: {"status": "failed", "error": files[b.name]["error"]} for b in config.backends}
    jobs = {}
    for b in config.backends:
        if files[b.name]["status"] == "ok":
            job, timeout = _backend_job(config, b, files[b.name], common, work_dir)
            jobs[b.name] = (job, work_dir / b.name, job["threads"], timeout)
    if config.reference not in jobs:  # nothing to pair with: the reference's failure is the data
        return raw, {"design": "paired-slices", "rounds": 0, "stopped": "reference-failed"}
    plan = slices.Plan.of(config.measurement.model_dump())
    measured, record = slices.measure(jobs, config.reference, plan, progress)
    t0 = min((s["start_ns"] for m in measured.values() for s in m.slices), default=0)
    for name, m in measured.items():
        raw[name] = m.ended or {**rounds.combine(m.rounds, m.slices, t0), "job": jobs[name][0]}
    return raw, record


def _profile(config: Config, raw: dict[str, dict], model: dict, work_dir: Path, progress: Progress) -> None:
    """Profile every timed backend once more, each in a fresh process after all the rounds, so no
    profiler ever runs beside a timed slice (measure/worker/profile.py); the result is the backend's
    ``profile``, a failed pass is recorded as such and changes nothing else."""
    folder = work_dir / "profiles"
    folder.mkdir(exist_ok=True)
    for name in (b.name for b in config.backends if raw[b.name]["status"] == "ok"):
        progress(f"profiling {name}: where its time goes")
        job = {
            **raw[name]["job"],
            "job": "profile",
            "name": name,
            "profile_dir": str(folder),
            "export_path": (model.get("onnx") or {}).get("path"),  # its scopes, where a file lost them
            "outputs_path": None,
        }
        result = process.run_job(job, folder / name, config.measurement.timeout_s, job["threads"])
        raw[name]["profile"] = result if result["status"] == "ok" else _failed_profile(result)


def _failed_profile(result: dict) -> dict:
    return {"status": "failed", "error": result.get("error") or "the profile pass failed"}


def _backend_job(
    config: Config, backend: BackendConfig, model_file: dict, common: dict, work_dir: Path
) -> tuple[dict, float]:
    """Return a backend's worker job and its timeout; its first round also runs the data set (outputs)."""
    threads = config.threads_for(backend)
    settings = {
        "warmup_iterations": config.warmup_for(backend),
        "time_load_in_latency": backend.time_load_in_latency,
        "inputs": common["inputs"],
        "output_names": common["output_names"],
        **backend.settings(),  # the kind's own keys (measure/worker/backends/<kind>_config.py)
    }
    job = {
        **common,
        "job": "backend",
        "kind": backend.kind,
        "threads": threads,
        "settings": settings,
        "model_path": common["model"] if backend.from_source else model_file["path"],
        "from_source": backend.from_source,  # the worker imports no config code (pydantic) to know
        "measurement": config.measurement.model_dump(),
        "batch_sizes": config.measurement.batch_sizes,
        "outputs_path": str(work_dir / f"{backend.name}.outputs.npz"),
    }
    if backend.kind == "torch_compile":  # one inductor cache per run: round 1 cold, later rounds reuse it
        job["env"] = {"TORCHINDUCTOR_CACHE_DIR": str(work_dir / "inductor-cache")}
    return job, backend.timeout_s or config.measurement.timeout_s


def _localize_divergence(
    config: Config, document: dict, common: dict, files: dict, work_dir: Path, progress: Progress
) -> None:
    """For an FP32 ONNX backend whose outputs differ, name the first node that diverges."""
    for name in document["backend_order"]:
        backend, entry = config.backend(name), document["backends"][name]
        parity = entry.get("parity")
        # A file of reduced precision (ours, or a user's FP16 file read as such) differs by design.
        fp32_file = files[name].get("precision", "fp32") == "fp32"
        fp32_onnx = (
            backend.kind == "onnxruntime"
            and backend.quantization == "none"
            and backend.precision == "fp32"
            and fp32_file
        )
        if not fp32_onnx or not parity or parity["allclose"] or parity.get("letterbox_differs"):
            continue
        progress(f"{name}: outputs differ, comparing intermediate tensors to find the first diverging node")
        worst = max(parity["outputs"].values(), key=lambda o: o["max_abs_diff"] or 0.0)
        job = {
            **common,
            "job": "localize",
            "onnx_path": files[name]["path"],  # the document names the file only
            "image": int((worst.get("worst_index") or [0])[0]),
            "atol": config.parity.atol,
            "rtol": config.parity.rtol,
        }
        parity["first_divergence"] = process.run_job(
            job, work_dir / f"{name}.localize", config.measurement.timeout_s, config.measurement.threads
        )
