"""The message catalogs (templates/locales/<code>.yaml): every text a finding or a page shows.

Below the stages: the analysis writes a finding's English text from its key, the report renders it
again in the page's language, both from these catalogs.
"""

from __future__ import annotations

import string
from functools import cache

import yaml

from reportgen.errors import ReportgenError
from reportgen.shipped import templates_dir

LOCALES = ("en", "ko")


@cache
def load_catalog(locale: str) -> dict[str, str]:
    """Return the flat key -> message mapping of one locale."""
    if locale not in LOCALES:
        raise ReportgenError(f"unknown locale {locale!r}; expected one of: {', '.join(LOCALES)}")
    path = templates_dir() / "locales" / f"{locale}.yaml"
    with path.open(encoding="utf-8") as f:
        catalog = yaml.safe_load(f)
    if not isinstance(catalog, dict) or not all(isinstance(v, str) for v in catalog.values()):
        raise ReportgenError(f"{path}: expected a flat mapping of message keys to strings")
    return catalog


def placeholders(message: str) -> set[str]:
    """Return the names of the {placeholders} in a catalog message."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}
