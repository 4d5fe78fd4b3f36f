"""Do the config's inputs, the model's forward() and the ONNX file agree? One error lists all three.

A model takes its inputs by position (or keyword); the ONNX file by name. A mismatch caught here is one
line before anything is timed, instead of "forward() is missing value for argument 'sr'" minutes later.
"""

from __future__ import annotations

import difflib
import inspect

import torch

from reportgen.errors import ConfigError, ReportgenError
from reportgen.measure.inputs import batch_axis, bind
from reportgen.measure.modelfile import onnx_inputs

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def parameters(model: torch.nn.Module) -> list[inspect.Parameter] | None:
    """Return forward()'s parameters (without self), from Python or a TorchScript schema; None if unknown."""
    if isinstance(model, torch.jit.ScriptModule):
        try:
            schema = model.forward.schema  # type: ignore[attr-defined]  # a ScriptMethod's
        except (AttributeError, RuntimeError):
            return None
        return [
            inspect.Parameter(
                a.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=a.default_value if a.has_default_value() else inspect.Parameter.empty,
            )
            for a in schema.arguments[1:]  # the first is self
        ]
    try:
        return list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return None


def check(model: torch.nn.Module, specs: list[dict], onnx_inputs: list[str] | None = None) -> None:
    """Raise ConfigError when the config's inputs cannot be passed to forward() as declared."""
    params = parameters(model)
    if params is None:
        return
    problem = _problem(params, specs)
    if problem:
        raise ConfigError(mismatch(problem, specs, params, onnx_inputs))
    swallowed = _swallowed(params, specs)
    if swallowed:
        raise ConfigError(swallowed)


def _swallowed(params: list[inspect.Parameter], specs: list[dict]) -> str | None:
    """Return the line for a keyword input that forward() would take only through ``**kwargs``.

    Hugging Face models take ``**kwargs``: a misspelt ``token_types_ids`` is accepted and ignored, the
    run measures a model without it, and only the export fails, minutes later (issue 20). A keyword
    close to one of forward()'s own names is a misspelling; one close to none is passed on as given.
    """
    var = next((p for p in params if p.kind == p.VAR_KEYWORD), None)
    if var is None:
        return None
    named = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    for index, spec in enumerate(specs):
        if not spec["keyword"] or spec["name"] in named:
            continue
        close = difflib.get_close_matches(spec["name"], named, n=1, cutoff=0.75)
        if close:
            return (
                f"model.inputs[{index}].name: {spec['name']!r} is not an argument of forward(); "
                f"forward() would swallow it through **{var.name} and ignore it: "
                f"expected {close[0]!r} (forward({', '.join(named)}, **{var.name}))"
            )
    return None


def _problem(params: list[inspect.Parameter], specs: list[dict]) -> str | None:
    positional = [p for p in params if p.kind in POSITIONAL]
    given = [s for s in specs if not s["keyword"]]
    keywords = {s["name"] for s in specs if s["keyword"]}
    if len(given) > len(positional) and not any(p.kind == p.VAR_POSITIONAL for p in params):
        return f"forward() takes {len(positional)} positional arguments, the config gives {len(given)}"
    named = {p.name for p in params}
    unknown = sorted(keywords - named) if not any(p.kind == p.VAR_KEYWORD for p in params) else []
    if unknown:
        return f"forward() has no argument {unknown[0]!r}"
    covered = {p.name for p in positional[: len(given)]} | keywords
    missing = [p.name for p in params if p.default is p.empty and p.kind in (*POSITIONAL, p.KEYWORD_ONLY)]
    missing = [name for name in missing if name not in covered]
    if missing:
        return f"forward() is missing a value for {missing[0]!r}"
    return None


def mismatch(problem: str, specs: list[dict], params, onnx_inputs: list[str] | None) -> str:
    """Return the one line that names what the config, forward() and the ONNX file each say."""
    config = ", ".join(s["name"] + (" (keyword)" if s["keyword"] else "") for s in specs)
    forward = ", ".join(str(p) for p in params) if params is not None else "unknown"
    line = f"model.inputs: {problem}: the config gives ({config}); forward({forward})"
    if onnx_inputs is not None:
        line += f"; the ONNX file takes ({', '.join(onnx_inputs)})"
    return line


def onnx_binding(path: str, specs: list[dict], model: torch.nn.Module) -> dict:
    """Return how the ONNX file takes the config's inputs; a file that cannot is a ConfigError."""
    names = onnx_inputs(path)
    try:
        return bind(specs, names)
    except ReportgenError:
        problem = "the ONNX file's inputs match neither the names nor the count"
        raise ConfigError(mismatch(problem, specs, parameters(model), names)) from None


def dynamic_shapes(model: torch.nn.Module, specs: list[dict]) -> dict:
    """Return torch.export's dynamic_shapes: every input's batch axis is one shared dimension."""
    batch = torch.export.Dim("batch", min=1, max=4096)
    params = parameters(model) or []
    positional = [p.name for p in params if p.kind in POSITIONAL]
    shapes = {}
    given = [s for s in specs if not s["keyword"]]
    for spec in specs:
        key = spec["name"] if spec["keyword"] else positional[given.index(spec)]
        axis = batch_axis(spec)
        shapes[key] = {axis: batch} if axis is not None else None
    return shapes
