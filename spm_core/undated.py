"""Open deals with no expected close date (HubSpot allows them; the Maven dataset's open deals all are).

SPEC: they belong to no period, so every period's KPIs leave them out (the period filter is on close
date). Pipeline views show them as their own "no close date" bucket so they are not lost, and list
them. The viewer's scope and the people and product filters apply; the period does not.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import read_frame
from .deals import deal_columns, with_deal_labels
from .filters import Filters, Scope
from .history import deals_in_view
from .model import IS_UNDATED
from .schema import opportunity

HELP = (
    "Open opportunities with no expected close date. They belong to no period, so every period's open pipeline, "
    "coverage and forecast leave them out; give them a close date in the CRM."
)
o = opportunity.c


def undated_totals(engine: Engine | sa.Connection, filters: Filters, scope: Scope) -> tuple[int, float]:
    """The bucket: how many open deals in view have no close date, and their amount."""
    stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(o.amount), 0)).where(
        IS_UNDATED, *deals_in_view(filters, scope)
    )
    count, amount = read_frame(engine, stmt).iloc[0]
    return int(count), float(amount)


def undated_deals(engine: Engine | sa.Connection, filters: Filters, scope: Scope) -> pd.DataFrame:
    """The deals of the bucket, largest first: its drill-down and data-quality list."""
    stmt = (
        with_deal_labels(sa.select(*deal_columns()))
        .where(IS_UNDATED, *deals_in_view(filters, scope))
        .order_by(o.amount.desc(), o.id)
    )
    return read_frame(engine, stmt)
