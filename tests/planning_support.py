"""A tiny organisation for planning tests: leader 1; managers 2 (reps 10, 11, 12) and 3 (reps 20, 21);
admin 99 outside the tree; rep 12 hired in March 2027 (a planned hire). Deals give prior-year bookings."""

from __future__ import annotations

from datetime import date

from spm_core.filters import Period, Scope
from spm_core.planning.rights import Planner


def _p(pid, name, role, manager, segment=1, hire=date(2020, 1, 1)):
    return {
        "id": pid,
        "name": name,
        "role": role,
        "manager_id": manager,
        "segment_id": segment,
        "hire_date": hire,
        "active": True,
        "ramp_months": 3,
    }


PEOPLE = [
    _p(1, "Lea Leader", "leader", None, None),
    _p(2, "Ann Manager", "manager", 1),
    _p(3, "Bob Manager", "manager", 1, 2),
    _p(10, "Rep Ten", "rep", 2),
    _p(11, "Rep Eleven", "rep", 2),
    _p(12, "Rep Twelve", "rep", 2, hire=date(2027, 3, 10)),
    _p(20, "Rep Twenty", "rep", 3, 2),
    _p(21, "Rep Twentyone", "rep", 3, 2),
    _p(99, "Ada Admin", "admin", None, None),
]


def _deal(i, owner, amount, close, won=True, closed=True):
    return {
        "id": i,
        "owner_id": owner,
        "amount": amount,
        "stage": "Closed Won" if won else ("Closed Lost" if closed else "Proposal"),
        "probability": 100 if won else (0 if closed else 60),
        "forecast_category": "Closed" if won else ("Omitted" if closed else "Best Case"),
        "created_date": date(2025, 1, 1),
        "close_date": close,
        "is_closed": closed,
        "is_won": won,
    }


# 2026 bookings: rep 10 300, rep 11 100, rep 20 400 (rep 21 and 12 none); an open deal of rep 21.
DEALS = [
    _deal(1, 10, 300.0, date(2026, 3, 1)),
    _deal(2, 11, 100.0, date(2026, 6, 1)),
    _deal(3, 20, 400.0, date(2026, 9, 1)),
    _deal(4, 21, 500.0, date(2027, 2, 1), won=False, closed=False),
]
AS_OF = date(2026, 11, 23)
YEAR_2027 = Period(date(2027, 1, 1), date(2027, 12, 31))


def planner(username: str, role: str = "leader", scope: Scope | None = None) -> Planner:
    """Who acts in a planning test: a leader (everyone in view) unless said otherwise."""
    return Planner(username, role, Scope.everyone() if scope is None else scope)


LEA = planner("lea")  # the leader who builds and publishes in most tests
