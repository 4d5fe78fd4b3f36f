"""Message catalogs and number formatting: every string and number a page shows goes through here."""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from functools import cache
from pathlib import Path

import yaml

from reportgen.errors import ReportgenError

LOCALES_DIR = Path(__file__).resolve().parent.parent / "templates" / "locales"
LOCALES = ("en", "ko")
DASH = "—"


@cache
def load_catalog(locale: str) -> dict[str, str]:
    """Return the flat key -> message mapping of one locale."""
    if locale not in LOCALES:
        raise ReportgenError(f"unknown locale {locale!r}; expected one of: {', '.join(LOCALES)}")
    path = LOCALES_DIR / f"{locale}.yaml"
    with path.open(encoding="utf-8") as f:
        catalog = yaml.safe_load(f)
    if not isinstance(catalog, dict) or not all(isinstance(v, str) for v in catalog.values()):
        raise ReportgenError(f"{path}: expected a flat mapping of message keys to strings")
    return catalog


def placeholders(message: str) -> set[str]:
    """Return the names of the {placeholders} in a catalog message."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def translate(locale: str, key: str, **values: object) -> str:
    """Return the message `key` of `locale` with its {placeholders} filled in."""
    catalog = load_catalog(locale)
    if key not in catalog:
        raise ReportgenError(f"templates/locales/{locale}.yaml: no message {key!r}")
    return catalog[key].format(**values) if values else catalog[key]


def translator(locale: str) -> Callable[..., str]:
    """Return `translate` bound to one locale (checked now, so a bad locale fails early)."""
    load_catalog(locale)

    def tr(key: str, **values: object) -> str:
        return translate(locale, key, **values)

    return tr


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt_num(x: float | int | None) -> str:
    """Format a number with sensible significant digits; None (or NaN) as a dash."""
    if not _finite(x):
        return DASH
    if isinstance(x, int):
        return f"{x:,}"
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    if a >= 0.001:
        return f"{x:.4g}"
    return fmt_sci(x)


def fmt_ms(x: float | None) -> str:
    """Format a duration in milliseconds: '12.34 ms'."""
    return f"{x:.2f} ms" if _finite(x) else DASH


def fmt_mb(x: float | None) -> str:
    """Format a size in megabytes: '12.3 MB'."""
    return f"{x:.1f} MB" if _finite(x) else DASH


def fmt_pct(change: float | None) -> str:
    """Format a relative change given as a fraction, signed: 0.123 -> '+12.3%'."""
    if not _finite(change):
        return DASH
    text = f"{change * 100:+.1f}%"
    return "0.0%" if text in ("+0.0%", "-0.0%") else text


def fmt_rate(fraction: float | None) -> str:
    """Format a fraction in [0, 1] as an unsigned percentage: 0.987 -> '98.7%'."""
    return f"{fraction * 100:.1f}%" if _finite(fraction) else DASH


def fmt_ratio(x: float | None) -> str:
    """Format a ratio: 2.013 -> '2.01×'."""
    return f"{x:.2f}×" if _finite(x) else DASH


def fmt_sci(x: float | None) -> str:
    """Format a tiny difference in scientific notation: '3.1e-06'."""
    if not _finite(x):
        return DASH
    return "0" if x == 0 else f"{x:.1e}"


def fmt_cosine(x: float | None) -> str:
    """Format a cosine similarity; values next to 1 as '1 − 2.0e-10' so the difference stays visible."""
    if not _finite(x):
        return DASH
    return f"1 − {fmt_sci(1 - x)}" if 0.9999 <= x < 1 else f"{x:.6g}"


def fmt_text(x: object) -> str:
    """Format an optional value as text; None as a dash."""
    return DASH if x is None else str(x)


FILTERS: dict[str, Callable[..., str]] = {
    "num": fmt_num,
    "ms": fmt_ms,
    "mb": fmt_mb,
    "pct": fmt_pct,
    "rate": fmt_rate,
    "ratio": fmt_ratio,
    "sci": fmt_sci,
    "cosine": fmt_cosine,
    "text": fmt_text,
}
