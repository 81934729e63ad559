"""The semantic model: facts, their measures (each with its time rule) and the dimensions to group by.

A measure is declared once here, next to the table it belongs to; KPIs (kpis.py) are formulas over
measures, and metrics.py compiles any combination of them, with filters and scope, into one query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from .portable import count_where, days_between, median, median_where, period_start, sum_where
from .schema import activity, opportunity, person, product, quota, region, segment, stage, team


@dataclass(frozen=True)
class Fact:
    """A table of facts, each belonging to a person (for scope and people filters)."""

    name: str
    table: sa.Table
    person_col: sa.Column
    product_col: sa.Column | None  # None: the product filter does not apply (quotas, activities)


OPPORTUNITY = Fact("opportunity", opportunity, opportunity.c.owner_id, opportunity.c.product_id)
QUOTA = Fact("quota", quota, quota.c.person_id, None)
ACTIVITY = Fact("activity", activity, activity.c.person_id, None)

o = opportunity.c
IS_OPEN = sa.not_(o.is_closed)
IS_WON = o.is_won
IS_LOST = sa.and_(o.is_closed, sa.not_(o.is_won))
IS_UNDATED = sa.and_(IS_OPEN, o.close_date.is_(None))  # open, no expected close date: in no period (undated.py)
CYCLE_DAYS = days_between(o.close_date, o.created_date)


# How a measure behaves in time, which decides what it is compared with (comparison.py):
FLOW = "flow"  # counted day by day (bookings, deals closed, pipeline created, activities): to date vs to the same day
SNAPSHOT = "snapshot"  # a state (open pipeline): as it stands now vs as it stood then, from opportunity history
TARGET = "target"  # set for the whole period (quota): always the whole period's


@dataclass(frozen=True)
class Measure:
    """An aggregate over one fact. `date_col` is the time rule: the date that puts a row in a period
    (close date for bookings and open pipeline, created date for created pipeline, quota month); `rule`
    (FLOW, SNAPSHOT or TARGET) says how it compares over time."""

    name: str
    fact: Fact
    date_col: sa.Column
    agg: str  # sum | count | median
    condition: sa.ColumnElement | None = None
    value: sa.ColumnElement | None = None
    needs_stage: bool = False
    rule: str = FLOW

    @property
    def additive(self) -> bool:
        return self.agg in ("sum", "count")

    def expression(self) -> sa.ColumnElement:
        value = self.value if self.value is not None else sa.literal(1)
        if self.agg == "sum":
            return sa.func.sum(value) if self.condition is None else sum_where(value, self.condition)
        if self.agg == "count":
            return sa.func.count() if self.condition is None else count_where(self.condition)
        if self.agg == "median":
            return median(value) if self.condition is None else median_where(value, self.condition)
        raise ValueError(f"unknown aggregation {self.agg}")


def _opp(name, agg, condition=None, value=None, date_col=o.close_date, needs_stage=False, rule=FLOW) -> Measure:
    return Measure(name, OPPORTUNITY, date_col, agg, condition, value, needs_stage, rule)


def _activities(name: str, kind: str | None) -> Measure:
    condition = None if kind is None else activity.c.activity_type == kind
    return Measure(name, ACTIVITY, activity.c.activity_date, "count", condition)


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        _opp("won_amount", "sum", IS_WON, o.amount),
        _opp("won_count", "count", IS_WON),
        _opp("lost_amount", "sum", IS_LOST, o.amount),
        _opp("lost_count", "count", IS_LOST),
        _opp("open_amount", "sum", IS_OPEN, o.amount, rule=SNAPSHOT),
        _opp("open_count", "count", IS_OPEN, rule=SNAPSHOT),
        _opp("weighted_amount", "sum", IS_OPEN, o.amount * stage.c.probability / 100.0, needs_stage=True, rule=SNAPSHOT),
        _opp("commit_amount", "sum", sa.and_(IS_OPEN, o.forecast_category == "Commit"), o.amount, rule=SNAPSHOT),
        _opp("best_case_amount", "sum", sa.and_(IS_OPEN, o.forecast_category == "Best Case"), o.amount, rule=SNAPSHOT),
        _opp("cycle_days_sum", "sum", sa.and_(IS_WON, o.created_date.is_not(None)), CYCLE_DAYS),
        _opp("cycle_count", "count", sa.and_(IS_WON, o.created_date.is_not(None))),
        _opp("cycle_days_median", "median", sa.and_(IS_WON, o.created_date.is_not(None)), CYCLE_DAYS),
        _opp("created_amount", "sum", None, o.amount, date_col=o.created_date),
        _opp("created_count", "count", None, date_col=o.created_date),
        Measure("quota_amount", QUOTA, quota.c.month, "sum", None, quota.c.amount, rule=TARGET),
        Measure("ramped_quota_amount", QUOTA, quota.c.month, "sum", quota.c.is_ramped, quota.c.amount, rule=TARGET),
        _activities("activity_count", None),
        _activities("call_count", "call"),
        _activities("email_count", "email"),
        _activities("meeting_count", "meeting"),
        _activities("demo_count", "demo"),
    )
}


@dataclass(frozen=True)
class Dimension:
    """A way to group: its key expression on a fact row, and where its display label comes from."""

    name: str
    key: Callable[[Measure], sa.ColumnElement | None]
    label_table: sa.Table | None = None  # joined on id to give the label; None: the key is the label
    label_column: str = "name"


def _person_attr(column: str) -> Callable[[Measure], sa.ColumnElement]:
    return lambda m: person.c[column]


def _truncated(unit: str) -> Callable[[Measure], sa.ColumnElement]:
    return lambda m: period_start(unit, m.date_col)


def _deal_column(column: str) -> Callable[[Measure], sa.ColumnElement | None]:
    """A dimension only deals have (stage, forecast category): None for quotas and activities."""
    return lambda m: m.fact.table.c[column] if m.fact is OPPORTUNITY else None


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("rep", lambda m: m.fact.person_col, person),
        Dimension("team", _person_attr("team_id"), team),
        Dimension("manager", _person_attr("manager_id"), person),
        Dimension("segment", _person_attr("segment_id"), segment),
        Dimension("region", _person_attr("region_id"), region),
        Dimension("product", lambda m: m.fact.product_col, product),
        Dimension("stage", _deal_column("stage")),
        Dimension("forecast_category", _deal_column("forecast_category")),
        Dimension("day", lambda m: m.date_col),
        Dimension("week", _truncated("week")),
        Dimension("month", _truncated("month")),
        Dimension("quarter", _truncated("quarter")),
        Dimension("year", _truncated("year")),
    )
}
PERSON_DIMENSIONS = frozenset({"team", "manager", "segment", "region"})
