"""How numbers read to people, in the app and on the command line: compact currency ($1.2M), exact
currency ($1,234,567), percents, days. One module so every place shows the same value the same way.

Rules: a value is rounded before its suffix is chosen (999,950 is "$1.0M", never "$1,000.0K"); the sign
comes before the symbol as U+2212 ("−$1.5K"), and only when the rounded value is not zero; a missing
value (None, NaN, pd.NA, NaT) or an infinite one shows as an em dash.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

NO_VALUE = "—"
MINUS = "\u2212"
SUFFIXES = ((1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T"))


def is_missing(value: object) -> bool:
    """None, NaN, pd.NA and NaT alike (pd.isna knows them all; a non-scalar is never "missing")."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _signed(value: object, body: Callable[[float], str]) -> str:
    """`body` formats the magnitude; the sign goes in front unless the shown digits are all zero."""
    if is_missing(value):
        return NO_VALUE
    v = float(value)
    if not math.isfinite(v):
        return NO_VALUE
    text = body(abs(v))
    return MINUS + text if v < 0 and any(c in "123456789" for c in text) else text


def _compact_money(magnitude: float) -> str:
    """Move to the next suffix while the rounded text still reads 1,000 or more."""
    text, suffix = f"{magnitude:,.0f}", ""
    for limit, next_suffix in SUFFIXES:
        if float(text.replace(",", "")) < 1000:
            break
        text, suffix = f"{magnitude / limit:,.1f}", next_suffix
    return f"${text}{suffix}"


def money(value: object) -> str:
    """Compact: $950, $1.0K, $1.5M, −$2.0B (one decimal once a suffix is used)."""
    return _signed(value, _compact_money)


def money_exact(value: object) -> str:
    """Whole dollars with separators, for where the gaps matter (rankings, totals of a deal list)."""
    return _signed(value, lambda m: f"${m:,.0f}")


def percent(value: object) -> str:
    return _signed(value, lambda m: f"{m * 100:.1f}%")


def count(value: object) -> str:
    return _signed(value, lambda m: f"{m:,.0f}")


def days(value: object) -> str:
    return _signed(value, lambda m: f"{m:,.0f} days")


def ratio(value: object) -> str:
    return _signed(value, lambda m: f"{m:.1f}x")


def money_per_day(value: object) -> str:
    text = money(value)
    return text if text == NO_VALUE else f"{text}/day"


FORMATTERS: dict[str, Callable[[object], str]] = {
    "currency": money,
    "percent": percent,
    "count": count,
    "days": days,
    "ratio": ratio,
    "currency_per_day": money_per_day,
}


def by_unit(unit: str, value: object) -> str:
    """The compact text of a KPI value of this unit (see spm_core.kpis for the units)."""
    return FORMATTERS[unit](value)


def exact_by_unit(unit: str, value: object) -> str:
    """Like by_unit, but currency in whole dollars (tables and the command line)."""
    return money_exact(value) if unit == "currency" else by_unit(unit, value)
