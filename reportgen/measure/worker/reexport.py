"""Export the reference model again, the way the user's ONNX file was exported, to compare the two.

A file made elsewhere (``export.onnx_file``) names its values after its own exporter, not after the
torch graph this process can run; a fresh export with the same exporter and opset gives a graph of
the same shape whose weights are the reference's, so the two can be compared node by node under one
runtime. The legacy exporter is the default for files of other tools: most files out there
(Ultralytics' among them) were written by it, and it takes about a second where dynamo takes ten.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import onnx
import torch

from reportgen.measure.modelfile import exporter_of
from reportgen.measure.worker.onnxvalues import fed_inputs


def exporter_for(model: onnx.ModelProto) -> str:
    """Return the exporter to re-export with: the file's own, legacy for other tools' files."""
    return exporter_of(model) or "legacy"


def reexport(module: torch.nn.Module, call: tuple[tuple, dict], like: onnx.ModelProto, path: Path) -> str:
    """Write the reference's export to ``path`` with the exporter and opset of ``like``; return the
    exporter used. The file's opset first; an exporter that cannot write it tries its default.

    The inputs keep the file's names (named feeds fit both files); outputs need none: the two graphs
    are paired by structure.
    """
    exporter = exporter_for(like)
    opset = next((o.version for o in like.opset_import if o.domain in ("", "ai.onnx")), None)
    inputs = fed_inputs(like.graph)
    try:
        _export(module, call, path, exporter, opset, inputs)
    except Exception:
        if opset is None:
            raise
        _export(module, call, path, exporter, None, inputs)
    return exporter


def _export(
    module, call: tuple[tuple, dict], path: Path, exporter: str, opset: int | None, inputs: list[str]
) -> None:
    """Export quietly into one self-contained file: the exporters print advice to stdout, and the
    legacy one warns that it is deprecated (it is chosen here because the file was made with it)."""
    args, kwargs = call
    options: dict[str, Any] = {"input_names": inputs, "kwargs": kwargs or None}
    options |= {"opset_version": opset} if opset else {}
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if exporter == "dynamo":
            torch.onnx.export(
                module, args, str(path), dynamo=True, external_data=False, verbose=False, **options
            )
        else:
            torch.onnx.export(module, args, str(path), dynamo=False, **options)
