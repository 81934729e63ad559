"""Who is credited with what: the owner 100 % unless splits share the deal, per measure (plans.py).

Bookings (won_amount) and units (won_count) are won deals dated by close date (SPEC); pipeline created
(created_amount) is every deal dated by its created date. Credit is rounded half-up to cents per person
(a unit to the hundredth of a deal), so a split deal's trace shows numbers a person can check. Quotas
are the month rows summed over the period; a component's `target` stands in for them per month.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ..filters import Period
from ..portable import days_between, month_end
from ..schema import account, opportunity, opportunity_split, product, quota, segment
from .lines import FAR
from .schema import Cents, Percent, comp_assignment, comp_component

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


def credits(period: Period, measure: str = "won_amount") -> sa.Select:
    """One row per (deal counted by the measure in the period, credited person): opportunity_id,
    person_id, close_date (the day the credit is dated by: the created date for created_amount),
    deal_amount, percent, credited (money, or units for won_count), measure."""
    o, s = opportunity.c, opportunity_split.c
    day = o.created_date if measure == "created_amount" else o.close_date
    counted = (day.between(period.start, period.end),) if measure == "created_amount" else (o.is_won, day.between(period.start, period.end))
    has_split = sa.exists().where(s.opportunity_id == o.id)
    units = measure == "won_count"
    owner = sa.select(
        o.id.label("opportunity_id"),
        o.owner_id.label("person_id"),
        day.label("close_date"),
        sa.cast(o.amount, Cents).label("deal_amount"),
        sa.cast(sa.literal(Decimal(100)), Percent).label("percent"),
        sa.cast(sa.literal(Decimal(1)) if units else o.amount, Cents).label("credited"),
        sa.literal(measure).label("measure"),
    ).where(*counted, ~has_split)
    share = cents(percent_of(sa.literal(Decimal(1)), s.percent)) if units else cents(percent_of(o.amount, s.percent))
    shared = (
        sa.select(o.id, s.person_id, day, sa.cast(o.amount, Cents), sa.cast(s.percent, Percent), share, sa.literal(measure))
        .join_from(opportunity, opportunity_split, s.opportunity_id == o.id)
        .where(*counted)
    )
    return sa.union_all(owner, shared)


def credits_of(period: Period, measures: tuple[str, ...]) -> sa.Select:
    """credits() for each measure some component pays on (a measure nobody uses is never scanned)."""
    return sa.union_all(*(credits(period, m) for m in measures)) if len(measures) > 1 else credits(period, measures[0])


def with_deal_facts(stmt: sa.Select, credit: sa.Subquery) -> sa.Select:
    """The select joined to the credited deal's opportunity, product and account segment (outer joins:
    a deal without a product or account still counts where no criterion asks for one)."""
    o = opportunity.c
    return (
        stmt.join(opportunity, o.id == credit.c.opportunity_id)
        .outerjoin(product, product.c.id == o.product_id)
        .outerjoin(account, account.c.id == o.account_id)
        .outerjoin(segment, segment.c.id == account.c.segment_id)
    )


def deal_matches(credit: sa.Subquery) -> sa.ColumnElement:
    """The component's deal criteria (comp_component's deal_* columns; NULL matches every deal) hold for
    the credited deal; needs with_deal_facts' joins."""
    k = comp_component.c
    return sa.and_(
        sa.or_(k.deal_product.is_(None), k.deal_product == product.c.name),
        sa.or_(k.deal_segment.is_(None), k.deal_segment == segment.c.name),
        sa.or_(k.deal_type.is_(None), k.deal_type == opportunity.c.type),
        sa.or_(k.deal_min_amount.is_(None), credit.c.deal_amount >= k.deal_min_amount),
    )


def quotas(period: Period) -> sa.Select:
    """person_id, quota: the person's quota months in the period, summed."""
    q = quota.c
    return (
        sa.select(q.person_id, sa.cast(sa.func.sum(q.amount), Cents).label("quota"))
        .where(q.month.between(period.start, period.end))
        .group_by(q.person_id)
    )


def _months(period: Period) -> sa.Subquery:
    """The first days of the period's months, as rows (a year has twelve: Python lists them)."""
    first, rows = period.start.replace(day=1), []
    while first <= period.end:
        rows.append(sa.select(sa.cast(sa.literal(first), sa.Date).label("month")))
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return sa.union_all(*rows).subquery("months") if len(rows) > 1 else rows[0].subquery("months")


def component_quotas(period: Period) -> sa.Select:
    """assignment_id, component_id, quota: each commission's target for the assignment in the period:
    its person's quota months, or the component's `target` per month. A month the assignment covers
    whole counts whole (exactly); a month it covers in part counts by its days, rounded to cents, so a
    mid-period plan change splits the quota between the two plans (SPEC)."""
    q, a, k = quota.c, comp_assignment.c, comp_component.c
    months = _months(period)
    monthly = sa.union_all(
        sa.select(a.id.label("assignment_id"), k.id.label("component_id"), q.month, sa.cast(q.amount, Cents).label("amount"))
        .join_from(comp_assignment, quota, q.person_id == a.person_id)
        .join(comp_component, sa.and_(k.plan_version_id == a.plan_version_id, k.kind == "commission", k.target.is_(None)))
        .where(q.month.between(period.start, period.end)),
        sa.select(a.id, k.id, months.c.month, sa.cast(k.target, Wide))
        .join_from(comp_assignment, comp_component, sa.and_(k.plan_version_id == a.plan_version_id, k.kind == "commission",
                                                            k.target.is_not(None)))
        .join(months, sa.true()),
    ).subquery("monthly")
    m = monthly.c
    assignment = comp_assignment.alias("covered")
    last = month_end(m.month)
    start = sa.func.greatest(m.month, assignment.c.effective_from, sa.literal(period.start))
    end = sa.func.least(last, sa.func.coalesce(assignment.c.effective_to, FAR), sa.literal(period.end))
    days, month_days = days_between(end, start) + 1, days_between(last, m.month) + 1
    share = sa.case(
        (days == month_days, sa.cast(m.amount, Wide)),
        else_=sa.func.round(sa.cast(m.amount, Wide) * days / month_days, 2),
    )
    return (
        sa.select(m.assignment_id, m.component_id, sa.cast(sa.func.sum(share), Cents).label("quota"))
        .join_from(monthly, assignment, assignment.c.id == m.assignment_id)
        .where(end >= start)
        .group_by(m.assignment_id, m.component_id)
    )
