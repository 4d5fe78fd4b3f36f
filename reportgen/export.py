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

import numpy as np
import onnx
import torch

from reportgen.demo.net import load_checkpoint
from reportgen.tasks.segmentation import OUTPUT_NAMES

MIB = 2**20


def export_model(job: dict) -> dict:
    """Export ``job['checkpoint']`` to ``job['onnx_path']``; return model and file descriptions."""
    model, meta = load_checkpoint(job["checkpoint"])
    size = job["input_size"]
    description = {
        "status": "ok",
        "parameters": sum(p.numel() for p in model.parameters()),
        "class_names": meta["class_names"],
        "input_shape": [1, 3, size, size],
        "checkpoint": describe_checkpoint(job["checkpoint"]),
    }
    onnx_path = Path(job["onnx_path"])
    started = time.perf_counter()
    try:
        _export(model, torch.zeros(1, 3, size, size), onnx_path, job["exporter"], job["opset"])
        onnx.checker.check_model(str(onnx_path), full_check=True)
    except Exception as e:  # an export failure is data: the reference backend still runs
        description["onnx"] = {
            "status": "failed",
            "error": " ".join(f"{type(e).__name__}: {e}".split())[:2000],
            "exporter": job["exporter"],
            "opset": job["opset"],
            "path": str(onnx_path),
        }
        return description
    description["onnx"] = {
        "status": "ok",
        "error": None,
        "exporter": job["exporter"],
        "opset": job["opset"],
        "export_s": time.perf_counter() - started,
        **describe_onnx(onnx_path),
    }
    return description


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
    dtypes = Counter()
    for tensor in state.values():
        dtypes[str(tensor.dtype).removeprefix("torch.")] += tensor.numel() * tensor.element_size()
    return {"path": str(path), "size_mb": Path(path).stat().st_size / MIB, **_dominant(dtypes)}


def describe_onnx(path: Path) -> dict:
    """Return the ONNX file's size, its dominant initializer dtype and bytes per dtype."""
    model = onnx.load(str(path), load_external_data=False)
    dtypes = Counter()
    for init in model.graph.initializer:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(init.data_type))
        dtypes[dtype.name] += int(np.prod(init.dims, dtype=np.int64)) * dtype.itemsize
    return {"path": str(path), "size_mb": path.stat().st_size / MIB, **_dominant(dtypes)}


def _dominant(dtypes: Counter) -> dict:
    return {"dtype": dtypes.most_common(1)[0][0] if dtypes else None, "dtypes": dict(sorted(dtypes.items()))}
