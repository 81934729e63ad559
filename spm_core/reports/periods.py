"""The periods a review covers: a calendar month ("2026-11") or quarter ("2026-Q3"), and the one after it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from ..filters import Period

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(text: str) -> Period:
    """`2026-Q3` or `2026-11` as a Period; anything else is refused with the accepted forms."""
    text = text.strip().upper()
    if m := _QUARTER.match(text):
        return Period.quarter(date(int(m[1]), 3 * int(m[2]) - 2, 1))
    if m := _MONTH.match(text):
        return Period.month(date(int(m[1]), int(m[2]), 1))
    raise ValueError(f"Not a review period: {text!r}; expected a quarter like 2026-Q3 or a month like 2026-11.")


def is_quarter(period: Period) -> bool:
    return period == Period.quarter(period.start)


def is_reviewable(period: Period) -> bool:
    return period == Period.month(period.start) or is_quarter(period)


def check_reviewable(period: Period) -> None:
    """Reviews are of whole calendar months or quarters (so "next period" and "previous period" are clear)."""
    if not is_reviewable(period):
        raise ValueError(f"A review covers a calendar month or quarter, not {period.start} – {period.end}.")


def next_period(period: Period) -> Period:
    """The month or quarter after `period` (same kind)."""
    check_reviewable(period)
    after = period.end + timedelta(days=1)
    return Period.quarter(after) if is_quarter(period) else Period.month(after)


def period_label(period: Period) -> str:
    """`2026-Q3` or `2026-11`: the same text parse_period reads."""
    if is_quarter(period):
        return f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"
    return f"{period.start:%Y-%m}"


ACCURACY_PERIODS = 4  # the reviewed period and the three before it
ACCURACY_WEEK = {"month": 2, "quarter": 6}  # the forecast is read half-way through the period


def accuracy_window(period: Period) -> tuple[int, list[Period]]:
    """The week the review reads forecast accuracy at, and the periods it shows (oldest first, the reviewed
    one last). period_facts stores these forecasts for the reviews of this and last month and quarter."""
    week = ACCURACY_WEEK["quarter" if is_quarter(period) else "month"]
    periods = [period]
    while len(periods) < ACCURACY_PERIODS:
        periods.insert(0, periods[0].previous())
    return week, periods
