"""Export the PyTorch model to one self-contained ONNX file and describe both files.

Runs inside a worker process (it imports torch). The dynamo exporter is the default; it writes
weights to a separate ``.onnx.data`` file unless ``external_data=False`` (FACTS.md), and at opset 17
it wrote a model ORT rejects, so the config's default opset is 18.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import time
from pathlib import Path

import onnx
import torch

from reportgen.errors import ConfigError
from reportgen.measure.inputs import batch_axis, item_shape, make_batch, read_inputs
from reportgen.measure.modelfile import describe_onnx, onnx_inputs
from reportgen.measure.tasks import shape_problem
from reportgen.measure.worker import preflight, signature
from reportgen.measure.worker.efficiency import count_flops, matmul_peak_gflops
from reportgen.measure.worker.models import arguments, describe_file, load_model, named_outputs


def export_model(job: dict) -> dict:
    """Export ``job['checkpoint']`` to ``job['onnx_path']``; return model and file descriptions.

    Also traces a TorchScript file when a backend needs one, counts the model's FLOPs and probes the
    machine's matmul peak with the run's thread count (torch is loaded here anyway).
    """
    loaded = load_model(job["model"])
    model, specs = loaded.module, job["inputs"]
    given = job.get("onnx_file")
    signature.check(model, specs, onnx_inputs(given) if given else None)
    samples = read_inputs(job, limit=2)
    # Preflight (issue 20): the reference runs once at every batch size before anything else, so a
    # config mistake is one line naming its key, seconds after the start.
    example = preflight.check_reference(model, samples, job)
    with torch.inference_mode():
        outputs = named_outputs(model(*example[0], **example[1]))
    names = list(outputs)
    shapes = {name: list(tensor.shape) for name, tensor in outputs.items()}
    problem = shape_problem(job["task"], shapes, job["task_settings"])
    if problem:
        raise ConfigError(problem)
    description = {
        "status": "ok",
        "parameters": sum(p.numel() for p in model.parameters()),
        "class_names": loaded.class_names,
        "input_shape": item_shape(specs[0]),
        "inputs": specs,
        "output_names": names,
        "checkpoint": loaded.checkpoint,
        "flops": _flops(model, example),
        "peak_gflops": matmul_peak_gflops(job["threads"]),
    }
    # A dynamic batch axis is exported from a batch of 2: an example of 1 lets the exporter fix it at 1.
    exported = arguments(make_batch(samples, specs, 2), specs) if job["dynamic_batch"] else example
    description["onnx"] = _onnx(model, exported, names, job)
    # A given file may name its classes (Ultralytics' metadata) where the torch model does not.
    description["class_names"] = loaded.class_names or description["onnx"].get("class_names")
    onnx_entry = description["onnx"]
    if onnx_entry["status"] == "ok":
        onnx_entry["inputs"] = signature.onnx_binding(onnx_entry["path"], specs, model)
        # One call of the export before any timing: a file ONNX Runtime refuses fails here, once, for
        # every backend that loads it. A given file is the user's: its backends say what they can run.
        size = (job.get("batch_sizes") or [1])[0]
        refused = (
            None
            if given
            else preflight.check_file(onnx_entry["path"], onnx_entry["inputs"], samples, specs, size)
        )
        if refused:
            description["onnx"] = {**onnx_entry, "status": "failed", "error": refused}
    if job.get("torchscript_path"):
        description["torchscript"] = _torchscript(model, example, Path(job["torchscript_path"]))
    return description


def _flops(model, example: tuple[tuple, dict]) -> int | None:
    """Count FLOPs of one sample where torch's counter can trace the model (not every scripted module)."""
    try:
        return count_flops(model, *example)
    except Exception:  # an uncountable model is still comparable; the efficiency finding is skipped
        return None


def _onnx(model, example, names: list[str], job: dict) -> dict:
    """Export (or take the user's existing file) and check it; a failure is recorded, not raised."""
    given = job.get("onnx_file")
    path = Path(given or job["onnx_path"])
    common = {
        "exporter": "existing file" if given else job["exporter"],
        "opset": job["opset"],
        "path": str(path),
    }
    started = time.perf_counter()
    try:
        if not given:
            _export(model, example, path, names, job)
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:  # an export failure is data: the reference backend still runs
        # The full text goes to the log (export.log beside the job); the results keep its key lines.
        print(preflight.plain(_chain(e)), file=sys.stderr)
        error = export_error(e, model, job["inputs"])
        if not given and job["exporter"] == "dynamo":  # e.g. Swin's views: the TorchScript tracer exports it
            error += " (export.exporter: legacy, the TorchScript-based exporter, may export this model)"
        return {**common, "status": "failed", "error": error}
    opset = next(
        (
            o.version
            for o in onnx.load(str(path), load_external_data=False).opset_import
            if o.domain in ("", "ai.onnx")
        ),
        job["opset"],
    )
    return {
        **common,
        "opset": opset,
        "status": "ok",
        "error": None,
        "export_s": None if given else time.perf_counter() - started,
        **describe_onnx(path),
    }


def export_error(error: BaseException, model, specs: list[dict]) -> str:
    """Return an exporter's failure reduced to the lines that say what failed, in config terms.

    torch.onnx wraps torch.export's error in a page of advice and colour codes; the cause is the last
    exception of the chain. A dynamic_shapes mismatch names forward()'s parameters: said against the
    config's ``model.inputs`` names.
    """
    text = preflight.plain(_chain(error))
    shapes = re.search(
        r"must be the arg names (\[[^\]]*\]) of `inputs`, but here they are (\[[^\]]*\])", text
    )
    if shapes:
        forward, given = shapes.groups()
        names = [s["name"] for s in specs]
        return (
            f"torch.export failed: dynamic_shapes names {given} against forward's {forward} "
            f"(the names of model.inputs: {names}; a keyword input must be one of forward()'s own "
            "arguments, not one taken through **kwargs)"
        )
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    lines = [line.strip() for line in preflight.plain(str(root)).splitlines() if line.strip()]
    cause = f"{type(root).__name__}: {' '.join(lines[:2])}"[:400]
    if root is error:
        return cause
    head = next((line.strip() for line in preflight.plain(str(error)).splitlines() if line.strip()), "")
    head = head.split(". ")[0].rstrip(".")  # "Failed to export the model with torch.export", not its advice
    return f"{head[:200]}: {cause}"


def _chain(error: BaseException) -> str:
    """Return the text of an exception and of every cause under it."""
    parts = []
    link: BaseException | None = error
    while link is not None:
        parts.append(f"{type(link).__name__}: {link}")
        link = link.__cause__
    return "\n".join(parts)


def _torchscript(model, example: tuple[tuple, dict], path: Path) -> dict:
    """Trace the model to a TorchScript file; a failure is recorded, not raised."""
    args, kwargs = example
    try:
        with torch.no_grad():
            if kwargs:
                traced = torch.jit.trace(model, example_kwarg_inputs=kwargs, check_trace=False)
            else:
                traced = torch.jit.trace(model, args, check_trace=False)
        traced.save(str(path))
    except Exception as e:
        return {
            "status": "failed",
            "error": " ".join(preflight.plain(f"{type(e).__name__}: {e}").split())[:2000],
            "path": str(path),
        }
    return {"status": "ok", "error": None, **describe_file(str(path), traced.state_dict().values())}


def _export(model, example: tuple[tuple, dict], path: Path, names: list[str], job: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    args, kwargs = example
    # Only tensors are named: dynamo bakes a Python scalar in, the legacy exporter may keep it as an
    # input of its own name (bound by position, signature.onnx_binding).
    specs = [s for s in job["inputs"] if s["shape"]]
    options = dict(input_names=[s["name"] for s in specs], output_names=names, opset_version=job["opset"])
    if job["exporter"] == "dynamo":
        shapes = signature.dynamic_shapes(model, job["inputs"]) if job["dynamic_batch"] else None
        options |= dict(dynamo=True, external_data=False, verbose=False, dynamic_shapes=shapes)
    else:
        axes = {s["name"]: {batch_axis(s): "batch"} for s in specs if batch_axis(s) is not None}
        options |= dict(dynamo=False, dynamic_axes=axes if job["dynamic_batch"] else None)
    # The exporters print progress and advice to stdout; keep the worker's output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        torch.onnx.export(model, args, str(path), kwargs=kwargs or None, **options)
    leftovers = list(path.parent.glob(path.name + ".data"))
    if leftovers:
        raise RuntimeError(
            f"exporter wrote external data ({leftovers[0].name}); expected one self-contained file"
        )
