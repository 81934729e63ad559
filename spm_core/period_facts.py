"""Stored numbers of the standard periods: the pipeline change waterfall (schema.pipeline_change_fact) and
the statistical forecast's learned cohorts (schema.forecast_cohort_fact) per current owner and product, and
the deals open at each one's start (schema.period_open_at_start, for slipped deals) and the stage win
counts (schema.stage_win_fact, coaching flags), for this and last
month, quarter and year at the warehouse's as_of; and forecast accuracy's past forecasts at the week the
running ones show by default and at the period review's week (schema.forecast_accuracy_fact).

Why: the waterfall compares every deal's state at the period's start with its state now, two snapshots of
all of history, seconds at 10M deals on each cold view. Which deals a view holds is a per-deal condition on
their current owner and product, so storing the steps per (owner, product) makes any view's waterfall, for
any scope and filters, an exact sum of stored rows (about 40,000 per period at 10M deals and 6,000 reps,
against 47M history rows; history.pipeline_change reads them when history_facts.period_facts_hold). The
same holds for the forecast's cohorts (relearned over 8 past periods on every view before; 1.5M rows for a
quarter at 10M deals, by k, stage and age too) and accuracy's forecasts. Each is built by the live path's
own statement grouped by owner and product, when the demo is generated and by `rebuild-history-facts`; an
import recomputes the rows of the deals and (owner, product) groups it changes (refresh_changed,
fact_changes.py), or all of them when it moves as_of. Other periods, weeks and as_of days are computed live.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import history_facts
from .coaching.stage_wins import stage_wins_select
from .db import analyze, get_info, set_info
from .filters import Period
from .forecast import LOOKBACK_PERIODS, cohort_select, current_week, learning_periods, past_periods
from .history import accuracy_days, accuracy_forecast_select, median_select, pipeline_change_select, snapshot
from .history_facts import PERIOD_FACTS_KEY, standard_periods
from .reports.periods import accuracy_window, is_reviewable
from .schema import (
    forecast_accuracy_fact,
    forecast_cohort_fact,
    opportunity,
    period_open_at_start,
    pipeline_change_fact,
    stage_win_fact,
    stint_median_fact,
)

# A condition on (owner_id, product_id) columns: whether they name one of the groups an import changed.
InGroups = Callable[[sa.ColumnElement, sa.ColumnElement], sa.ColumnElement]

TABLES = (
    pipeline_change_fact, forecast_cohort_fact, period_open_at_start, forecast_accuracy_fact, stint_median_fact, stage_win_fact,
)  # fmt: skip


def _store(conn: sa.Connection, table: sa.Table, as_of: date, period: Period, rows: sa.Select) -> None:
    """Insert `rows` tagged with as_of and the period, set-based."""
    sub = rows.subquery("rows")
    stmt = sa.select(
        sa.literal(as_of, sa.Date).label("as_of"),
        sa.literal(period.start, sa.Date).label("period_start"),
        sa.literal(period.end, sa.Date).label("period_end"),
        *sub.c,
    )
    conn.execute(sa.insert(table).from_select([c.name for c in stmt.selected_columns], stmt))


AccuracySet = tuple[int, list[tuple[Period, date]]]  # a week, and each period with its day at that week


def accuracy_sets(as_of: date) -> list[AccuracySet]:
    """The forecasts stored for forecast accuracy: each running standard period's past periods at its current
    week (what forecast.accuracy shows by default), and the period review's window of this and last month and
    quarter (reports.periods.accuracy_window). Each (period, week) once, whichever asks first (two sets
    meet when today is in the review's week), and only days up to as_of (as history.forecast_accuracy reads);
    the periods of a set are disjoint, as accuracy_forecast_select needs."""
    sets: list[AccuracySet] = []
    seen: set[tuple[Period, int]] = set()

    def add(week: int, periods: list[Period]) -> None:
        days = [(p, day) for p, day in accuracy_days(periods, week, as_of) if (p, week) not in seen]
        seen.update((p, week) for p, _ in days)
        if days:
            sets.append((week, days))

    for running in standard_periods(as_of):
        if running.end >= as_of:
            add(current_week(running, as_of), past_periods(running, as_of, LOOKBACK_PERIODS))
    for reviewed in standard_periods(as_of):
        if is_reviewable(reviewed):
            add(*accuracy_window(reviewed))
    return sets


def _store_accuracy(
    conn: sa.Connection, as_of: date, week: int, days: list[tuple[Period, date]], deals: sa.Select | None
) -> None:
    """One set's forecasts per owner and product, over `deals` (ids; all deals when None), plus one mark row per
    period (stored even when it has no forecast; only by a full build: the marks depend on as_of alone)."""
    in_view = [] if deals is None else [opportunity.c.id.in_(deals)]
    if deals is None:
        marks = [
            {
                "as_of": as_of,
                "period_start": p.start,
                "period_end": p.end,
                "week": week,
                "owner_id": None,
                "product_id": None,
                "forecast": 0,
            }
            for p, _ in days
        ]
        conn.execute(forecast_accuracy_fact.insert(), marks)
    rows = accuracy_forecast_select(days, in_view, per_owner=True, deals=deals).subquery("rows")
    k = rows.c.k
    stmt = sa.select(
        sa.literal(as_of, sa.Date).label("as_of"),
        sa.case(*[(k == i, p.start) for i, (p, _) in enumerate(days)]).label("period_start"),
        sa.case(*[(k == i, p.end) for i, (p, _) in enumerate(days)]).label("period_end"),
        sa.literal(week).label("week"),
        rows.c.owner_id,
        rows.c.product_id,
        rows.c.forecast,
    )
    conn.execute(sa.insert(forecast_accuracy_fact).from_select([c.name for c in stmt.selected_columns], stmt))


def _store_open_at_start(conn: sa.Connection, period: Period, deals: sa.Select) -> None:
    """period_open_at_start rows of `deals` (ids): open at the end of the day before, closing in the period."""
    start = snapshot(period.start - timedelta(days=1), "at_start", deals)
    open_at_start = sa.select(
        sa.literal(period.start, sa.Date).label("period_start"),
        sa.literal(period.end, sa.Date).label("period_end"),
        start.c.opportunity_id,
        start.c.close_date,
    ).where(sa.not_(start.c.is_closed), start.c.close_date.between(period.start, period.end))
    conn.execute(sa.insert(period_open_at_start).from_select(list(period_open_at_start.c.keys()), open_at_start))


def _store_groups(conn: sa.Connection, as_of: date, period: Period, deals: sa.Select | None) -> None:
    """The per (owner, product) rows of one period, over `deals` (ids; all deals when None): each row is a
    sum over the deals of its group alone, so the deals of some whole groups give those groups' exact rows."""
    in_view = [] if deals is None else [opportunity.c.id.in_(deals)]
    _store(conn, pipeline_change_fact, as_of, period, pipeline_change_select(period, as_of, in_view, per_owner=True))
    _store(conn, stage_win_fact, as_of, period, stage_wins_select(period, in_view, facts=True, per_product=True))
    horizon = (period.end - as_of).days
    learned = learning_periods(conn, period, as_of) if horizon > 0 else []
    if learned:
        _store(conn, forecast_cohort_fact, as_of, period, cohort_select(in_view, learned, horizon, True, deals))


def _store_medians(conn: sa.Connection, as_of: date) -> None:
    """Everyone's median stints: a median is not a sum of parts, so it is always recomputed whole (from deal_stage)."""
    conn.execute(stint_median_fact.delete())
    medians = median_select([], as_of, facts=True).subquery("medians")
    stmt = sa.select(sa.literal(as_of, sa.Date).label("as_of"), medians.c.position, medians.c.median_days)
    conn.execute(sa.insert(stint_median_fact).from_select(["as_of", "position", "median_days"], stmt))


def rebuild(conn: sa.Connection, as_of: date) -> int:
    """Replace the stored numbers with those of the standard periods at as_of: the waterfalls, and the
    statistical forecast's cohorts of the periods still running; returns the row count."""
    for table in TABLES:
        table.create(conn, checkfirst=True)
        conn.execute(table.delete())
    for period in standard_periods(as_of):
        _store_groups(conn, as_of, period, None)
        _store_open_at_start(conn, period, sa.select(opportunity.c.id))
    for week, days in accuracy_sets(as_of):
        _store_accuracy(conn, as_of, week, days, None)
    _store_medians(conn, as_of)
    set_info(conn, {PERIOD_FACTS_KEY: as_of.isoformat()})
    count = sa.select(sa.func.count())
    return sum(int(conn.execute(count.select_from(t)).scalar_one()) for t in TABLES)


GROUP_TABLES = (pipeline_change_fact, forecast_cohort_fact, forecast_accuracy_fact, stage_win_fact)


def refresh_changed(
    conn: sa.Connection, as_of: date, deals: sa.Select, in_groups: InGroups, group_deals: sa.Select, medians: bool
) -> None:
    """Bring the stored numbers (built at this as_of) up to date after some deals changed, in the caller's
    transaction: the per-deal rows of `deals` (ids of the deals changed) and the per (owner, product) rows of
    the groups `in_groups` selects (every group any changed deal was or is in; `group_deals`: the ids of all
    their deals), each deleted and recomputed by the same statements as rebuild, restricted; the medians whole
    when told (a changed deal had or has a stint they count). Equal to rebuild(conn, as_of)."""
    for table in GROUP_TABLES:
        conn.execute(table.delete().where(in_groups(table.c.owner_id, table.c.product_id)))
    conn.execute(period_open_at_start.delete().where(period_open_at_start.c.opportunity_id.in_(deals)))
    changed = sa.select(opportunity.c.id).where(opportunity.c.id.in_(deals))
    for period in standard_periods(as_of):
        _store_groups(conn, as_of, period, group_deals)
        _store_open_at_start(conn, period, changed)
    for week, days in accuracy_sets(as_of):
        _store_accuracy(conn, as_of, week, days, group_deals)
    if medians:
        _store_medians(conn, as_of)


def rebuild_all(engine: Engine, cluster: bool = True) -> tuple[int, int]:
    """Every stored history number: the per-deal facts, then the standard periods' waterfalls (at the
    warehouse's as_of; none without one, since "today" moves). Returns both row counts."""
    facts = history_facts.rebuild(engine, cluster=cluster)
    as_of = get_info(engine).get("as_of")
    periods = 0
    if as_of:
        with engine.begin() as conn:
            periods = rebuild(conn, date.fromisoformat(as_of))
    analyze(engine)
    return facts, periods
