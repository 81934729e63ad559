"""A tiny comp warehouse for the ledger, statement and dispute tests: rep Ann (1) and rep Bo (2) under
manager Max (9), each with a $10,000 monthly quota for Q3 and Q4 on the AE plan (bands 0-50 % at 2 %,
50-100 % at 5 %, 100-150 % at 8 %, from 150 % at 12 %)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from spm_core.comp.audit import Actor
from spm_core.comp.periods import parse_period
from spm_core.comp.plans import plan_from_yaml
from spm_core.comp.store import save_plan
from spm_core.filters import Scope

Q3, Q4 = parse_period("2026-Q3"), parse_period("2026-Q4")
ADMIN = Actor("carla", "comp_admin", Scope.everyone())
MAX = Actor("max", "manager", Scope.subtree(9), 9)
ANN = Actor("ann", "rep", Scope.only(1), 1)

PLAN = """name: AE
version: 1
effective_from: 2026-01-01
components:
  - name: Commission
    kind: commission
    mode: marginal
    bands:
      - {from: 0, to: 50, rate: 2}
      - {from: 50, to: 100, rate: 5}
      - {from: 100, to: 150, rate: 8}
      - {from: 150, rate: 12}
assignments:
  - {person: 1, from: 2026-01-01}
  - {person: 2, from: 2026-01-01}
"""


def person(pid: int, name: str, role: str = "rep", manager: int | None = None) -> dict:
    return {"id": pid, "name": name, "role": role, "manager_id": manager, "active": True, "ramp_months": 0, "source_id": f"E{pid:03d}"}


def deal(oid: int, owner: int, amount: float, day: date, won: bool = True, closed: bool = True) -> dict:
    stage = ("Closed Won" if won else "Closed Lost") if closed else "Negotiation"
    return {"id": oid, "owner_id": owner, "amount": amount, "stage": stage, "probability": (100 if won else 0) if closed else 60,
            "forecast_category": ("Closed" if won else "Omitted") if closed else "Commit", "close_date": day, "is_closed": closed,
            "is_won": won and closed}


def quotas() -> list[dict]:
    return [{"id": i + 1, "person_id": pid, "month": date(2026, m, 1), "amount": 10_000, "quota_type": "bookings", "is_ramped": False}
            for i, (pid, m) in enumerate((p, m) for p in (1, 2) for m in range(7, 13))]


def _rows(deals: list[dict]) -> dict[str, list[dict]]:
    return {"person": [person(1, "Ann", manager=9), person(2, "Bo", manager=9), person(9, "Max", "manager")],
            "quota": quotas(), "opportunity": deals}


def comp_warehouse(tiny_engine, deals: list[dict], plan: str = PLAN) -> Engine:
    engine = tiny_engine(**_rows(deals))
    save_plan(engine, plan_from_yaml(plan))
    return engine


@pytest.fixture
def comp_db(tiny_engine) -> Callable[..., Engine]:
    """comp_warehouse on every engine under test (tiny_engine runs on DuckDB and on PostgreSQL): the ledger
    must post the same lines on both."""

    def make(deals: list[dict], plan: str = PLAN) -> Engine:
        return comp_warehouse(tiny_engine, deals, plan)

    return make
