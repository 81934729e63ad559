"""What each account and territory carries, read set-based from the warehouse, and the balance spread.

Per account: potential, open pipeline (open deals, any expected close date), bookings of the trailing 12
months (won deals closed in the 365 days up to and including as_of) and workload (1 + its open deals:
every account needs covering, every open deal needs working). Territories sum their accounts.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...db import read_frame
from ...filters import Scope
from ...people import people_in_view
from ...schema import account, opportunity, person, territory, territory_assignment
from .rules import has_tables

CRITERIA = {
    "potential": "Potential (sum of the accounts' potential)",
    "accounts": "Account count",
    "workload": "Workload (1 per account + 1 per open deal)",
}
SUMMED = ["accounts", "potential", "open_pipeline", "bookings_12m", "workload"]


def spread(values: pd.Series | np.ndarray) -> float | None:
    """SPEC "territory balance spread": the coefficient of variation, population standard deviation / mean,
    over territories (all of them are the population, not a sample). None when the mean is 0 or no territory."""
    v = np.asarray(values, dtype=float)
    if not len(v) or v.mean() == 0:
        return None
    return float(v.std() / v.mean())


def _deals(as_of: date) -> sa.Subquery:
    o = opportunity
    since = as_of - timedelta(days=365)
    is_open = o.c.is_closed.is_(False)
    booked = sa.and_(o.c.is_won.is_(True), o.c.close_date > since, o.c.close_date <= as_of)
    return (
        sa.select(
            o.c.account_id,
            sa.func.sum(sa.case((is_open, o.c.amount), else_=0)).label("open_pipeline"),
            sa.func.sum(sa.case((is_open, 1), else_=0)).label("open_deals"),
            sa.func.sum(sa.case((booked, o.c.amount), else_=0)).label("bookings_12m"),
        )
        .where(o.c.account_id.is_not(None), sa.or_(is_open, booked))  # any other deal adds 0 to every sum
        .group_by(o.c.account_id)
        .subquery("deals")
    )


def account_measures(engine: Engine, as_of: date, scope: Scope) -> pd.DataFrame:
    """One row per account in view: where it is, its territory, what it carries and whether it is pinned
    (named into its territory, so balancing leaves it). In view: its owner or its territory's owner is in scope."""
    frame = read_frame(engine, measures_statement(engine, as_of, scope))
    frame["accounts"] = 1
    for column in ("potential", "open_pipeline", "bookings_12m", "workload"):
        frame[column] = frame[column].astype(float)
    return frame


def measures_statement(engine: Engine, as_of: date, scope: Scope) -> sa.Select:
    """account_measures' one statement (the bench also runs it as raw SQL to compare)."""
    d = _deals(as_of)
    joined = (
        account.outerjoin(territory, territory.c.id == account.c.territory_id)
        .outerjoin(d, d.c.account_id == account.c.id)
        .outerjoin(person, person.c.id == account.c.owner_id)
    )
    pinned: sa.ColumnElement[bool] = sa.false()
    if has_tables(engine):
        joined = joined.outerjoin(territory_assignment, territory_assignment.c.account_id == account.c.id)
        pinned = territory_assignment.c.account_id.is_not(None)
    stmt = (
        sa.select(
            account.c.id.label("account_id"),
            account.c.name,
            account.c.territory_id,
            territory.c.name.label("territory"),
            account.c.owner_id,
            person.c.name.label("owner"),
            account.c.country,
            account.c.state,
            account.c.postcode,
            account.c.industry,
            account.c.latitude,
            account.c.longitude,
            sa.func.coalesce(account.c.potential, 0).label("potential"),
            sa.func.coalesce(d.c.open_pipeline, 0).label("open_pipeline"),
            sa.func.coalesce(d.c.bookings_12m, 0).label("bookings_12m"),
            (1 + sa.func.coalesce(d.c.open_deals, 0)).label("workload"),
            pinned.label("pinned"),
        )
        .select_from(joined)
        .order_by(account.c.id)
    )
    in_view = people_in_view(None, scope)
    if in_view is not None:
        ids = in_view.cte("territory_viewers")
        stmt = stmt.where(sa.or_(account.c.owner_id.in_(sa.select(ids.c.id)), territory.c.owner_id.in_(sa.select(ids.c.id))))
    return stmt


def territories(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Territories in view: those whose owner is in scope or that hold an account whose owner is."""
    stmt = sa.select(territory.c.id.label("territory_id"), territory.c.name.label("territory"), territory.c.owner_id).order_by(
        territory.c.id
    )
    in_view = people_in_view(None, scope)
    if in_view is not None:
        ids = in_view.cte("territory_viewers")
        held = sa.select(account.c.territory_id).where(account.c.owner_id.in_(sa.select(ids.c.id)))
        stmt = stmt.where(sa.or_(territory.c.owner_id.in_(sa.select(ids.c.id)), territory.c.id.in_(held)))
    return read_frame(engine, stmt)


def territory_summary(accounts: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Per territory (empty ones included, with zeros): account count, potential, open pipeline, trailing
    bookings and workload, plus the centre of its accounts for the map's hover."""
    sums = accounts.groupby("territory_id")[SUMMED].sum()
    centre = accounts.groupby("territory_id")[["latitude", "longitude"]].mean()
    out = names[["territory_id", "territory"]].set_index("territory_id").join(sums).join(centre)
    out[SUMMED] = out[SUMMED].fillna(0)
    return out.reset_index()


def spreads(summary: pd.DataFrame) -> dict[str, float | None]:
    """The spread of each criterion over the territories of the summary."""
    return {c: spread(summary[c]) for c in CRITERIA}
