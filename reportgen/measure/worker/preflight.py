"""Preflight: call the reference once on the configured inputs at every batch size, before any timing.

A config mistake found here is one line naming the config key and what the model expected (exit 2),
seconds after the start, instead of an IndexError from deep inside the model after every round
(issue 20: ``input_ids`` as float32 and token ids past the vocabulary both read "the factory model
could not be loaded", with no report).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch

from reportgen.errors import ConfigError
from reportgen.measure.inputs import make_batch
from reportgen.measure.worker.models import arguments

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """Return ``text`` without terminal colour codes (torch.export's messages carry ``\\x1b[96m``)."""
    return ANSI.sub("", text)


def check_reference(model: torch.nn.Module, samples: list[dict], job: dict) -> tuple[tuple, dict]:
    """Call ``model`` on the configured inputs at every batch size; return the batch-1 arguments.

    An input that feeds an ``nn.Embedding`` is checked against it (dtype, value range over every
    stored sample) before the layer runs; any other failure of the call names every input's dtype and
    shape. Both are ConfigErrors: the config can fix them.
    """
    specs = job["inputs"]
    ranges = value_ranges(job)
    first: tuple[tuple, dict] | None = None
    for size in job.get("batch_sizes") or [1]:
        example = arguments(make_batch(samples, specs, size), specs)
        first = first or example
        given = [*example[0], *example[1].values()]
        named = [s for s in specs if not s["keyword"]] + [s for s in specs if s["keyword"]]
        hooks = [
            module.register_forward_pre_hook(_embedding_check(name, module, named, given, ranges, job))
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Embedding)
        ]
        try:
            with torch.inference_mode():
                model(*example[0], **example[1])
        except ConfigError:
            raise
        except Exception as e:  # the model refused the inputs as configured: say which and how
            raise ConfigError(_call_failed(e, size, specs, job)) from None
        finally:
            for hook in hooks:
                hook.remove()
    assert first is not None  # the loop ran at least once ([1] when no sizes are given)
    return first


def value_ranges(job: dict) -> dict[str, tuple[int, int]]:
    """Return (min, max) of every integer input over all stored samples (memory-mapped)."""
    folder = Path(job["dataset_path"])
    if not (folder / "inputs.json").exists():
        return {}
    ranges = {}
    for index, name in enumerate(json.loads((folder / "inputs.json").read_text())):
        values = np.load(folder / f"input{index}.npy", mmap_mode="r")
        if values.size and np.issubdtype(values.dtype, np.integer):
            ranges[name] = (int(values.min()), int(values.max()))
    return ranges


def key(job: dict, spec: dict) -> str:
    """Return the config key of one input: ``model.inputs[i]`` where declared, else the image size."""
    declared = [i["name"] for i in job["model"].get("inputs") or []]
    if spec["name"] in declared:
        return f"model.inputs[{declared.index(spec['name'])}]"
    return "model.input_shape" if job["model"].get("input_shape") else "model.input_size"


def _embedding_check(layer, module, specs, given, ranges, job):
    """Return a pre-hook that checks the indices an embedding is about to look up."""

    def hook(_module, args):
        indices = args[0] if args else None
        if not isinstance(indices, torch.Tensor):
            return
        spec = _source(indices, specs, given)
        what = spec["name"] if spec else "an input"
        table = f"{layer}, an nn.Embedding of {module.num_embeddings} rows"
        if indices.is_floating_point() or indices.dtype == torch.bool:
            where = f"{key(job, spec)}.dtype" if spec else "model.inputs"
            dtype = spec["dtype"] if spec else str(indices.dtype).removeprefix("torch.")
            raise ConfigError(
                f"{where}: {what} is {dtype} but feeds {table} (token ids): expected int64 or int32"
            )
        low, high = ranges.get(spec["name"]) if spec and spec["name"] in ranges else (None, None)
        if low is None and indices.numel():
            low, high = int(indices.min()), int(indices.max())
        if low is not None and (low < 0 or high >= module.num_embeddings):
            where = f"{key(job, spec)}.values" if spec else "model.inputs"
            raise ConfigError(
                f"{where}: {what} holds values from {low} to {high} but feeds {table}: expected values "
                f"from 0 to {module.num_embeddings - 1} (integers: low 0, high {module.num_embeddings})"
            )

    return hook


def _source(tensor: torch.Tensor, specs: list[dict], given: list) -> dict | None:
    """Return the config input ``tensor`` is (the same tensor, or equal values), or None."""
    for spec, value in zip(specs, given):
        if value is tensor:
            return spec
    # A model may reshape its ids first (``input_ids.view(-1, n)``): the same values in another shape.
    for spec, value in zip(specs, given):
        if not isinstance(value, torch.Tensor) or value.numel() != tensor.numel():
            continue
        if value.dtype == tensor.dtype and torch.equal(value.reshape(-1), tensor.reshape(-1)):
            return spec
    return None


def _call_failed(error: Exception, size: int, specs: list[dict], job: dict) -> str:
    """Return the one line for a reference that failed on the configured inputs."""
    first = next((line for line in plain(str(error)).splitlines() if line.strip()), "")
    inputs = ", ".join(
        f"{s['name']} {s['dtype']} {[size if d == 'batch' else d for d in s['shape']]}" for s in specs
    )
    where = "model.inputs" if job["model"].get("inputs") else key(job, specs[0])
    return (
        f"{where}: the reference failed on the configured inputs at batch size {size}: "
        f"{type(error).__name__}: {first.strip()[:300]}; the config gives {inputs}"
    )


def check_file(path: str, binding: dict, samples: list[dict], specs: list[dict], size: int) -> str | None:
    """Call the exported file once in ONNX Runtime (CPU); return why it cannot run, or None.

    Without onnxruntime installed (the bare wheel) there is nothing to check here.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    feed = make_batch(samples, specs, size)
    names = binding["names"]
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        taken = {i.name for i in session.get_inputs()}
        session.run(None, {names[n]: np.asarray(v) for n, v in feed.items() if names.get(n) in taken})
    except Exception as e:
        first = next((line for line in plain(str(e)).splitlines() if line.strip()), "")
        return f"ONNX Runtime cannot run the export: {type(e).__name__}: {first.strip()[:300]}"
    return None
