"""The tiny one-rep warehouse and plan snippets the engine tests share: rep Ann (1, manager Max 9) with a
$10,000 monthly quota for Q3, on DuckDB and PostgreSQL (tiny_engine)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from spm_core import schema
from spm_core.comp.periods import parse_period
from spm_core.comp.plans import plan_from_yaml
from spm_core.comp.store import save_plan
from spm_core.comp.trace import lines
from spm_core.filters import Scope

Q3 = parse_period("2026-Q3")
D = Decimal


def _person(pid: int, name: str, role: str = "rep", manager: int | None = None) -> dict:
    return {"id": pid, "name": name, "role": role, "manager_id": manager, "active": True, "ramp_months": 0}


def _deal(oid: int, owner: int, amount: float, day: date, won: bool = True) -> dict:
    return {"id": oid, "owner_id": owner, "amount": amount, "stage": "Closed Won" if won else "Closed Lost", "probability": 100 if won else 0,
            "forecast_category": "Closed" if won else "Omitted", "close_date": day, "is_closed": True, "is_won": won}


def _quota(person: int, per_month: float, first_id: int = 1) -> list[dict]:
    return [{"id": first_id + i, "person_id": person, "month": date(2026, m, 1), "amount": per_month, "quota_type": "bookings",
             "is_ramped": False} for i, m in enumerate((7, 8, 9))]


def _plan(components: str, people: tuple[int, ...] = (1,), name: str = "AE", start: str = "2026-01-01") -> str:
    assigned = "\n".join(f"  - {{person: {p}, from: {start}}}" for p in people)
    return f"name: {name}\nversion: 1\neffective_from: {start}\ncomponents:\n{components}\nassignments:\n{assigned}\n"


BANDS = """    bands:
      - {from: 0, to: 50, rate: 2}
      - {from: 50, to: 100, rate: 5}
      - {from: 100, to: 150, rate: 8}
      - {from: 150, rate: 12}
"""


def _commission(extra: str = "", mode: str = "marginal") -> str:
    return f"  - name: Commission\n    kind: commission\n    mode: {mode}\n{BANDS}{extra}"


@pytest.fixture
def rep_warehouse(tiny_engine) -> Callable[..., Engine]:
    """One rep (id 1, manager 9) with a $30,000 quarter quota ($10,000 a month) and the given deals and
    plans, on every engine under test (tiny_engine runs on DuckDB and on PostgreSQL): every hand-worked
    case must come out the same on both."""

    def make(deals: list[dict], *plans: str, people: list[dict] | None = None, quota: list[dict] | None = None, **more: list[dict]) -> Engine:
        rows = {
            **more,
            "person": people or [_person(1, "Ann", manager=9), _person(9, "Max", "manager")],
            "quota": quota if quota is not None else _quota(1, 10_000),
            "opportunity": deals,
        }
        engine = tiny_engine(**{name: table_rows for name, table_rows in rows.items() if table_rows})
        for text in plans:
            save_plan(engine, plan_from_yaml(text))
        return engine

    return make


def _amounts(engine: Engine, rule: str | None = None, person: int = 1) -> list[Decimal]:
    frame = lines(engine, Q3, Scope.everyone(), person)
    return list(frame[frame["rule"] == rule]["amount"]) if rule else list(frame["amount"])


FLAT = "  - name: Commission\n    kind: commission\n    bands:\n      - {{from: 0, rate: 10}}\n{extra}"
JUL, AUG, SEP = parse_period("2026-07"), parse_period("2026-08"), parse_period("2026-09")


def _month_lines(engine: Engine, period, person: int = 1) -> list[tuple[str, Decimal]]:
    frame = lines(engine, period, Scope.everyone(), person)
    return list(zip(frame["rule"], frame["amount"], strict=True))


def _revert(engine: Engine, opportunity_id: int, day: date) -> None:
    """The deal is lost after being won: the current row changes and history records the day."""
    o = schema.opportunity
    with engine.begin() as conn:
        conn.execute(o.update().where(o.c.id == opportunity_id).values(stage="Closed Lost", is_won=False, probability=0))
        conn.execute(schema.opportunity_history.insert(), [{
            "id": 1, "opportunity_id": opportunity_id, "changed_at": day, "valid_to": None, "stage": "Closed Lost", "amount": 5_000,
            "close_date": date(2026, 7, 10), "probability": 0, "forecast_category": "Omitted", "is_closed": True, "is_won": False,
        }])

