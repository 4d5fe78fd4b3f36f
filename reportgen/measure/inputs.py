"""The model's inputs: what each forward() argument is, how a batch is made, and how files bind to them.

One format, one module. A *feed* is one sample: ``{input name: array}`` with the batch axis (if any) of
size 1, and a 0-d array for a Python scalar argument. The parent writes the samples of every input as
one .npy each, which workers memory-map, so a worker's peak RSS holds the inputs it times, not the
whole data set. Images (the default single input) are stored prepared and become tensors in the worker
through the task's ``to_tensor``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from reportgen.errors import ReportgenError
from reportgen.measure import hffolder
from reportgen.measure.tasks import task_module

IMAGE_INPUT = "images"  # the name our export gives the image input (Ultralytics' name too)


def declared(config) -> list:
    """Return the inputs model.inputs declares, else those a Hugging Face text model's forward() takes
    (InputConfig each); [] for one image input."""
    return config.model.inputs or hffolder.inputs(config) or []


def specs(config) -> list[dict]:
    """Return every input as ``{name, dtype, shape, keyword}`` (shape with 'batch'), config order."""
    model, given = config.model, declared(config)
    if given:
        return [
            {"name": i.name, "dtype": i.dtype, "shape": list(i.shape), "keyword": i.keyword} for i in given
        ]
    if model.task == "raw" and model.input_shape:
        shape = list(model.input_shape)
        # The first axis of a raw input_shape is its batch axis when it is 1 (as written today).
        return [
            {
                "name": "input",
                "dtype": "float32",
                "shape": ["batch", *shape[1:]] if shape[0] == 1 else shape,
                "keyword": False,
            }
        ]
    size = hffolder.image_size(model)
    name = "input" if model.task == "raw" else IMAGE_INPUT
    return [{"name": name, "dtype": "float32", "shape": ["batch", 3, size, size], "keyword": False}]


def batch_axis(spec: dict) -> int | None:
    return spec["shape"].index("batch") if "batch" in spec["shape"] else None


def item_shape(spec: dict) -> list[int]:
    """Return the shape of one sample: the batch axis at 1."""
    return [1 if d == "batch" else d for d in spec["shape"]]


def make_batch(feeds: list[dict[str, np.ndarray]], specs: list[dict], size: int) -> dict[str, np.ndarray]:
    """Return one feed of ``size`` samples: batched inputs concatenated, unbatched ones from the first.

    With fewer samples than ``size`` the samples repeat (a timing batch needs real values, not more of them).
    """
    chosen = [feeds[i % len(feeds)] for i in range(size)]
    batch = {}
    for spec in specs:
        axis = batch_axis(spec)
        name = spec["name"]
        batch[name] = chosen[0][name] if axis is None else np.concatenate([f[name] for f in chosen], axis)
    return batch


def store_inputs(
    images: np.ndarray | None, samples: dict[str, np.ndarray] | None, sources: list, folder: Path
) -> None:
    """Write the prepared images (or each input's samples) and, for a rect letterbox, the source images."""
    folder.mkdir()
    if images is not None:
        np.save(folder / "images.npy", images)
    elif samples is not None:
        names = list(samples)
        (folder / "inputs.json").write_text(json.dumps(names))
        for index, name in enumerate(names):
            np.save(folder / f"input{index}.npy", samples[name])
    for i, image in enumerate(sources):  # only for a backend with its own (rect) letterbox
        np.save(folder / f"source_{i}.npy", image)


def read_inputs(job: dict, limit: int | None = None) -> list[dict[str, np.ndarray]]:
    """Return the feeds: stored samples, or prepared images through the task's to_tensor."""
    task, folder, settings = task_module(job["task"]), Path(job["dataset_path"]), job["task_settings"]
    if (folder / "inputs.json").exists():
        names = json.loads((folder / "inputs.json").read_text())
        # Memory-mapped and copied: only the samples asked for enter this process's memory.
        arrays = [np.load(folder / f"input{i}.npy", mmap_mode="r")[:limit] for i in range(len(names))]
        return [{name: np.array(a[k]) for name, a in zip(names, arrays)} for k in range(len(arrays[0]))]
    (name,) = [s["name"] for s in job["inputs"]]
    images = np.load(folder / "images.npy", mmap_mode="r")[:limit]
    if job.get("settings", {}).get("letterbox") == "rect":  # this backend's own, non-square letterbox
        sources = [np.load(folder / f"source_{i}.npy") for i in range(len(images))]
        prepared = [task.prepare(s, settings["input_size"], rect=True)[0] for s in sources]
        return [{name: task.to_tensor(p, settings)} for p in prepared]
    return [{name: task.to_tensor(np.array(image), settings)} for image in images]


def bind(specs: list[dict], file_inputs: list[str], file: str = "the ONNX file") -> dict:
    """Return how the file's inputs take the config's: ``{"by": name|position, "names": {config: file}}``.

    By name when every input of the file is a config input; by position when the names differ and the
    counts agree (scalars the file does not take are left out: an exporter bakes them in). A config
    input the file does not take is not fed.
    """
    names = [s["name"] for s in specs]
    if set(file_inputs) <= set(names):
        return {"by": "name", "names": {n: n for n in names if n in file_inputs}}
    tensors = [s["name"] for s in specs if s["shape"]]
    for candidates in (names, tensors):
        if len(candidates) == len(file_inputs):
            return {"by": "position", "names": dict(zip(candidates, file_inputs))}
    raise ReportgenError(
        f"model.inputs: the config gives {_listed(names)}; {file} takes {_listed(file_inputs)}: "
        "expected the same names, or as many inputs in the same order"
    )


def _listed(names: list[str]) -> str:
    return f"{len(names)} input{'s' if len(names) != 1 else ''} ({', '.join(names) or 'none'})"


def generate(config, count: int, seed: int) -> dict[str, np.ndarray]:
    """Return ``count`` samples of every input, (count, *item shape) each, deterministic from ``seed``."""
    given = {i.name: i for i in declared(config)}
    samples = {}
    for index, spec in enumerate(specs(config)):
        values = given[spec["name"]].values if spec["name"] in given else None
        rng = np.random.default_rng([seed, index])  # one stream per input: adding one leaves the others
        samples[spec["name"]] = _values(spec, values, count, rng)
    return samples


def _values(spec: dict, values, count: int, rng: np.random.Generator) -> np.ndarray:
    shape, dtype = (count, *item_shape(spec)), np.dtype(spec["dtype"])
    made: np.ndarray
    kind = values.kind if values else "normal"
    if kind == "file":
        return _from_file(spec, values.path, count).astype(dtype, copy=False)
    if kind == "integers":
        low, high = values.bounds()
        made = rng.integers(int(low), int(high), size=shape)
    elif kind == "uniform":
        low, high = values.bounds()
        made = rng.uniform(low, high, size=shape)
    elif kind == "normal":
        mean, std = (values.mean or 0.0, values.std or 1.0) if values else (0.0, 1.0)
        made = rng.normal(mean, std, size=shape)
    else:
        made = np.full(shape, {"zeros": 0, "ones": 1}.get(kind, values.value))
    return made.astype(dtype)


def _from_file(spec: dict, path: str, count: int) -> np.ndarray:
    """Read ``count`` samples from a .npy/.npz: stacked on the batch axis, or on a new first axis."""
    where = f"{path}: model.inputs ({spec['name']}).values.path"
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                keys = [spec["name"]] if spec["name"] in data.files else data.files
                if len(keys) != 1:
                    raise ReportgenError(
                        f"{where}: expected an array named {spec['name']!r} or a single array"
                    )
                data = data[keys[0]]
    except (OSError, ValueError) as e:
        raise ReportgenError(f"{where}: expected a .npy or .npz file ({' '.join(str(e).split())})") from None
    axis, want = batch_axis(spec), item_shape(spec)
    stacked = np.moveaxis(data, axis, 0)[:, None] if axis is not None else data
    if axis is not None:
        stacked = np.moveaxis(stacked, 1, axis + 1)
    if list(stacked.shape[1:]) != want or len(stacked) < count:
        expected = f"{count} samples of shape {spec['shape']}"
        raise ReportgenError(f"{where}: expected {expected}, got an array of shape {list(data.shape)}")
    return np.ascontiguousarray(stacked[:count])
