"""How the config schema is put into words: error lines, "expected ..." phrases, the key reference.

Kept apart from the modules that declare the schema (sections.py, schema.py); everything here takes
the root model class as an argument, so it reads any pydantic schema declared the same way.
"""

from __future__ import annotations

import json
import re
import reprlib
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

# The type of the errors raised by cross-field checks; their context carries the "expected" phrase.
CROSS_ERROR = "reportgen_config"


@dataclass(frozen=True)
class Expect:
    """Annotated metadata: what a field accepts, in words, where its type and bounds do not say it.

    `text` replaces the phrase made from the type and bounds; `note` is added to it in parentheses.
    """

    text: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Sane:
    """Annotated metadata: the field's upper bound is a sanity limit, not part of what the value means.

    The limit is named in the docs and when a value exceeds it, but not when a value is not even of
    the right type (`threads: two` reads "expected a positive integer", `threads: 10**30` reads
    "expected a positive integer of at most 1024").
    """


SANE = Sane()

# Pydantic error types of a value of the wrong type (rather than out of range).
_TYPE_ERRORS = ("int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "bool_type")


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


def _is_section(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


@dataclass(frozen=True)
class Tagged:
    """A discriminated union of sections (the backends' kinds): its models by tag."""

    key: str  # the discriminator ("kind")
    models: dict[str, type[BaseModel]]

    @property
    def base(self) -> type[BaseModel]:
        """The nearest model class every member derives from (it declares the shared keys)."""
        first = next(iter(self.models.values()))
        return next(c for c in first.__mro__ if all(issubclass(m, c) for m in self.models.values()))


def tagged(annotation: Any) -> Tagged | None:
    """Return the discriminated union `annotation` declares, or None for any other annotation."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    inner, *metadata = typing.get_args(annotation)
    key = next((m.discriminator for m in metadata if isinstance(m, FieldInfo) and m.discriminator), None)
    if not isinstance(key, str):
        return None
    models = {typing.get_args(m.model_fields[key].annotation)[0]: m for m in typing.get_args(inner)}
    return Tagged(key, models)


def _fmt_number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number_phrase(noun: str, field: FieldInfo, kind_only: bool = False) -> str:
    article = "an" if noun == "integer" else "a"
    lo: Any = None  # a bound's number (annotated_types types it as merely comparable)
    hi: Any = None
    lo_incl = hi_incl = False
    sane = any(isinstance(item, Sane) for item in field.metadata)
    for item in field.metadata:
        if isinstance(item, annotated_types.Gt):
            lo, lo_incl = item.gt, False
        elif isinstance(item, annotated_types.Ge):
            lo, lo_incl = item.ge, True
        elif isinstance(item, annotated_types.Lt):
            hi, hi_incl = item.lt, False
        elif isinstance(item, annotated_types.Le):
            hi, hi_incl = item.le, True
    if sane and hi is not None:
        if kind_only:
            hi = None
        elif lo == 0:  # "a positive integer of at most 1024" reads better than "greater than 0 and..."
            return f"a {'non-negative' if lo_incl else 'positive'} {noun} of at most {_fmt_number(hi)}"
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
    if lo == 0:
        return f"a positive {noun} of at most {hi_s}"
    return f"{article} {noun} greater than {lo_s} and at most {hi_s}"


def _expected(field: FieldInfo, kind_only: bool = False) -> str:
    """Return what a field accepts, in words ("a positive integer", "one of 'en', 'ko'").

    kind_only: leave out a sanity upper bound (the value is not even of the right type).
    """
    expect = next((item for item in field.metadata if isinstance(item, Expect)), Expect())
    text = expect.text or _phrase(field, kind_only)
    return f"{text} ({expect.note})" if expect.note else text


def _phrase(field: FieldInfo, kind_only: bool) -> str:
    annotation, _ = _unwrap(field.annotation)
    if typing.get_origin(annotation) is Literal:
        choices = typing.get_args(annotation)
        if len(choices) == 1:
            return f"{choices[0]!r} (the only choice so far)"
        return "one of " + ", ".join(repr(choice) for choice in choices)
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return _number_phrase("integer", field, kind_only)
    if annotation is float:
        return _number_phrase("number", field, kind_only)
    if _is_section(annotation):
        return "a mapping"
    return "a string" if annotation is str else "a valid value"


def _walk(
    root: type[BaseModel], loc: tuple[str | int, ...]
) -> tuple[type[BaseModel] | Tagged | None, FieldInfo | None, tuple[str | int, ...]]:
    """Return the section at `loc`, the key's field when `loc` names a key, and `loc` as the user wrote
    it (without a union's tag, which pydantic adds: `backends.0.onnxruntime.quantization`)."""
    section: Any = root
    field = None
    shown: list[str | int] = []
    for index, part in enumerate(loc):
        annotation = _unwrap(field.annotation)[0] if field is not None else section
        if isinstance(section, Tagged) and field is None and part in section.models:
            section = section.models[str(part)]
            continue
        shown.append(part)
        if isinstance(part, int) and typing.get_origin(annotation) is list:
            item = typing.get_args(annotation)[0]
            # An item of a list of sections is a section; any other item is worded like a field.
            if _is_section(item) or tagged(item) is not None:
                section, field = tagged(item) or item, None
            else:
                field = FieldInfo.from_annotation(item)
        elif isinstance(part, str) and _is_section(annotation) and part in annotation.model_fields:
            section, field = annotation, annotation.model_fields[part]
        elif typing.get_origin(annotation) is dict:  # a mapping's value (model.outputs' roles)
            field = FieldInfo.from_annotation(typing.get_args(annotation)[1])
        else:
            return None, None, (*shown, *loc[index + 1 :])
    if field is None:
        return section if _is_section(section) or isinstance(section, Tagged) else None, None, tuple(shown)
    return section, field, tuple(shown)


def shown_loc(loc: Any, root: type[BaseModel]) -> tuple[str | int, ...]:
    """Return an error's key path as the user wrote it (without a union's tag)."""
    return _walk(root, tuple(loc))[2]


def _section_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """Return the section (model class) whose keys live at `loc`."""
    section, field, _ = _walk(root, loc)
    if field is None:
        return section if not isinstance(section, Tagged) else None
    annotation = _unwrap(field.annotation)[0]
    return annotation if _is_section(annotation) else None


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,39}$")


def key_path(loc: tuple[Any, ...], last_is_key: bool = False) -> str:
    """Return a key path as written in the docs: `backends[1].threads`.

    Integers are list indices, except the last part when `last_is_key` (a mapping key that is a
    number, as in `model: {1: x}`). A key that is not a plain name (a number, a text with spaces,
    newlines or markup, a long one) is quoted and shortened, so that a path is always one short line.
    """
    text = ""
    for position, part in enumerate(loc):
        is_key = last_is_key and position == len(loc) - 1
        if isinstance(part, int) and not isinstance(part, bool) and not is_key:
            text += f"[{part}]"
            continue
        name = part if isinstance(part, str) and _PLAIN_KEY.match(part) else short_repr(part, 40)
        text += f".{name}" if text else name
    return text


_path = key_path


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr, cutting strings at their end (not their middle) and naming huge integers."""

    def repr_str(self, x: str, level: int) -> str:
        return repr(x[: self.maxstring])

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 256:  # repr() of a 5000-digit integer raises; and 78 digits say enough
            return f"<an integer of about {round(x.bit_length() * 0.30103)} digits>"
        return repr(x)


_REPR = _ShortRepr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = 100
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 12


def short_repr(value: Any, limit: int = 80) -> str:
    """Return `repr(value)` on one line of at most `limit` characters, without walking all of a huge value."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a value whose repr fails must not hide the error being reported
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", "\\n").replace("\r", "\\r")  # repr keeps no raw newline; be sure
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_line(error: Any, root: type[BaseModel]) -> str:
    """Return one validation error as `<key path>: expected <what>, got <value>`."""
    loc = shown_loc(error["loc"], root)
    kind = error["type"]
    if kind in ("union_tag_not_found", "union_tag_invalid"):  # a backend without a known kind
        union = _walk(root, tuple(error["loc"]))[0]
        if isinstance(union, Tagged):
            if kind == "union_tag_not_found":
                return f"{_path((*loc, union.key))}: missing required key"
            tags = ", ".join(map(repr, union.models))
            got = error["input"].get(union.key) if isinstance(error["input"], dict) else error["input"]
            return f"{_path((*loc, union.key))}: expected one of {tags}, got {short_repr(got)}"
    if kind == "missing":
        return f"{_path(loc)}: missing required key"
    if kind in ("extra_forbidden", "invalid_key"):
        section = _section_at(root, tuple(error["loc"])[:-1])
        keys = ", ".join(sorted(section.model_fields)) if section is not None else ""
        path = key_path(loc, last_is_key=True)
        return f"{path}: unknown key (expected one of: {keys})"
    if kind == CROSS_ERROR:
        expected = error["ctx"]["expected"]
    else:
        where, field, _ = _walk(root, tuple(error["loc"]))
        if field is not None:
            expected = _expected(field, kind_only=kind in _TYPE_ERRORS)
        elif where is not None:
            expected = "a mapping"
        else:
            expected = "a valid value"
    return f"{_path(loc)}: expected {expected}, got {short_repr(error['input'])}"


def sort_key(error: Any) -> tuple[tuple[int, int | str], ...]:
    """Order errors by key path, list indices as numbers."""
    return tuple((0, part) if isinstance(part, int) else (1, str(part)) for part in error["loc"])


_REFERENCE_HEADER = """\
<!-- Generated from reportgen/config/schema.py and sections.py; do not edit by hand. Regenerate with
     .venv/bin/python -c "from reportgen.config import schema; print(schema.config_reference(), end='')" \\
     >docs/config.md
     tests/test_config.py fails when this file and the schema disagree. -->
# Config reference

A config is a YAML file; every key may be left out and then takes its default, except where the
default says *required*. Unknown keys are errors. See `configs/demo.yaml` for a commented example.
`backends[onnxruntime].quantization` is a key of the backends of kind onnxruntime only.

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
            item.model_dump(mode="json", exclude_unset=True) if isinstance(item, BaseModel) else item
            for item in value
        ]
    return f"`{json.dumps(value)}`"


def _row(key: str, field: FieldInfo, accepts: str | None = None) -> str:
    nullable = _unwrap(field.annotation)[1]
    accepts = accepts or _expected(field) + (" or null" if nullable else "")
    cells = [f"`{key}`", accepts, _default_text(field), field.description or ""]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _reference_rows(section: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in section.model_fields.items():
        key = prefix + name
        annotation = _unwrap(field.annotation)[0]
        rows.append(_row(key, field))
        item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None
        if _is_section(annotation):
            rows += _reference_rows(annotation, key + ".")
        elif _is_section(item):
            rows += _reference_rows(item, key + "[].")
        elif (union := tagged(item)) is not None:
            rows += _union_rows(union, key)
    return rows


def _union_rows(union: Tagged, key: str) -> list[str]:
    """Return the rows of a list of tagged sections: the shared keys as `key[].name`, then each tag's
    own keys as `key[<tag>].name` (`backends[onnxruntime].quantization`)."""
    shared = union.base.model_fields
    tags = "one of " + ", ".join(map(repr, union.models))
    docs = {tag: (model.__doc__ or "").strip().rstrip(".") for tag, model in union.models.items()}
    kinds = "; ".join(f"{tag}: {doc}" for tag, doc in docs.items()) + "."
    rows = []
    for name, field in shared.items():
        if name == union.key:  # its choices and their meaning come from the members
            field = FieldInfo.merge_field_infos(field, description=f"{field.description}: {kinds}")
        rows.append(_row(f"{key}[].{name}", field, tags if name == union.key else None))
    for tag, model in union.models.items():
        own = {name: f for name, f in model.model_fields.items() if name not in shared}
        rows += [_row(f"{key}[{tag}].{name}", f) for name, f in own.items()]
    return rows


def reference(root: type[BaseModel]) -> str:
    """Return the markdown reference of every key of the schema ``root``."""
    return _REFERENCE_HEADER + "\n".join(_reference_rows(root, "")) + "\n"
