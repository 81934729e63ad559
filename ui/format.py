"""How numbers read on screen: currency compact ($1.2M), percents, days; empty values say why."""

from __future__ import annotations

import math

NO_VALUE = "—"


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: object) -> str:
    if is_missing(value):
        return NO_VALUE
    v = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= limit:
            return f"${v / limit:,.1f}{suffix}"
    return f"${v:,.0f}"


def percent(value: object) -> str:
    return NO_VALUE if is_missing(value) else f"{float(value) * 100:.1f}%"


def count(value: object) -> str:
    return NO_VALUE if is_missing(value) else f"{float(value):,.0f}"


def days(value: object) -> str:
    return NO_VALUE if is_missing(value) else f"{float(value):,.0f} days"


def ratio(value: object) -> str:
    return NO_VALUE if is_missing(value) else f"{float(value):.1f}x"


FORMATTERS = {
    "currency": money,
    "percent": percent,
    "count": count,
    "days": days,
    "ratio": ratio,
    "currency_per_day": lambda v: NO_VALUE if is_missing(v) else f"{money(v)}/day",
}


def by_unit(unit: str, value: object) -> str:
    return FORMATTERS[unit](value)
