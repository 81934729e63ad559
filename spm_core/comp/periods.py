"""Commission periods as people write them: 2026-Q3, 2026-07 or 2026."""

from __future__ import annotations

import re
from datetime import date

from ..filters import Period

_FORMS = (
    (re.compile(r"^(\d{4})-Q([1-4])$", re.I), lambda y, q: Period.quarter(date(y, 3 * q - 2, 1))),
    (re.compile(r"^(\d{4})-(\d{2})$"), lambda y, m: Period.month(date(y, m, 1))),
    (re.compile(r"^(\d{4})$"), lambda y: Period.year(date(y, 1, 1))),
)


def parse_period(text: str) -> Period:
    """The period a label names; ValueError with the accepted forms otherwise."""
    for pattern, build in _FORMS:
        match = pattern.match(text.strip())
        if match:
            try:
                return build(*map(int, match.groups()))
            except ValueError:
                break
    raise ValueError(f"Not a period: {text!r}; write a quarter (2026-Q3), a month (2026-07) or a year (2026).")


def period_label(period: Period) -> str:
    """The shortest label parse_period reads back to the same period (else start..end)."""
    start, end = period.start, period.end
    for label in (f"{start.year}", f"{start.year}-Q{(start.month - 1) // 3 + 1}", f"{start.year}-{start.month:02d}"):
        if parse_period(label) == period:
            return label
    return f"{start}..{end}"
