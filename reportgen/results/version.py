"""The version label rule, once: a report's version names a folder of the site and a URL segment.

Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters, and not a
name the site keeps for itself ('assets', 'index', in any case: case-insensitive file systems collide
too). So a label is never a path ('..', 'a/b'), never hidden ('.x'), never empty.
"""

from __future__ import annotations

import re

from reportgen.errors import ResultsError
from reportgen.results.leaves import shown

MAX_LENGTH = 64
RESERVED = ("assets", "index")  # site/assets/ and site/index.html sit next to the version folders
PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # with MAX_LENGTH and RESERVED; the config's JSON Schema
EXPECTED = (
    "a label of letters, digits, '.', '_' or '-' that starts with a letter or digit"
    f" (at most {MAX_LENGTH} characters, not 'assets' or 'index')"
)
_LABEL = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_LENGTH - 1}}}")


def is_version_label(label: object) -> bool:
    """Return whether ``label`` may name a version of the site."""
    return isinstance(label, str) and _LABEL.fullmatch(label) is not None and label.lower() not in RESERVED


def check_version_label(label: object, source: str) -> str:
    """Return ``label`` if it may name a version; else raise ResultsError (exit 2), one line naming
    ``source`` (a file, or what gave the label) and what was expected."""
    if not isinstance(label, str) or not is_version_label(label):
        raise ResultsError(f"{source}: version: expected {EXPECTED}, got {shown(label)}")
    return label
