"""How the config schema is put into words: error lines, "expected ..." phrases, the key reference.

Kept apart from reportgen/config.py, which declares the schema; everything here takes the root model
class as an argument, so it reads any pydantic schema declared the same way.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

# The type of the errors raised by cross-field checks; their context carries the "expected" phrase.
CROSS_ERROR = "reportgen_config"


@dataclass(frozen=True)
class Expect:
    """Annotated metadata: what a field accepts, in words, where its type and bounds do not say it."""

    text: str


def cross_error(loc: tuple[str | int, ...], value: Any, expected: str) -> InitErrorDetails:
    """Return a validation error for keys that are valid alone but not together."""
    return InitErrorDetails(
        type=PydanticCustomError(CROSS_ERROR, "{expected}", {"expected": expected}), loc=loc, input=value
    )


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Return (annotation without `| None`, whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return args[0], len(args) < len(typing.get_args(annotation))
    return annotation, False


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _fmt_number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number_phrase(noun: str, field: FieldInfo) -> str:
    article = "an" if noun == "integer" else "a"
    lo = hi = None
    lo_incl = hi_incl = False
    for item in field.metadata:
        if isinstance(item, annotated_types.Gt):
            lo, lo_incl = item.gt, False
        elif isinstance(item, annotated_types.Ge):
            lo, lo_incl = item.ge, True
        elif isinstance(item, annotated_types.Lt):
            hi, hi_incl = item.lt, False
        elif isinstance(item, annotated_types.Le):
            hi, hi_incl = item.le, True
    if lo is None and hi is None:
        return f"{article} {noun}"
    if hi is None:
        if lo == 0:
            return f"a {'non-negative' if lo_incl else 'positive'} {noun}"
        return f"{article} {noun} {'of at least' if lo_incl else 'greater than'} {_fmt_number(lo)}"
    if lo is None:
        return f"{article} {noun} {'of at most' if hi_incl else 'less than'} {_fmt_number(hi)}"
    lo_s, hi_s = _fmt_number(lo), _fmt_number(hi)
    if lo_incl and hi_incl:
        return f"{article} {noun} between {lo_s} and {hi_s}"
    if not lo_incl and not hi_incl:
        return f"{article} {noun} between {lo_s} and {hi_s}, exclusive"
    if lo_incl:
        return f"{article} {noun} of at least {lo_s} and less than {hi_s}"
    return f"{article} {noun} greater than {lo_s} and at most {hi_s}"


def _expected(field: FieldInfo) -> str:
    """Return what a field accepts, in words ("a positive integer", "one of 'en', 'ko'")."""
    for item in field.metadata:
        if isinstance(item, Expect):
            return item.text
    annotation, _ = _unwrap(field.annotation)
    if typing.get_origin(annotation) is Literal:
        choices = typing.get_args(annotation)
        if len(choices) == 1:
            return f"{choices[0]!r} (the only choice so far)"
        return "one of " + ", ".join(repr(choice) for choice in choices)
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return _number_phrase("integer", field)
    if annotation is float:
        return _number_phrase("number", field)
    if _is_section(annotation):
        return "a mapping"
    return "a string" if annotation is str else "a valid value"


def _walk(
    root: type[BaseModel], loc: tuple[str | int, ...]
) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """Return the section at `loc` and, when `loc` names a key, that key's field."""
    section: Any = root
    field = None
    for part in loc:
        annotation = _unwrap(field.annotation)[0] if field is not None else section
        if isinstance(part, int) and typing.get_origin(annotation) is list:
            section, field = typing.get_args(annotation)[0], None
        elif isinstance(part, str) and _is_section(annotation) and part in annotation.model_fields:
            section, field = annotation, annotation.model_fields[part]
        else:
            return None, None
    if field is None:
        return section if _is_section(section) else None, None
    return section, field


def _section_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """Return the section (model class) whose keys live at `loc`."""
    section, field = _walk(root, loc)
    if field is None:
        return section
    annotation = _unwrap(field.annotation)[0]
    return annotation if _is_section(annotation) else None


def _path(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_line(error: Any, root: type[BaseModel]) -> str:
    """Return one validation error as `<key path>: expected <what>, got <value>`."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{_path(loc)}: missing required key"
    if kind in ("extra_forbidden", "invalid_key"):
        section = _section_at(root, loc[:-1])
        keys = ", ".join(sorted(section.model_fields)) if section is not None else ""
        path = _path(loc[:-1] + (str(loc[-1]),))
        return f"{path}: unknown key (expected one of: {keys})"
    if kind == CROSS_ERROR:
        expected = error["ctx"]["expected"]
    else:
        section, field = _walk(root, loc)
        if field is not None:
            expected = _expected(field)
        elif section is not None:
            expected = "a mapping"
        else:
            expected = "a valid value"
    return f"{_path(loc)}: expected {expected}, got {short_repr(error['input'])}"


def sort_key(error: Any) -> tuple[tuple[int, int | str], ...]:
    """Order errors by key path, list indices as numbers."""
    return tuple((0, part) if isinstance(part, int) else (1, str(part)) for part in error["loc"])


_REFERENCE_HEADER = """\
<!-- Generated from the schema in reportgen/config/schema.py; do not edit by hand. Regenerate with
     .venv/bin/python -c "from reportgen.config import schema; print(schema.config_reference(), end='')" \\
     >docs/config.md
     tests/test_config.py fails when this file and the schema disagree. -->
# Config reference

A config is a YAML file; every key may be left out and then takes its default, except where the
default says *required*. Unknown keys are errors. See `configs/demo.yaml` for a commented example.

| Key | Accepts | Default | Description |
| --- | --- | --- | --- |
"""


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "*required*"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, list):
        value = [
            item.model_dump(mode="json", exclude_defaults=True) if isinstance(item, BaseModel) else item
            for item in value
        ]
    return f"`{json.dumps(value)}`"


def _reference_rows(section: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in section.model_fields.items():
        key = prefix + name
        annotation, nullable = _unwrap(field.annotation)
        accepts = _expected(field) + (" or null" if nullable else "")
        cells = [f"`{key}`", accepts, _default_text(field), field.description or ""]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        if _is_section(annotation):
            rows += _reference_rows(annotation, key + ".")
        elif typing.get_origin(annotation) is list and _is_section(typing.get_args(annotation)[0]):
            rows += _reference_rows(typing.get_args(annotation)[0], key + "[].")
    return rows


def reference(root: type[BaseModel]) -> str:
    """Return the markdown reference of every key of the schema ``root``."""
    return _REFERENCE_HEADER + "\n".join(_reference_rows(root, "")) + "\n"
