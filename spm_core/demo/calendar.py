"""Day arithmetic on int day numbers (days since 1970-01-01), vectorised with numpy."""

from __future__ import annotations

from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def to_date(day: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(day))


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 for each day number."""
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype(np.int64)


def month_start_day(month_idx: np.ndarray) -> np.ndarray:
    return np.asarray(month_idx, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def quarter_end_day(days: np.ndarray) -> np.ndarray:
    """The last day of each day's calendar quarter."""
    m = month_index(days)
    next_quarter_month = m - (m % 3) + 3
    return month_start_day(next_quarter_month) - 1


def calendar_month(days: np.ndarray) -> np.ndarray:
    """1..12 for each day number."""
    return month_index(days) % 12 + 1


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday .. 6 = Sunday (1970-01-01 was a Thursday)."""
    return (days + 3) % 7
