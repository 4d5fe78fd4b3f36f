"""The values a results document holds, each with the phrase that says what it must be.

A leaf validates one value without ever converting it (``"3"`` is not a number, ``true`` is not a
count, ``NaN`` is not finite) and, when it refuses one, raises the error whose message is the
"expected ..." phrase of the reader's one-line message (reportgen/results/reader.py). They are the
``Annotated`` metadata of the schema's TypedDicts (reportgen/results/schema.py), so the bounds the
docs state (docs/results.md: "float 0..1", "int", "str | null") are declared once, next to the key.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic_core import PydanticCustomError, core_schema

# The error type of a refused leaf; its context carries the "expected ..." phrase.
LEAF_ERROR = "reportgen_results"
MAX_INTEGER = 2**63 - 1  # what numpy's int64 (and every count a run writes) holds
SHOWN = 80  # characters of a refused value shown in a message


def shown(value: object) -> str:
    """Return ``repr(value)``, shortened to about 80 characters (and never more than one line)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
        return "a number too long to print"
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def is_number(value: object) -> bool:
    """Return whether ``value`` is a finite int or float (not a bool, not NaN, not an infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) <= sys.float_info.max  # converts to a float
    return math.isfinite(value)


def is_integer(value: object) -> bool:
    """Return whether ``value`` is an int (not a bool) that fits in 64 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INTEGER


def parse_time(value: object) -> datetime | None:
    """Return the time of an ISO 8601 string with a time zone ('2026-11-28T05:40:00Z'), else None.

    The same reading as the pages' (``fromisoformat`` after 'Z' -> '+00:00'), so whatever passes here
    renders; a time without a zone is refused, as it cannot be ordered among the others."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True)
class Leaf:
    """Pydantic metadata: accept a value as it is when ``accepts`` says so, else refuse it with
    ``expected`` (and "or null" where null is allowed). Replaces pydantic's own validation of the
    annotated type, so nothing is coerced."""

    expected: str
    accepts: Callable[[Any], bool]
    nullable: bool = False

    @property
    def text(self) -> str:
        return f"{self.expected} or null" if self.nullable else self.expected

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def validate(self, value: Any) -> Any:
        if (value is None and self.nullable) or (value is not None and self.accepts(value)):
            return value
        raise PydanticCustomError(LEAF_ERROR, "expected {expected}", {"expected": self.text})

    def or_null(self) -> Leaf:
        return Leaf(self.expected, self.accepts, nullable=True)


def _range(low: float | None = None, high: float | None = None, above: bool = False) -> Callable[[Any], bool]:
    def accepts(value: Any) -> bool:
        if not is_number(value):
            return False
        if low is not None and (value <= low if above else value < low):
            return False
        return high is None or value <= high

    return accepts


def choice(*choices: str) -> Leaf:
    """Return the leaf of a known enum: one of ``choices``."""
    return Leaf(
        "one of " + ", ".join(repr(c) for c in choices), lambda v: isinstance(v, str) and v in choices
    )


NUMBER = Leaf("a finite number", is_number)
POSITIVE = Leaf("a positive number", _range(0, above=True))
NON_NEGATIVE = Leaf("a non-negative number", _range(0))
SHARE = Leaf("a number in [0, 1]", _range(0, 1))
INTEGER = Leaf("an integer", is_integer)
COUNT = Leaf("a non-negative integer", lambda v: is_integer(v) and v >= 0)
POSITIVE_INTEGER = Leaf("a positive integer", lambda v: is_integer(v) and v > 0)
TEXT = Leaf("a string", lambda v: isinstance(v, str))
FLAG = Leaf("true or false", lambda v: isinstance(v, bool))
TIME = Leaf(
    "an ISO 8601 time with its zone, such as '2026-11-28T05:40:00Z'", lambda v: parse_time(v) is not None
)
SCALAR = Leaf(
    "a string, a number, true, false or null",
    lambda v: isinstance(v, str | bool) or is_number(v),
    nullable=True,
)
INTERVAL = Leaf(
    "a [low, high] pair of positive numbers, low <= high",
    lambda v: isinstance(v, list) and len(v) == 2 and all(map(POSITIVE.accepts, v)) and v[0] <= v[1],
)

# The annotated types the schema declares keys with; `Opt...` also takes null.
Number = Annotated[float, NUMBER]
OptNumber = Annotated[float | None, NUMBER.or_null()]
Positive = Annotated[float, POSITIVE]
OptPositive = Annotated[float | None, POSITIVE.or_null()]
NonNegative = Annotated[float, NON_NEGATIVE]
OptNonNegative = Annotated[float | None, NON_NEGATIVE.or_null()]
Share = Annotated[float, SHARE]
OptShare = Annotated[float | None, SHARE.or_null()]
Integer = Annotated[int, INTEGER]
Count = Annotated[int, COUNT]
OptCount = Annotated[int | None, COUNT.or_null()]
PositiveInteger = Annotated[int, POSITIVE_INTEGER]
OptPositiveInteger = Annotated[int | None, POSITIVE_INTEGER.or_null()]
Text = Annotated[str, TEXT]
OptText = Annotated[str | None, TEXT.or_null()]
Flag = Annotated[bool, FLAG]
OptFlag = Annotated[bool | None, FLAG.or_null()]
Time = Annotated[str, TIME]
Scalar = Annotated[str | float | bool | None, SCALAR]
OptInterval = Annotated[list[float] | None, INTERVAL.or_null()]
