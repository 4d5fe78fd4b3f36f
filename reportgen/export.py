"""Export the PyTorch checkpoint to one self-contained ONNX file and describe both files.

Runs inside a worker process (it imports torch). The dynamo exporter is the default; it writes
weights to a separate ``.onnx.data`` file unless ``external_data=False`` (FACTS.md), and at opset 17
it wrote a model ORT rejects, so the config's default opset is 18.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections import Counter
from pathlib import Path

import onnx
import torch

from reportgen.demo.net import load_checkpoint
from reportgen.efficiency import count_flops, matmul_peak_gflops
from reportgen.modelfile import MIB, describe_onnx, dominant
from reportgen.tasks.segmentation import OUTPUT_NAMES


def export_model(job: dict) -> dict:
    """Export ``job['checkpoint']`` to ``job['onnx_path']``; return model and file descriptions.

    Also traces a TorchScript file when a backend needs one, counts the model's FLOPs and probes the
    machine's matmul peak with the run's thread count (torch is loaded here anyway).
    """
    model, meta = load_checkpoint(job["checkpoint"])
    size = job["input_size"]
    example = torch.zeros(1, 3, size, size)
    description = {
        "status": "ok",
        "parameters": sum(p.numel() for p in model.parameters()),
        "class_names": meta["class_names"],
        "input_shape": [1, 3, size, size],
        "checkpoint": describe_checkpoint(job["checkpoint"]),
        "flops": count_flops(model, example),
        "peak_gflops": matmul_peak_gflops(job["threads"]),
        "onnx": _onnx(model, example, job),
    }
    if job.get("torchscript_path"):
        description["torchscript"] = _torchscript(model, example, Path(job["torchscript_path"]))
    return description


def _onnx(model, example, job: dict) -> dict:
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
            _export(model, example, path, job["exporter"], job["opset"])
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:  # an export failure is data: the reference backend still runs
        return {**common, "status": "failed", "error": " ".join(f"{type(e).__name__}: {e}".split())[:2000]}
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


def _torchscript(model, example, path: Path) -> dict:
    """Trace the model to a TorchScript file; a failure is recorded, not raised."""
    try:
        with torch.no_grad():
            traced = torch.jit.trace(model, example, check_trace=False)
        traced.save(str(path))
    except Exception as e:
        return {
            "status": "failed",
            "error": " ".join(f"{type(e).__name__}: {e}".split())[:2000],
            "path": str(path),
        }
    return {
        "status": "ok",
        "error": None,
        "path": str(path),
        "size_mb": path.stat().st_size / MIB,
        "dtype": "float32",
        "dtypes": {"float32": sum(p.numel() * 4 for p in model.parameters())},
    }


def _export(model, example, path: Path, exporter: str, opset: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = dict(input_names=["images"], output_names=list(OUTPUT_NAMES), opset_version=opset)
    # The exporters print progress and advice to stdout; keep the worker's output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        if exporter == "dynamo":
            torch.onnx.export(
                model, (example,), str(path), dynamo=True, external_data=False, verbose=False, **kwargs
            )
        else:
            torch.onnx.export(model, (example,), str(path), dynamo=False, **kwargs)
    leftovers = list(path.parent.glob(path.name + ".data"))
    if leftovers:
        raise RuntimeError(
            f"exporter wrote external data ({leftovers[0].name}); expected one self-contained file"
        )


def describe_checkpoint(path: str) -> dict:
    """Return the checkpoint's size, its dominant weight dtype and bytes per dtype."""
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    return {
        "path": str(path),
        "size_mb": Path(path).stat().st_size / MIB,
        **dominant(_tensor_bytes(state.values())),
    }


def _tensor_bytes(tensors) -> Counter:
    """Return bytes per dtype name over torch tensors."""
    dtypes = Counter()
    for tensor in tensors:
        dtypes[str(tensor.dtype).removeprefix("torch.")] += tensor.numel() * tensor.element_size()
    return dtypes
