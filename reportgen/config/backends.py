"""The backend kinds: one config model per kind, declared beside its runtime
(measure/worker/backends/<kind>_config.py), joined here into the one ``BackendConfig`` union that the
config, the docs (docs/config.md), the results schema and the worker's module lookup derive from.

A key of another kind is an error when it is set to anything but its default ("no quantization on a
backend of kind 'pytorch'"): a name like "int8" would otherwise lie. At its default it is dropped, so
that a config dumped before the kinds had models of their own (every key written) still loads.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import InitErrorDetails

from reportgen.config.sections import BackendBase
from reportgen.config.words import cross_error
from reportgen.measure.worker.backends.onnxruntime_config import OnnxRuntimeBackend
from reportgen.measure.worker.backends.openvino_config import OpenVinoBackend
from reportgen.measure.worker.backends.pytorch_config import PyTorchBackend
from reportgen.measure.worker.backends.torch_compile_config import TorchCompileBackend
from reportgen.measure.worker.backends.torchscript_config import TorchScriptBackend

_Kinds = PyTorchBackend | TorchScriptBackend | OnnxRuntimeBackend | OpenVinoBackend | TorchCompileBackend

# kind -> its model, in the order of the union above (the docs and the error messages list them so).
MODELS: dict[str, type[BackendBase]] = {
    typing.get_args(model.model_fields["kind"].annotation)[0]: model for model in typing.get_args(_Kinds)
}
KINDS = tuple(MODELS)
TORCH_KINDS = tuple(kind for kind, model in MODELS.items() if model.from_source)

# Every kind-specific key, with the default of the (first) kind that declares it.
_OWN_KEYS: dict[str, Any] = {}
for _model in MODELS.values():
    for _key, _field in _model.model_fields.items():
        if _key not in BackendBase.model_fields:
            _OWN_KEYS.setdefault(_key, _field.default)


def _without_foreign_keys(data: Any) -> Any:
    """Drop the keys of other kinds (foreign_problems reports those not at their default)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in MODELS:
        return data
    own = MODELS[kind].model_fields
    return {key: value for key, value in data.items() if key in own or key not in _OWN_KEYS}


# The discriminator picks the model by `kind`; the other kinds' keys are dropped before it.
BackendConfig = Annotated[
    Annotated[_Kinds, Field(discriminator="kind")], BeforeValidator(_without_foreign_keys)
]


def foreign_problems(index: int, item: Any) -> list[InitErrorDetails]:
    """Return the errors of keys of other kinds set to anything but their default in a raw backend."""
    data = item.model_dump() if isinstance(item, BaseModel) else item
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in MODELS:
        return []
    own = MODELS[kind].model_fields
    return [
        cross_error(
            ("backends", index, key),
            value,
            f"no {key} on a backend of kind {kind!r} (it has no effect there)",
        )
        for key, value in data.items()
        if key not in own and key in _OWN_KEYS and not _is_default(key, value)
    ]


def _is_default(key: str, value: Any) -> bool:
    default = _OWN_KEYS[key]
    return type(value) is type(default) and value == default  # `freeze: 1` is not `true`


def default_backends() -> list[BackendConfig]:
    return [
        PyTorchBackend(name="pytorch", kind="pytorch"),
        OnnxRuntimeBackend(name="onnxruntime", kind="onnxruntime"),
    ]
