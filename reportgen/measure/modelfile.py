"""Describe model files: size and bytes per weight dtype (no torch, so any worker can use it)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx

MIB = 2**20


def describe_onnx(path: Path) -> dict:
    """Return the ONNX file's size, its dominant initializer dtype and bytes per dtype."""
    model = onnx.load(str(path), load_external_data=False)
    dtypes = Counter()
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
    return {"path": str(path), "size_mb": size / MIB, **dominant(dtypes)}


def dominant(dtypes: Counter) -> dict:
    """Return the dtype holding most bytes and the bytes of every dtype."""
    return {"dtype": dtypes.most_common(1)[0][0] if dtypes else None, "dtypes": dict(sorted(dtypes.items()))}
