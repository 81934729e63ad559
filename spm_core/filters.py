"""What a query is about (Filters: period, teams, segments, ...) and who may see it (Scope).

Both are frozen so they can key caches; both are applied by the metrics layer to every query.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

PERIOD_NAMES = ("this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_year")


def _add_months(d: date, months: int) -> date:
    """The first day of the month `months` after d's month, or date.min's month when that is earlier."""
    index = max(d.year * 12 + d.month - 1 + months, date.min.year * 12)
    return date(index // 12, index % 12 + 1, 1)


def _month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def _year_earlier(d: date) -> date:
    return d.replace(year=d.year - 1, day=min(d.day, calendar.monthrange(d.year - 1, d.month)[1]))


@dataclass(frozen=True)
class Period:
    """A closed date range [start, end], both days included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"A period cannot end ({self.end}) before it starts ({self.start}).")

    @classmethod
    def month(cls, d: date) -> Period:
        return cls(d.replace(day=1), _month_end(d))

    @classmethod
    def quarter(cls, d: date) -> Period:
        first = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
        return cls(first, _month_end(first.replace(month=first.month + 2)))

    @classmethod
    def year(cls, d: date) -> Period:
        return cls(date(d.year, 1, 1), date(d.year, 12, 31))

    @classmethod
    def named(cls, name: str, as_of: date) -> Period:
        """this_month, last_month, this_quarter, last_quarter, this_year or last_year, relative to as_of."""
        unit, _, which = name.partition("_")[2], None, name.partition("_")[0]
        builders = {"month": cls.month, "quarter": cls.quarter, "year": cls.year}
        if name not in PERIOD_NAMES:
            raise ValueError(f"Unknown period {name!r}; expected one of {', '.join(PERIOD_NAMES)}.")
        current = builders[unit](as_of)
        return current if which == "this" else current.previous()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_whole_months(self) -> bool:
        return self.start.day == 1 and self.end == _month_end(self.end)

    def previous(self) -> Period:
        """The period of the same length just before: the previous calendar months for whole months
        (so Q2 compares with Q1), otherwise the same number of days. Cut short at date.min rather than
        failing, so any Period has one (a period starting on date.min gets that one day)."""
        if self.start == date.min:
            return Period(date.min, date.min)
        end = self.start - timedelta(days=1)
        if self.is_whole_months:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            return Period(_add_months(self.start, -months), end)
        return Period(self.start - timedelta(days=min(self.days, (self.start - date.min).days)), end)

    def with_year_before(self) -> Period:
        """From the same day a year before the start (28 Feb for a 29 Feb, date.min at the calendar's
        start) to the end: a trend's window."""
        if self.start.year == date.min.year:
            return Period(date.min, self.end)
        day = min(self.start.day, calendar.monthrange(self.start.year - 1, self.start.month)[1])
        return Period(self.start.replace(year=self.start.year - 1, day=day), self.end)

    def year_before(self) -> Period:
        """The same days a year earlier (for "same period last year"): whole months stay whole months, and
        29 February becomes 28 February."""
        if self.is_whole_months:
            return Period(_add_months(self.start, -12), _month_end(_add_months(self.end, -12)))
        return Period(_year_earlier(self.start), _year_earlier(self.end))

    def elapsed_fraction(self, as_of: date) -> float:
        """Share of the period's days gone by on as_of (today counts as elapsed); 1 once it is over."""
        if as_of < self.start:
            return 0.0
        return min(1.0, ((min(as_of, self.end) - self.start).days + 1) / self.days)

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


@dataclass(frozen=True)
class Filters:
    """The user's slice. An empty set means "no filter" on that dimension; all are ids."""

    period: Period
    teams: frozenset[int] = field(default_factory=frozenset)
    segments: frozenset[int] = field(default_factory=frozenset)
    regions: frozenset[int] = field(default_factory=frozenset)
    products: frozenset[int] = field(default_factory=frozenset)
    reps: frozenset[int] = field(default_factory=frozenset)
    managers: frozenset[int] = field(default_factory=frozenset)  # each manager's whole subtree

    def with_period(self, period: Period) -> Filters:
        return replace(self, period=period)

    @property
    def people_filtered(self) -> bool:
        return bool(self.teams or self.segments or self.regions or self.reps or self.managers)


@dataclass(frozen=True)
class Scope:
    """The people a viewer may see. None means everyone (leaders, admins); otherwise the listed
    people, and with include_subtree everyone below them in the manager tree (managers)."""

    person_ids: frozenset[int] | None = None
    include_subtree: bool = False

    @classmethod
    def everyone(cls) -> Scope:
        return cls()

    @classmethod
    def only(cls, person_id: int) -> Scope:
        return cls(frozenset({person_id}))

    @classmethod
    def subtree(cls, person_id: int) -> Scope:
        return cls(frozenset({person_id}), include_subtree=True)

    @classmethod
    def nobody(cls) -> Scope:
        return cls(frozenset())

    @property
    def is_everyone(self) -> bool:
        return self.person_ids is None
