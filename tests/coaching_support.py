"""A tiny organisation for the coaching and contest tests, with helpers for deals and activities.

1 Lea Leader
+-- 4 Manny Manager (team 1): 5 Rita Rep, 6 Rob Rep, 9 Nina New (hired 15 Feb 2026)
+-- 7 Olga Other (team 2): 8 Sam Sibling
"""

from __future__ import annotations

from datetime import date

from spm_core.filters import Filters, Period
from spm_core.stages import DEFAULT_STAGES

Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))
IN_Q1 = Filters(Q1)
AFTER_Q1 = date(2026, 6, 1)
LEADER, MANAGER, RITA, ROB, OLGA, SAM, NINA = 1, 4, 5, 6, 7, 8, 9
STAGES = {s.name: s for s in DEFAULT_STAGES}
STAGE_ROWS = [s.__dict__.copy() for s in DEFAULT_STAGES]


def _person(pid: int, name: str, role: str, manager: int | None, team: int | None, hired: date | None = None) -> dict:
    return {
        "id": pid,
        "name": name,
        "role": role,
        "manager_id": manager,
        "team_id": team,
        "segment_id": 1,
        "region_id": 1,
        "active": True,
        "ramp_months": 0,
        "hire_date": hired,
    }


PEOPLE = [
    _person(LEADER, "Lea Leader", "leader", None, None),
    _person(MANAGER, "Manny Manager", "manager", LEADER, 1),
    _person(RITA, "Rita Rep", "rep", MANAGER, 1, date(2020, 1, 1)),
    _person(ROB, "Rob Rep", "rep", MANAGER, 1, date(2020, 1, 1)),
    _person(NINA, "Nina New", "rep", MANAGER, 1, date(2026, 2, 15)),
    _person(OLGA, "Olga Other", "manager", LEADER, 2),
    _person(SAM, "Sam Sibling", "rep", OLGA, 2, date(2020, 1, 1)),
]
TEAMS = [{"id": 1, "name": "Team One", "manager_id": MANAGER}, {"id": 2, "name": "Team Two", "manager_id": OLGA}]


def deal(did: int, owner: int, amount: float, stage: str, created: date, close: date | None) -> dict:
    """An opportunity row whose flags, probability and forecast category follow the stage."""
    s = STAGES[stage]
    return {
        "id": did,
        "owner_id": owner,
        "account_id": None,
        "product_id": 1,
        "amount": float(amount),
        "stage": stage,
        "probability": s.probability,
        "forecast_category": s.forecast_category,
        "created_date": created,
        "close_date": close,
        "is_closed": s.is_closed,
        "is_won": s.is_won,
        "name": f"Deal {did}",
    }


def activities(person_id: int, kind: str, day: date, count: int, first_id: int) -> list[dict]:
    """`count` activities of one kind by one person on one day, ids from first_id."""
    return [
        {
            "id": first_id + i,
            "person_id": person_id,
            "activity_type": kind,
            "activity_date": day,
            "account_id": None,
            "opportunity_id": None,
            "outcome": "connected",
        }
        for i in range(count)
    ]



def history(did: int, stage: str, since: date, until: date | None, close: date, amount: float = 10.0) -> dict:
    """One opportunity_history row: deal `did` in `stage` from `since` until `until` (None: still)."""
    s = STAGES[stage]
    return {
        "id": did * 10_000 + (since - date(2020, 1, 1)).days, "opportunity_id": did, "changed_at": since, "valid_to": until,
        "stage": stage, "amount": amount, "close_date": close, "probability": s.probability,
        "forecast_category": s.forecast_category, "is_closed": s.is_closed, "is_won": s.is_won,
    }


def quota(person_id: int, months: tuple[int, ...], amount: float, first_id: int) -> list[dict]:
    """Monthly bookings quotas for 2026."""
    return [
        {"id": first_id + i, "person_id": person_id, "month": date(2026, m, 1), "amount": amount,
         "quota_type": "bookings", "is_ramped": False}
        for i, m in enumerate(months)
    ]
