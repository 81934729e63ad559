"""Properties of the marginal engine over random deals (hypothesis), on small DuckDB warehouses.

Amounts are whole hundreds and the quota a whole thousand, so every band edge and every line is whole
cents and the rounding of each line changes nothing: the properties can then be checked exactly.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from spm_core import schema
from spm_core.comp.engine import calculate
from spm_core.comp.periods import parse_period
from spm_core.comp.plans import plan_from_yaml
from spm_core.comp.store import save_plan
from spm_core.comp.trace import lines
from spm_core.db import create_schema, make_engine
from spm_core.filters import Scope

Q3 = parse_period("2026-Q3")
BANDS = ((0, 50, 2), (50, 100, 5), (100, 150, 8), (150, None, 12))
PLAN = """name: AE
version: 1
effective_from: 2026-01-01
components:
- name: Commission
  kind: commission
  bands:
""" + "".join(f"  - {{from: {lo}, {'' if hi is None else f'to: {hi}, '}rate: {rate}}}\n" for lo, hi, rate in BANDS) + """assignments:
- {person: 1, from: 2026-01-01}
"""

deals = st.lists(st.tuples(st.integers(1, 400).map(lambda h: h * 100), st.integers(0, 91)), min_size=1, max_size=12)
quotas = st.integers(1, 60).map(lambda k: k * 1000)


def _warehouse(folder: Path, quota_per_month: int, rows: list[tuple[int, int]]) -> Engine:
    engine = make_engine(f"duckdb:///{folder / 'p.duckdb'}")
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(schema.person.insert(), [{"id": 1, "name": "Ann", "role": "rep", "active": True, "ramp_months": 0}])
        conn.execute(schema.quota.insert(), [
            {"id": m, "person_id": 1, "month": date(2026, m, 1), "amount": quota_per_month, "quota_type": "bookings", "is_ramped": False}
            for m in (7, 8, 9)
        ])
        conn.execute(schema.opportunity.insert(), [
            {"id": i, "owner_id": 1, "amount": amount, "stage": "Closed Won", "probability": 100, "forecast_category": "Closed",
             "close_date": date(2026, 7, 1) + timedelta(days=day), "is_closed": True, "is_won": True}
            for i, (amount, day) in enumerate(rows, 1)
        ])
    save_plan(engine, plan_from_yaml(PLAN))
    return engine


def _run(quota_per_month: int, rows: list[tuple[int, int]]) -> tuple[Decimal, list[Decimal], Decimal]:
    """(the run's total, its lines' amounts, the total of a second run)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = _warehouse(Path(folder), quota_per_month, rows)
        try:
            first = calculate(engine, Q3).total
            amounts = list(lines(engine, Q3, Scope.everyone())["amount"])
            return first, amounts, calculate(engine, Q3).total
        finally:
            engine.dispose()


def _closed_form(quota: int, booked: int) -> Decimal:
    """Σ rate × the part of the period's bookings inside each band: what marginal means, without deals."""
    total = Decimal(0)
    for lo, hi, rate in BANDS:
        low, high = Decimal(quota * lo) / 100, (Decimal(booked) if hi is None else Decimal(quota * hi) / 100)
        total += max(Decimal(0), min(Decimal(booked), high) - low) * rate / 100
    return total


SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(quotas, deals)
def test_the_total_is_the_closed_form_the_sum_of_its_lines_and_the_same_when_rerun(quota, rows):
    total, amounts, again = _run(quota, rows)
    assert total == sum(amounts) == again == _closed_form(3 * quota, sum(a for a, _ in rows))


@SETTINGS
@given(quotas, deals, st.randoms(use_true_random=False))
def test_the_order_of_the_deals_does_not_change_the_total(quota, rows, random):
    days = [d for _, d in rows]
    random.shuffle(days)
    reordered = [(amount, day) for (amount, _), day in zip(rows, days, strict=True)]
    assert _run(quota, rows)[0] == _run(quota, reordered)[0]


@SETTINGS
@given(quotas, deals, st.integers(1, 400).map(lambda h: h * 100), st.integers(0, 91))
def test_one_more_deal_never_lowers_the_payout(quota, rows, amount, day):
    assert _run(quota, [*rows, (amount, day)])[0] >= _run(quota, rows)[0]
