"""The files and folders a config file names: resolved against the config file's folder, and checked.

Checked when a config file is loaded (validate, run, build), so that a missing checkpoint, ONNX file or
image folder is one line before anything runs rather than a failed backend minutes later. A config
stored in a results document is not checked: it describes a run that happened, maybe elsewhere.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from reportgen.config.words import key_path, short_repr

Problem = tuple[tuple[Any, ...], str]  # (key path, "<key path>: expected ..., got ..." line)

FILE, FOLDER = "file", "folder"


def beside(config_path: Path, value: str) -> str:
    """Resolve a path written in a config file relative to that file's folder."""
    try:
        value = os.path.expanduser(value)
    except ValueError:  # `~user` with a NUL byte: left as written, and refused as a path below
        pass
    return os.path.normpath(os.path.join(config_path.parent, value))


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def named_paths(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], Any, str]]:
    """Return (key path, value as written, FILE or FOLDER) of every path key set in raw config data."""
    found: list[tuple[tuple[Any, ...], Any, str]] = [
        (
            ("model", "checkpoint"),
            _get(data, "model", "checkpoint"),
            FOLDER if _get(data, "model", "source") == "huggingface" else FILE,
        ),
        (("export", "onnx_file"), _get(data, "export", "onnx_file"), FILE),
        (
            ("dataset", "path"),
            _get(data, "dataset", "path"),
            FILE if _get(data, "dataset", "source") == "text" else FOLDER,
        ),
    ]
    python_path = _get(data, "model", "python_path")
    if isinstance(python_path, list):
        found += [(("model", "python_path", i), p, FOLDER) for i, p in enumerate(python_path)]
    inputs = _get(data, "model", "inputs")
    if isinstance(inputs, list):
        found += [
            (("model", "inputs", i, "values", "path"), _get(spec, "values", "path"), FILE)
            for i, spec in enumerate(inputs)
        ]
    labels = _get(data, "dataset", "labels")
    if labels in ("coco", "yolo", "file", "masks"):
        found.append(
            (
                ("dataset", "labels_path"),
                _get(data, "dataset", "labels_path"),
                FOLDER if labels in ("yolo", "masks") else FILE,
            )
        )
    return [(loc, value, kind) for loc, value, kind in found if isinstance(value, str) and value]


def _located(loc: tuple[Any, ...], path: str) -> str:
    """Return the file a path key names: an ONNX folder (``optimum-cli export onnx``) names its model.onnx."""
    is_folder = loc == ("export", "onnx_file") and os.path.isdir(path)
    return os.path.join(path, "model.onnx") if is_folder else path


def _shown(path: str, limit: int = 100) -> str:
    if not path.isprintable():  # a newline or a control character in the name: shown escaped
        return short_repr(path, limit)
    return path if len(path) <= limit else "..." + path[-(limit - 3) :]


def _kind_problem(resolved: str, kind: str, written: str) -> str | None:
    """Return what is wrong with `resolved` as a `kind`, or None when it is one."""
    it = "it" if resolved == written else _shown(resolved)  # name the resolved path where it differs
    try:
        mode = os.stat(resolved).st_mode
    except FileNotFoundError:
        return f"{it} does not exist"
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a loop of links
        return f"not a usable path: {short_repr(getattr(exc, 'strerror', None) or str(exc), 50)}"
    is_dir = os.path.isdir(resolved)
    if kind == FILE and is_dir:
        return f"{it} is a folder"
    if kind == FOLDER and not is_dir:
        return f"{it} is not a folder"
    if kind == FILE and not stat.S_ISREG(mode):  # /dev/zero, a FIFO: reading it never ends
        return f"{it} is not a regular file"
    if not os.access(resolved, os.R_OK | (os.X_OK if is_dir else 0)):
        return f"{it} is not readable"
    return None


def path_problems(data: dict[str, Any], config_path: Path, skip: set[tuple[Any, ...]]) -> list[Problem]:
    """Return a problem for each path in raw config data that is missing or of the wrong kind.

    `skip`: key paths already reported by validation (a path of the wrong type, a key set where it
    has no effect), so that one key gets one line.
    """
    problems: list[Problem] = []
    for loc, value, kind in named_paths(data):
        if loc in skip or (len(loc) > 2 and loc[:2] in skip):
            continue
        problem = _kind_problem(_located(loc, beside(config_path, value)), kind, value)
        if problem is not None:
            line = f"{key_path(loc)}: expected an existing {kind} ({problem}), got {short_repr(value)}"
            problems.append((loc, line))
    labels, folder = _get(data, "dataset", "labels"), _get(data, "dataset", "path")
    if (
        labels == "coco"
        and _get(data, "dataset", "labels_path") is None
        and isinstance(folder, str)
        and os.path.isdir(beside(config_path, folder))
        and ("dataset", "labels_path") not in skip
    ):
        default = os.path.join(beside(config_path, folder), "annotations.json")
        if not os.path.isfile(default):
            expected = f"the COCO annotations file (null: {_shown(default)}, which does not exist)"
            problems.append(
                (("dataset", "labels_path"), f"dataset.labels_path: expected {expected}, got None")
            )
    return problems


def site_problem(site_dir: Any) -> Problem | None:
    """Return a problem when site.dir (relative to the working directory) exists and is not a folder."""
    if isinstance(site_dir, str) and site_dir and os.path.lexists(site_dir) and not os.path.isdir(site_dir):
        return (
            ("site", "dir"),
            f"site.dir: expected a folder or a path not taken yet (it is a file), got {short_repr(site_dir)}",
        )
    return None


def resolved(config: Any, config_path: Path) -> Any:
    """Return a validated Config with every path it names made relative to the config file's folder."""
    model, dataset, export = config.model, config.dataset, config.export
    if model.checkpoint is not None:
        model = model.model_copy(update={"checkpoint": beside(config_path, model.checkpoint)})
    if model.python_path:
        model = model.model_copy(update={"python_path": [beside(config_path, p) for p in model.python_path]})
    for key in ("path", "labels_path"):
        if getattr(dataset, key) is not None:
            dataset = dataset.model_copy(update={key: beside(config_path, getattr(dataset, key))})
    if export.onnx_file is not None:
        onnx_file = _located(("export", "onnx_file"), beside(config_path, export.onnx_file))
        export = export.model_copy(update={"onnx_file": onnx_file})
    if model.inputs:
        model = model.model_copy(update={"inputs": [_input_beside(i, config_path) for i in model.inputs]})
    return config.model_copy(update={"model": model, "dataset": dataset, "export": export})


def _input_beside(spec: Any, config_path: Path) -> Any:
    if spec.values.path is None:
        return spec
    values = spec.values.model_copy(update={"path": beside(config_path, spec.values.path)})
    return spec.model_copy(update={"values": values})
