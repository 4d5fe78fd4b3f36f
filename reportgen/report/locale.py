"""Message catalogs and number/date formatting: every string and number a page shows goes through here.

A catalog (templates/locales/<code>.yaml) holds a language's messages and the way it writes numbers
(``format.decimal``, ``format.group``, ``format.percent``, ``format.ratio``) and dates (``format.date``,
``format.months``), so adding a language means adding one file.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import cache

from typing_extensions import TypeIs

from reportgen.catalog import LOCALES, load_catalog, placeholders  # noqa: F401 (re-exported)
from reportgen.errors import ReportgenError

DASH = "—"


def _finite(x: object) -> TypeIs[float]:  # ints too: an int is a float to the type checker
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class Locale:
    """One language: its messages, and numbers, percentages, ratios and dates written its way."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.catalog = load_catalog(code)
        # English digits use "," to group and "." for decimals; swap both at once for other locales.
        self._digits = str.maketrans({",": self.t("format.group"), ".": self.t("format.decimal")})
        self._months = self.t("format.months").split()
        if len(self._months) != 12:
            raise ReportgenError(f"templates/locales/{code}.yaml: format.months needs 12 names")

    def t(self, key: str, **values: object) -> str:
        """Return message `key` with its {placeholders} filled in."""
        if key not in self.catalog:
            raise ReportgenError(f"templates/locales/{self.code}.yaml: no message {key!r}")
        return self.catalog[key].format(**values) if values else self.catalog[key]

    def has(self, key: str) -> bool:
        """Return whether the catalog holds message `key`."""
        return key in self.catalog

    def _n(self, text: str) -> str:
        return text.translate(self._digits)

    def num(self, x: float | int | None) -> str:
        """Format a number with sensible significant digits; None (or NaN) as a dash."""
        if not _finite(x):
            return DASH
        if isinstance(x, int):
            return self._n(f"{x:,}")
        a = abs(x)
        if a == 0:
            return "0"
        if a >= 1000:
            return self._n(f"{x:,.0f}")
        if a >= 100:
            return self._n(f"{x:.1f}")
        if a >= 1:
            return self._n(f"{x:.2f}")
        if a >= 0.001:
            return self._n(f"{x:.4g}")
        return self.sci(x)

    def fixed(self, x: float | None, decimals: int = 1) -> str:
        """Format a number with a fixed count of decimals."""
        return self._n(f"{x:,.{decimals}f}") if _finite(x) else DASH

    def ms(self, x: float | None) -> str:
        """Format a duration in milliseconds: '12.34 ms'."""
        return self._n(f"{x:,.2f}") + " ms" if _finite(x) else DASH

    def mb(self, x: float | None) -> str:
        """Format a size in megabytes: '12.3 MB'."""
        return self._n(f"{x:,.1f}") + " MB" if _finite(x) else DASH

    def pct(self, change: float | None) -> str:
        """Format a relative change given as a fraction, signed: 0.123 -> '+12.3%'."""
        if not _finite(change):
            return DASH
        text = f"{change * 100:+.1f}"
        text = "0.0" if text in ("+0.0", "-0.0") else text
        return self.t("format.percent", value=self._n(text))

    def rate(self, fraction: float | None) -> str:
        """Format a fraction in [0, 1] as an unsigned percentage: 0.987 -> '98.7%'."""
        if not _finite(fraction):
            return DASH
        return self.t("format.percent", value=self._n(f"{fraction * 100:.1f}"))

    def ratio(self, x: float | None) -> str:
        """Format a ratio: 2.013 -> '2.01×'."""
        return self.t("format.ratio", value=self._n(f"{x:.2f}")) if _finite(x) else DASH

    def sci(self, x: float | None) -> str:
        """Format a tiny difference in scientific notation: '3.1e-06'."""
        if not _finite(x):
            return DASH
        return "0" if x == 0 else self._n(f"{x:.1e}")

    def cosine(self, x: float | None) -> str:
        """Format a cosine similarity; values next to 1 as '1 − 2.0e-10' so the difference stays visible."""
        if not _finite(x):
            return DASH
        return f"1 − {self.sci(1 - x)}" if 0.9999 <= x < 1 else self._n(f"{x:.6g}")

    def text(self, x: object) -> str:
        """Format an optional value as text; None as a dash."""
        return DASH if x is None else str(x)

    def date(self, moment: datetime) -> str:
        """Format a UTC moment the locale's way: '28 November 2026, 05:42 UTC'."""
        return self.t(
            "format.date",
            year=moment.year,
            month=self._months[moment.month - 1],
            day=moment.day,
            time=moment.strftime("%H:%M"),
        )


@cache
def get_locale(code: str) -> Locale:
    """Return the Locale of `code` (an unknown code is a ReportgenError)."""
    return Locale(code)


# The English formatters, for text that is not a page (the compare command's tables).
def fmt_num(x: float | int | None) -> str:
    """Format a number the English way."""
    return get_locale("en").num(x)


def fmt_ms(x: float | None) -> str:
    """Format milliseconds the English way."""
    return get_locale("en").ms(x)


def fmt_mb(x: float | None) -> str:
    """Format megabytes the English way."""
    return get_locale("en").mb(x)


def fmt_pct(change: float | None) -> str:
    """Format a signed relative change the English way."""
    return get_locale("en").pct(change)


def fmt_rate(fraction: float | None) -> str:
    """Format a fraction as a percentage the English way."""
    return get_locale("en").rate(fraction)


def fmt_ratio(x: float | None) -> str:
    """Format a ratio the English way."""
    return get_locale("en").ratio(x)


def fmt_sci(x: float | None) -> str:
    """Format a small number in scientific notation."""
    return get_locale("en").sci(x)


# The filters a template may apply to a number; each is a Locale method of the same name.
FILTER_NAMES = ("num", "fixed", "ms", "mb", "pct", "rate", "ratio", "sci", "cosine", "text")
