"""The one check of a results document, for every door: the file, its JSON, its schema, its invariants.

``load`` reads a file (missing, a folder, not UTF-8, not JSON, nested too deep: one line each);
``problems`` lists what is wrong with a document, in order: a value nested deeper than any results
document nests, the schema (reportgen/results/schema.py: required keys, types, known enums, bounds,
the version label), a number that is not finite anywhere (NaN in the config would break the JSON
writer), then the rules across keys (reportgen/results/invariants.py). ``check`` raises the first
as a ResultsError (exit 2): ``x.json: backends.onnxruntime.latency_ms.median: expected a positive
number, got -3.0``. Nothing here writes anything.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from typing_extensions import NotRequired, TypedDict

from reportgen.errors import ResultsError
from reportgen.results import invariants
from reportgen.results.invariants import Loc, Problem
from reportgen.results.leaves import LEAF_ERROR, Positive, PositiveInteger, shown
from reportgen.results.schema import Document, Merged

# The deepest a results document nests is 9 (a merged machine's example detection's box); the stored
# config and settings are free-form, but nothing a run writes is anywhere near this.
MAX_DEPTH = 32
# pydantic's error types for containers, in the words of the message.
_CONTAINERS = {
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "list_type": "expected a list",
    "too_short": "expected a non-empty list",
}
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def key_path(loc: Loc) -> str:
    """Return a key path as messages write it: ``machines[1].backends.onnxruntime.latency_ms``.

    A key that is not a plain word is quoted (``backends['a.b']``), so a path stays one line."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{shown(part)}]"
    return out


def line(source: str, problem: Problem) -> str:
    """Return the one-line message of a problem in ``source`` (a file, or what gave the document)."""
    where = key_path(problem.loc)
    return f"{source}: {where}: {problem.text}" if where else f"{source}: {problem.text}"


def load(path: Path) -> Any:
    """Return the JSON value of a results file, or raise ResultsError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except IsADirectoryError:
        raise ResultsError(f"{path}: is a folder, not a results file") from None
    except UnicodeDecodeError as e:
        raise ResultsError(
            f"{path}: not a readable results file (not UTF-8 text: {e.reason} at byte {e.start})"
        ) from None
    except OSError as e:
        raise ResultsError(f"{path}: not a readable results file ({e.strerror or e})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not a readable results file (not JSON: {e})") from None
    except RecursionError:
        raise ResultsError(
            f"{path}: not a readable results file (nested deeper than {MAX_DEPTH} levels)"
        ) from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise ResultsError(f"{path}: not a readable results file (a number with too many digits)") from None


def check(document: Any, source: str) -> None:
    """Raise ResultsError (one line: the file, the key path, what was expected) unless the document
    (one machine's or a merged one, upgraded to today's schema) is a valid results document."""
    for problem in problems(document):
        raise ResultsError(line(source, problem))


def problems(document: Any) -> list[Problem]:
    """Return what is wrong with a results document, in the order ``check`` reports it: the first
    kind found (depth, schema, non-finite numbers, invariants), every problem of that kind."""
    deep, nonfinite = _walk(document)
    if deep:
        return deep
    merged = isinstance(document, dict) and "machines" in document
    try:
        _adapter(merged).validate_python(document)
    except ValidationError as e:
        return [_problem(error) for error in e.errors(include_url=False)]
    if nonfinite:
        return nonfinite
    found = invariants.merged_problems(document) if merged else invariants.problems(document)
    return list(found)


@cache
def _adapter(merged: bool) -> TypeAdapter:
    return TypeAdapter(Merged if merged else Document)


def _problem(error: ErrorDetails) -> Problem:
    loc, value = tuple(error["loc"]), error.get("input")
    if error["type"] == LEAF_ERROR:
        return Problem(loc, f"{error['msg']}, got {shown(value)}")
    if error["type"] == "missing":
        return Problem(loc, "required key missing")
    expected = _CONTAINERS.get(error["type"]) or error["msg"][:1].lower() + error["msg"][1:]
    return Problem(loc, f"{expected}, got {shown(value)}")


def _walk(document: Any) -> tuple[list[Problem], list[Problem]]:
    """Return (values nested deeper than MAX_DEPTH, numbers that are not finite), without recursion."""
    nonfinite: list[Problem] = []
    stack: list[tuple[Loc, Any]] = [((), document)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            nonfinite.append(Problem(loc, f"expected a finite number, got {shown(value)}"))
        elif isinstance(value, dict | list):
            if len(loc) >= MAX_DEPTH:
                return [Problem(loc, f"expected at most {MAX_DEPTH} levels of nesting, got deeper")], []
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(((*loc, key), item) for key, item in reversed(list(items)))
    return [], nonfinite


# --- before an upgrade -------------------------------------------------------------------------------
# What the upgrade steps (document.UPGRADES) read of an older document, checked before they run, so a
# malformed old file gets the same one line as a current one instead of a KeyError half-way through.


class _OldLatency(TypedDict):
    median: Positive
    n: PositiveInteger
    samples: list[Positive]


class _OldBackend(TypedDict):
    latency_ms: NotRequired[_OldLatency | None]
    parity: NotRequired[dict[str, Any] | None]
    memory_mb: NotRequired[dict[str, Any] | None]


class _OldConfig(TypedDict, total=False):
    analysis: dict[str, Any]
    measurement: dict[str, Any]


class _OldExample(TypedDict, total=False):
    detections: dict[str, Any]


class _Old(TypedDict, total=False):
    config: _OldConfig
    model: dict[str, Any]
    environment: dict[str, Any]
    backends: dict[str, _OldBackend]
    examples: list[_OldExample]


@cache
def _old_adapter() -> TypeAdapter:
    return TypeAdapter(_Old)


def check_upgradable(document: dict, source: str) -> None:
    """Raise ResultsError (one line) unless the upgrade steps can read this older document."""
    deep, _ = _walk(document)
    if deep:
        raise ResultsError(line(source, deep[0]))
    try:
        _old_adapter().validate_python(document)
    except ValidationError as e:
        raise ResultsError(line(source, _problem(e.errors(include_url=False)[0]))) from None
