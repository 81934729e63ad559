"""The payroll export of a locked (or paid) period: one row per person with lines, their statement
total (the sum of their lines), for comp admins only. The rows are the statements' totals, so what
payroll pays is what the statements say."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period
from ..schema import person
from .audit import Actor, CompError
from .cycle import state
from .periods import period_label
from .schema import comp_line
from .trace import read_rows

CURRENCY = "USD"
PAYABLE = ("locked", "paid")
COLUMNS = ["person", "employee_id", "period", "amount", "currency"]


def payroll(engine: Engine, actor: Actor, period: Period) -> pd.DataFrame:
    """person, employee_id (the person's id in the source system, else ours), period, amount, currency."""
    if not actor.is_comp_admin:
        raise CompError("Only a comp admin exports payroll.")
    with engine.connect() as conn:
        current = state(conn, period)
    if current not in PAYABLE:
        raise CompError(f"{period_label(period)} is {current}: lock it before exporting payroll.")
    c, p = comp_line.c, person.c
    frame = read_rows(engine, (
        sa.select(p.name.label("person"), sa.func.coalesce(p.source_id, sa.cast(p.id, sa.String)).label("employee_id"),
                  sa.func.sum(c.amount).label("amount"))
        .join_from(comp_line, person, p.id == c.person_id)
        .where(c.period_start == period.start, c.period_end == period.end)
        .group_by(p.id, p.name, p.source_id)
        .order_by(p.name, p.id)
    ))
    frame.insert(2, "period", period_label(period))
    frame["currency"] = CURRENCY
    return frame[COLUMNS] if len(frame) else pd.DataFrame(columns=COLUMNS)
