"""The deals behind a number: the drill-down list for any opportunity-based KPI.

Built from the same measure conditions, time rules, filters and scope as the KPI itself, so the
rows listed always add up to the number shown.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import read_frame
from .filters import Filters, Scope
from .kpis import kpi
from .metrics import fact_filters
from .model import MEASURES, OPPORTUNITY
from .people import people_in_view
from .schema import account, opportunity, person, product, team

o = opportunity.c
owner = person.alias("owner")


def deal_columns() -> list[sa.ColumnElement]:
    return [
        o.id,
        o.name,
        account.c.name.label("account"),
        owner.c.name.label("owner"),
        team.c.name.label("team"),
        product.c.name.label("product"),
        o.type,
        o.stage,
        o.amount,
        o.probability,
        o.forecast_category,
        o.created_date,
        o.close_date,
        o.is_closed,
        o.is_won,
        o.last_activity_date,
    ]


def with_deal_labels(stmt: sa.Select) -> sa.Select:
    """Join the display names a deal list shows (account, owner, team, product)."""
    return stmt.select_from(
        opportunity.outerjoin(account, account.c.id == o.account_id)
        .join(owner, owner.c.id == o.owner_id)
        .outerjoin(team, team.c.id == owner.c.team_id)
        .outerjoin(product, product.c.id == o.product_id)
    )


def deals_statement(kpi_name: str, filters: Filters, scope: Scope, limit: int | None = None) -> sa.Select:
    measures = [MEASURES[m] for m in kpi(kpi_name).measures if MEASURES[m].fact is OPPORTUNITY]
    if not measures:
        raise ValueError(f"{kpi(kpi_name).label} is not made of deals; there is no deal list behind it.")
    people = people_in_view(filters, scope)
    rules = []
    for m in measures:
        parts = fact_filters(m, filters, people)
        if m.condition is not None:
            parts.append(m.condition)
        rules.append(sa.and_(*parts))
    condition, order = sa.or_(*rules), (o.amount.desc(), o.id)
    if limit:
        condition = o.id.in_(_top_ids(condition, order, limit))
    return with_deal_labels(sa.select(*deal_columns())).where(condition).order_by(*order)


def _top_ids(condition: sa.ColumnElement, order: tuple[sa.ColumnElement, ...], limit: int) -> sa.Select:
    """The ids of the first `limit` deals, found on the few columns the condition and order read: joining the
    labels first would read every column of every matching deal (177,000 won in a quarter at 10M
    opportunities: 0.25 s, against 0.03 s for ten)."""
    top = (
        sa.select(o.id)
        .select_from(opportunity.join(owner, owner.c.id == o.owner_id))
        .where(condition)
        .order_by(*order)
        .limit(limit)
        .subquery("top_deals")
    )
    return sa.select(top.c.id)


def deals(
    engine: Engine | sa.Connection, kpi_name: str, filters: Filters, scope: Scope, limit: int | None = None
) -> pd.DataFrame:
    """Opportunities counted by the KPI under these filters and scope, largest first."""
    return read_frame(engine, deals_statement(kpi_name, filters, scope, limit))
