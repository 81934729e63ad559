"""Who is credited with what: won deals by close date, the owner 100 % unless splits share the deal.

Credit is dated by the deal's close date (SPEC) and rounded half-up to cents per person, so a split
deal's trace shows money a person can check. Quotas are the month rows summed over the period.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from ..filters import Period
from ..schema import opportunity, opportunity_split, quota
from .lines import FAR
from .schema import Cents, Percent, comp_assignment

Wide = sa.Numeric(38, 8)  # products are computed wide, so DECIMAL(18, x) never overflows mid-formula
HUNDREDTH = sa.cast(sa.literal(Decimal("0.01")), sa.Numeric(3, 2))


def percent_of(amount: sa.ColumnElement, percent: sa.ColumnElement) -> sa.ColumnElement:
    """amount × percent / 100 in exact decimal arithmetic (a division would turn it into a float)."""
    return sa.cast(amount, Wide) * percent * HUNDREDTH


def edge(amount: sa.ColumnElement, percent: sa.ColumnElement) -> sa.ColumnElement:
    """A money level such as quota × band percent, exact in Wide (cents × 4-decimal percent × 0.01 needs
    8 decimals). Comparisons and greatest/least must see one type: DuckDB's greatest() of DECIMAL(38,2)
    and DECIMAL(38,14) returns DECIMAL(38,2), rounding a band edge inside a cent."""
    return sa.cast(percent_of(amount, percent), Wide)


def cents(value: sa.ColumnElement) -> sa.ColumnElement:
    """Round half-up to cents: DuckDB's and PostgreSQL's round() on DECIMAL round half away from zero."""
    return sa.cast(sa.func.round(value, 2), Cents)


def credits(period: Period) -> sa.Select:
    """One row per (won deal closed in the period, credited person): opportunity_id, person_id,
    close_date, deal_amount, percent, credited."""
    o, s = opportunity.c, opportunity_split.c
    won = (o.is_won, o.close_date.between(period.start, period.end))
    has_split = sa.exists().where(s.opportunity_id == o.id)
    owner = sa.select(
        o.id.label("opportunity_id"),
        o.owner_id.label("person_id"),
        o.close_date,
        sa.cast(o.amount, Cents).label("deal_amount"),
        sa.cast(sa.literal(Decimal(100)), Percent).label("percent"),
        sa.cast(o.amount, Cents).label("credited"),
    ).where(*won, ~has_split)
    shared = (
        sa.select(o.id, s.person_id, o.close_date, sa.cast(o.amount, Cents), sa.cast(s.percent, Percent), cents(percent_of(o.amount, s.percent)))
        .join_from(opportunity, opportunity_split, s.opportunity_id == o.id)
        .where(*won)
    )
    return sa.union_all(owner, shared)


def quotas(period: Period) -> sa.Select:
    """person_id, quota: the person's quota months in the period, summed."""
    q = quota.c
    return (
        sa.select(q.person_id, sa.cast(sa.func.sum(q.amount), Cents).label("quota"))
        .where(q.month.between(period.start, period.end))
        .group_by(q.person_id)
    )


def assignment_quotas(period: Period) -> sa.Select:
    """assignment_id, quota: each assignment's share of its person's quota in the period. A month the
    assignment covers whole counts whole (exactly); a month it covers in part counts by its days, rounded
    to cents, so a mid-period plan change splits the quota between the two plans (SPEC)."""
    q, a = quota.c, comp_assignment.c
    month_end = sa.cast(q.month + sa.literal_column("INTERVAL '1 month'"), sa.Date) - 1
    start = sa.func.greatest(q.month, a.effective_from, sa.literal(period.start))
    end = sa.func.least(month_end, sa.func.coalesce(a.effective_to, FAR), sa.literal(period.end))
    days, month_days = end - start + 1, month_end - q.month + 1
    share = sa.case(
        (days == month_days, sa.cast(q.amount, Cents)),
        else_=sa.cast(sa.func.round(sa.cast(q.amount, Wide) * days / month_days, 2), Cents),
    )
    return (
        sa.select(a.id.label("assignment_id"), sa.cast(sa.func.sum(share), Cents).label("quota"))
        .join_from(comp_assignment, quota, q.person_id == a.person_id)
        .where(q.month.between(period.start, period.end), end >= start)
        .group_by(a.id)
    )
