"""Describe model files: size, bytes per weight dtype and, for ONNX, what the file says of itself
(producer, exporter, class names). No torch, so any worker and the parent can use it."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import numpy as np
import onnx

MIB = 2**20


def describe_onnx(path: Path) -> dict:
    """Return the ONNX file's size, its dominant initializer dtype, bytes per dtype and metadata."""
    model = onnx.load(str(path), load_external_data=False)
    dtypes: Counter[str] = Counter()
    for init in model.graph.initializer:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(init.data_type))
        dtypes[dtype.name] += int(np.prod(init.dims, dtype=np.int64)) * dtype.itemsize
    # Weights stored as external data (the dynamo exporter's default) belong to the file's size too.
    external = {
        entry.value
        for init in model.graph.initializer
        for entry in init.external_data
        if entry.key == "location"
    }
    size = path.stat().st_size + sum((path.parent / name).stat().st_size for name in external)
    return {
        "path": str(path),
        "size_mb": size / MIB,
        **dominant(dtypes),
        "precision": precision_of(model, dtypes),
        **file_metadata(model),
    }


QDQ = {"QuantizeLinear", "DequantizeLinear"}
INTEGER_OPS = {"MatMulInteger", "ConvInteger", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul"}


def precision_of(model: onnx.ModelProto, dtypes: Counter) -> str:
    """Return the precision a file computes in: ``int8-qdq``, ``int8``, ``fp16``, ``bf16`` or ``fp32``.

    Read from the file itself (issue 20): a user's ``export.onnx_file`` converted to float16 (Ultralytics'
    ``half=True``, onnxconverter-common) casts its float32 inputs at the entry and holds float16
    weights; its differences from the reference are that precision's, not a divergence to hunt.
    Quantization is told by its operators (QDQ pairs, or integer operators), the float precision by
    the float type holding most weight bytes.
    """
    ops = {n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx", "com.microsoft")}
    if ops & QDQ:
        return "int8-qdq"
    if ops & INTEGER_OPS:
        return "int8"
    floats = {name: dtypes.get(name, 0) for name in ("float32", "float16", "bfloat16", "float64")}
    if not any(floats.values()):  # weights stored as inputs or none at all: the entry casts say it
        return _cast_precision(model)
    return {"float16": "fp16", "bfloat16": "bf16"}.get(max(floats, key=lambda name: floats[name]), "fp32")


def _cast_precision(model: onnx.ModelProto) -> str:
    """Return fp16/bf16 when every float input is cast to that type on entry, else fp32."""
    names = {i.name for i in model.graph.input}
    targets = {
        a.i
        for n in model.graph.node
        if n.op_type == "Cast" and n.input and n.input[0] in names
        for a in n.attribute
        if a.name == "to"
    }
    if targets == {onnx.TensorProto.FLOAT16}:
        return "fp16"
    if targets == {onnx.TensorProto.BFLOAT16}:
        return "bf16"
    return "fp32"


def dominant(dtypes: Counter) -> dict:
    """Return the dtype holding most bytes and the bytes of every dtype."""
    return {"dtype": dtypes.most_common(1)[0][0] if dtypes else None, "dtypes": dict(sorted(dtypes.items()))}


def file_metadata(model: onnx.ModelProto) -> dict:
    """Return what an ONNX file says about itself: its producer, exporter and class names.

    A file the user brings (``export.onnx_file``) was made elsewhere; the report says with what, and
    Ultralytics files name their classes where the torch model or the config may not.
    """
    return {
        "producer": " ".join(p for p in (model.producer_name, model.producer_version) if p) or None,
        "made_with": exporter_of(model),
        "class_names": class_names_of(model),
    }


def exporter_of(model: onnx.ModelProto) -> str | None:
    """Return which torch.onnx exporter wrote the file: ``dynamo``, ``legacy`` or None (another tool).

    The dynamo exporter records each node's module in metadata (``namespace``, ``pkg.torch.onnx.*``);
    the TorchScript-based one names nodes by module scope (``/model.0/conv/Conv``) or, before torch
    1.13, ``Conv_0``. Both write producer_name ``pytorch``.
    """
    nodes = model.graph.node
    if any(
        p.key == "namespace" or p.key.startswith("pkg.torch.onnx") for n in nodes for p in n.metadata_props
    ):
        return "dynamo"
    if model.producer_name != "pytorch":
        return None
    return "dynamo" if nodes and all(n.name.startswith("node_") for n in nodes) else "legacy"


def class_names_of(model: onnx.ModelProto) -> list[str] | None:
    """Return the class names of Ultralytics' metadata (``names``: ``{0: 'person', 1: 'bicycle'}``).

    The value is a Python dict literal: read with ``ast.literal_eval`` (never ``eval``); anything but
    a dict of consecutive integer keys from 0 to string names (or a list of names) is ignored.
    """
    text = next((p.value for p in model.metadata_props if p.key == "names"), None)
    if text is None or len(text) > MIB:  # a name list, not a payload
        return None
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        names = [names[i] for i in range(len(names))]
    if isinstance(names, (list, tuple)) and names and all(isinstance(n, str) for n in names):
        return list(names)
    return None


def onnx_inputs(path: str) -> list[str]:
    """Return an ONNX file's input names (old files also list their weights as inputs: not those)."""
    graph = onnx.load(path, load_external_data=False).graph
    initializers = {i.name for i in graph.initializer}
    return [i.name for i in graph.input if i.name not in initializers]
