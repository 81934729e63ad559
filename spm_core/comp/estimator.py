"""The earnings estimator: what a person would be paid for an open period if the open deals they pick
closed won in it. It is the engine itself, run in a transaction that is rolled back (as the plan
preview is), so the projected lines, bands and rates are the engine's, never a copy of its rules.

A picked deal closes on its expected close date when that falls in the period, else on the period's
last day (an overdue or later deal is assumed to close by the end of the period).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period, Scope
from ..schema import opportunity
from .audit import CompError
from .cycle import CLOSED, state
from .engine import calculate_in
from .periods import period_label
from .schema import ensure_schema
from .statements import Attainment, attainments, visible
from .trace import lines, read_rows


@dataclass(frozen=True)
class Estimate:
    period: Period
    person_id: int
    now: Decimal  # the period's statement total as calculated
    projected: Decimal  # the total if the picked deals close
    deal_lines: pd.DataFrame  # the engine's lines for the picked deals: the bands they land in
    attainments: tuple[Attainment, ...]  # each commission's attainment and next band if they close (the statement's gauge)


def open_deals(engine: Engine, scope: Scope, person_id: int) -> pd.DataFrame:
    """The person's open deals (id, name, amount, close_date, stage); none for a person out of view."""
    o = opportunity.c
    with engine.connect() as conn:
        if not visible(conn, scope, person_id):
            return pd.DataFrame(columns=["id", "name", "amount", "close_date", "stage"])
        return read_rows(conn, sa.select(o.id, o.name, o.amount, o.close_date, o.stage)
                         .where(o.owner_id == person_id, o.is_closed.is_(False)).order_by(o.close_date, o.id))


def estimate(engine: Engine, scope: Scope, person_id: int, period: Period, deal_ids: list[int]) -> Estimate | None:
    """Run the engine for the person as if the deals closed won; None when the person is out of view.
    Writes nothing: everything happens in one transaction that is rolled back."""
    ensure_schema(engine)
    o = opportunity.c
    with engine.connect() as conn:
        try:
            if not visible(conn, scope, person_id):
                return None
            if state(conn, period) in CLOSED:
                raise CompError(f"{period_label(period)} is {state(conn, period)}: estimate an open period.")
            picked = sorted(set(deal_ids))
            mine = set(conn.execute(sa.select(o.id).where(o.id.in_(picked), o.owner_id == person_id, o.is_closed.is_(False))).scalars())
            if set(picked) - mine:
                raise CompError(f"Not open deals of this person: {', '.join(map(str, sorted(set(picked) - mine)))}.")
            now = sum(lines(conn, period, scope, person_id)["amount"], Decimal("0.00"))
            in_period = o.close_date.between(period.start, period.end)
            conn.execute(opportunity.update().where(o.id.in_(picked)).values(
                is_won=True, is_closed=True, stage="Closed Won", probability=100, forecast_category="Closed",
                close_date=sa.case((in_period, o.close_date), else_=sa.literal(period.end)),
            ))
            calculate_in(conn, period, person_id, run_by="estimate", what_if=True)
            after = lines(conn, period, scope, person_id)
            reached = attainments(conn, person_id, period)
        finally:
            conn.rollback()
    chosen = after[after["opportunity_id"].isin(picked)] if len(after) else after
    return Estimate(period, person_id, Decimal(now), sum(after["amount"], Decimal("0.00")), chosen.reset_index(drop=True), reached)
