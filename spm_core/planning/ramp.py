"""A rep's plan amount as monthly quotas: spread evenly over the period's months (to the cent), then
each month times the ramp factor of the rep's month of tenure (SPEC: month 1 = the hire month).

A hire starting in a later month has no quota before it (factor 0), so planned hires count from their
start date. The ramped month is rounded half-up to cents; the unramped months sum to the plan amount.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pandas as pd

from .cents import split_cents
from .model import Ramp


def months_of(start: date, end: date) -> list[date]:
    """First days of the months from start's month to end's month."""
    first = start.year * 12 + start.month - 1
    last = end.year * 12 + end.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(first, last + 1)]


def tenure_month(month: date, hire: date | None) -> int:
    """1 in the hire month, 2 the month after; 0 or less before the hire. No hire date: long tenured."""
    if hire is None:
        return 10_000
    return (month.year - hire.year) * 12 + month.month - hire.month + 1


def _half_up(value: Fraction) -> int:
    return int((value + Fraction(1, 2)) // 1)


def monthly_quotas(leaves: pd.DataFrame, months: list[date], ramp: Ramp) -> pd.DataFrame:
    """leaves: person_id, cents, hire_date. One row per person and month: full_cents (even spread),
    tenure, factor, cents (ramped), is_ramped (factor below 100 %)."""
    rows = []
    index = list(range(len(months)))
    for pid, cents, hire in leaves[["person_id", "cents", "hire_date"]].itertuples(index=False):
        hire = None if pd.isna(hire) else pd.Timestamp(hire).date()
        for share, month in zip(split_cents(int(cents), index, [1] * len(months)), months, strict=True):
            tenure = tenure_month(month, hire)
            factor = ramp.factor(tenure)
            rows.append((int(pid), month, share.cents, tenure, float(factor), _half_up(share.cents * factor), factor < 1))
    return pd.DataFrame(rows, columns=["person_id", "month", "full_cents", "tenure", "factor", "cents", "is_ramped"])
