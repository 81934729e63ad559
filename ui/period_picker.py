"""Choose a calendar month or quarter (the period reviews and the pulse work on whole months and quarters,
not on the filter bar's free ranges)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from spm_core.filters import Period
from spm_core.reports.periods import period_label


def recent_periods(as_of: date, quarters: bool, count: int) -> list[Period]:
    """The month or quarter holding as_of and the `count - 1` before it, latest first."""
    current = Period.quarter(as_of) if quarters else Period.month(as_of)
    periods = [current]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods


def period_picker(as_of: date, key: str) -> Period:
    """A Quarter/Month switch and the period: the last 8 quarters or 12 months, the current one first."""
    left, right = st.columns([1, 2])
    quarters = left.segmented_control("Period kind", ["Quarter", "Month"], default="Quarter", key=f"{key}_kind") != "Month"
    choices = recent_periods(as_of, quarters, 8 if quarters else 12)
    return right.selectbox("Period", choices, format_func=period_label, key=f"{key}_period")
