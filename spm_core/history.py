"""KPIs that need opportunity history: pipeline change, stage conversion, stalled, slipped,
overdue deals and forecast accuracy (definitions in kpis.HISTORY_KPIS).

History rows hold the whole state after each change with the date the next change replaced it, so
"the pipeline as it stood on day d" is a range filter (see schema.opportunity_history).
A warehouse without history (e.g. an import of a CRM export) raises NeedsHistory, which views show
as "needs history", never as zeros.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import get_info, read_frame
from .deals import deal_columns, with_deal_labels
from .filters import Filters, Period, Scope
from .history_facts import has_facts, period_facts_hold, stored_as_of
from .people import people_in_view
from .portable import days_between, median
from .schema import (
    deal_current_stage,
    deal_stage,
    forecast_accuracy_fact,
    opportunity,
    opportunity_history,
    period_open_at_start,
    pipeline_change_fact,
    stage,
    stint_median_fact,
)

o = opportunity.c
h = opportunity_history.c
ds = deal_stage.c
STALLED_FALLBACK_DAYS = 30


class NeedsHistory(LookupError):
    """The warehouse has no opportunity history, so this view cannot be computed."""


def has_history(engine: Engine) -> bool:
    """Whether the warehouse holds opportunity history (its loader says so in warehouse_info)."""
    return get_info(engine).get("has_history") == "true"


def use_facts(engine: Engine, facts: bool | None) -> bool:
    """Read the per-deal history facts (history_facts.py) when they are complete, unless told which
    source to use (tests and bench-pages compare both)."""
    return has_facts(engine) if facts is None else facts


def require_history(engine: Engine) -> None:
    if not has_history(engine):
        raise NeedsHistory(
            "This view needs opportunity history (stage, amount and close-date changes), which this warehouse does not have."
        )


def deals_in_view(filters: Filters, scope: Scope) -> list[sa.ColumnElement]:
    """Conditions on opportunity for the deals of the people in view (filters and scope) and the products filtered."""
    conditions = []
    people = people_in_view(filters, scope)
    if people is not None:
        conditions.append(o.owner_id.in_(people))
    if filters.products:
        conditions.append(o.product_id.in_(sorted(filters.products)))
    return conditions


def snapshot(day: date, name: str, candidates: sa.Select) -> sa.Subquery:
    """Each candidate deal's state at the end of `day` (deals not yet created are absent)."""
    stmt = sa.select(h.opportunity_id, h.stage, h.amount, h.close_date, h.is_closed, h.is_won, h.forecast_category).where(
        h.changed_at <= day, sa.or_(h.valid_to.is_(None), h.valid_to > day), h.opportunity_id.in_(candidates)
    )
    return stmt.subquery(name)


CHANGE_STEPS = 8  # the waterfall's steps, in order (pipeline_change)


def pipeline_change_select(period: Period, as_of: date, in_view: list[sa.ColumnElement], per_owner: bool) -> sa.Select:
    """Columns a0..a7 (signed amount) and n0..n7 (deals) of the waterfall's steps over the deals in view; with
    per_owner, one row per current owner and product instead (what period_facts stores: the deals in view are
    a per-deal condition on owner and product, so any view is a sum of these rows)."""
    end_day = min(as_of, period.end)
    candidates = sa.select(o.id).where(
        *in_view,
        o.created_date <= end_day,
        sa.or_(sa.not_(o.is_closed), o.close_date >= period.start),
    )
    s = snapshot(period.start - timedelta(days=1), "at_start", candidates)
    e = snapshot(end_day, "at_end", candidates)
    created = sa.select(o.id, o.created_date, o.owner_id, o.product_id).where(o.id.in_(candidates)).subquery("created")

    def in_pipeline(x):
        return sa.and_(sa.not_(x.c.is_closed), x.c.close_date.between(period.start, period.end))

    in_s, in_e = (
        sa.and_(s.c.opportunity_id.is_not(None), in_pipeline(s)),
        sa.and_(e.c.opportunity_id.is_not(None), in_pipeline(e)),
    )
    closed_in = sa.and_(e.c.is_closed, e.c.close_date.between(period.start, end_day))
    won_in, lost_in = sa.and_(closed_in, e.c.is_won), sa.and_(closed_in, sa.not_(e.c.is_won))
    entered = sa.and_(sa.not_(sa.func.coalesce(in_s, False)), sa.or_(in_e, closed_in))
    is_new = sa.or_(s.c.opportunity_id.is_(None), created.c.created_date >= period.start)
    a_s, a_e = sa.func.coalesce(s.c.amount, 0), sa.func.coalesce(e.c.amount, 0)
    steps = [
        (in_s, a_s),  # Open at start
        (sa.and_(entered, is_new), a_e),  # Created
        (sa.and_(entered, sa.not_(is_new)), a_e),  # Pulled in
        (sa.and_(in_s, sa.not_(in_e), sa.not_(won_in), sa.not_(lost_in)), -a_e),  # Pushed out
        (sa.and_(sa.or_(in_s, entered), won_in), -a_e),  # Won
        (sa.and_(sa.or_(in_s, entered), lost_in), -a_e),  # Lost
        (sa.and_(in_s, a_e != a_s), a_e - a_s),  # Amount changes
        (in_e, a_e),  # Open now / at end
    ]
    joined = s.join(e, s.c.opportunity_id == e.c.opportunity_id, full=True)
    deal_id = sa.func.coalesce(s.c.opportunity_id, e.c.opportunity_id)
    joined = joined.outerjoin(created, created.c.id == deal_id)
    columns = []
    for i, (condition, value) in enumerate(steps):
        condition = sa.func.coalesce(condition, False)
        columns += [
            sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0).label(f"a{i}"),  # 0, not NaN, with no deal
            sa.func.count(sa.case((condition, 1))).label(f"n{i}"),
        ]
    stmt = sa.select(*columns).select_from(joined)
    if per_owner:
        keys = (created.c.owner_id, created.c.product_id)
        stmt = stmt.add_columns(*keys).group_by(*keys)
    return stmt


def _stored_change(filters: Filters, scope: Scope, as_of: date) -> sa.Select:
    """The waterfall of the view summed from pipeline_change_fact (the same columns as pipeline_change_select)."""
    f = pipeline_change_fact.c
    conditions = [f.as_of == as_of, f.period_start == filters.period.start, f.period_end == filters.period.end]
    people = people_in_view(filters, scope)
    if people is not None:
        conditions.append(f.owner_id.in_(people))
    if filters.products:
        conditions.append(f.product_id.in_(sorted(filters.products)))
    columns = []
    for i in range(CHANGE_STEPS):
        columns += [
            sa.func.coalesce(sa.func.sum(f[f"a{i}"]), 0).label(f"a{i}"),
            sa.func.coalesce(sa.func.sum(f[f"n{i}"]), 0).label(f"n{i}"),
        ]
    return sa.select(*columns).where(*conditions)


def pipeline_change(
    engine: Engine, filters: Filters, scope: Scope, as_of: date | None = None, *, facts: bool | None = None
) -> pd.DataFrame:
    """The waterfall from the open pipeline at the period's start to the open pipeline now (or at the
    period's end once over): one row per step with its signed amount and number of deals. Read from the
    stored per-owner steps (period_facts.py) when they hold this period at this as_of."""
    require_history(engine)
    period, as_of = filters.period, as_of or date.today()
    end_day = min(as_of, period.end)
    stored = facts is not False and period_facts_hold(engine, period, as_of)
    stmt = (
        _stored_change(filters, scope, as_of)
        if stored
        else pipeline_change_select(period, as_of, deals_in_view(filters, scope), False)
    )
    row = read_frame(engine, stmt).iloc[0]
    names = ["Open at start", "Created", "Pulled in", "Pushed out", "Won", "Lost", "Amount changes"]
    names.append("Open now" if end_day == as_of and as_of <= period.end else "Open at end")
    return pd.DataFrame(
        {
            "step": names,
            "amount": [float(row[f"a{i}"] or 0) for i in range(CHANGE_STEPS)],
            "deals": [int(row[f"n{i}"] or 0) for i in range(CHANGE_STEPS)],
        }
    )


def _stage_entries(candidates: sa.Select) -> sa.CTE:
    """When each candidate deal first entered each stage it reached."""
    return (
        sa.select(h.opportunity_id, stage.c.position, stage.c.is_won, sa.func.min(h.changed_at).label("entered"))
        .select_from(opportunity_history.join(stage, stage.c.name == h.stage))
        .where(h.opportunity_id.in_(candidates))
        .group_by(h.opportunity_id, stage.c.position, stage.c.is_won)
        .cte("entries")
    )


def _entry_flags(candidates: sa.Select, period: Period, facts: bool) -> sa.Subquery:
    """Each candidate deal's entries into a stage in the period, with how many later entries advance it."""
    if facts:
        return (
            sa.select(ds.opportunity_id, ds.position, sa.case((ds.advanced, 1), else_=0).label("advances"))
            .where(ds.entered.between(period.start, period.end), ds.position.is_not(None), ds.opportunity_id.in_(candidates))
            .subquery("flags")
        )
    entries = _stage_entries(candidates)
    later = entries.alias("later")
    # Each entry in the period with the later entries that advance it: a join on the deal, not a
    # correlated EXISTS, which PostgreSQL runs once per entry over the whole subquery (minutes at 1M deals).
    advancing = sa.and_(
        later.c.opportunity_id == entries.c.opportunity_id,
        sa.or_(later.c.position == entries.c.position + 1, later.c.is_won),
        later.c.position > entries.c.position,
        later.c.entered >= entries.c.entered,
    )
    keys = [entries.c.opportunity_id, entries.c.position, entries.c.is_won, entries.c.entered]
    return (
        sa.select(*keys, sa.func.count(later.c.opportunity_id).label("advances"))
        .select_from(entries.outerjoin(later, advancing))
        .where(entries.c.entered.between(period.start, period.end))
        .group_by(*keys)
        .subquery("flags")
    )


def stage_conversion(engine: Engine, filters: Filters, scope: Scope, *, facts: bool | None = None) -> pd.DataFrame:
    """Per open stage: deals that entered it in the period, how many later reached the next stage or
    Closed Won, and that share."""
    require_history(engine)
    period = filters.period
    candidates = sa.select(o.id).where(
        *deals_in_view(filters, scope),
        o.created_date <= period.end,
        sa.or_(sa.not_(o.is_closed), o.close_date >= period.start),
    )
    flags = _entry_flags(candidates, period, use_facts(engine, facts))
    stmt = (
        sa.select(
            stage.c.name.label("stage"),
            stage.c.position,
            sa.func.count(flags.c.opportunity_id).label("reached"),
            sa.func.count(sa.case((flags.c.advances > 0, 1))).label("advanced"),
        )
        .select_from(stage.outerjoin(flags, flags.c.position == stage.c.position))
        .where(sa.not_(stage.c.is_closed))
        .group_by(stage.c.name, stage.c.position)
        .order_by(stage.c.position)
    )
    frame = read_frame(engine, stmt)
    frame["conversion"] = frame["advanced"] / frame["reached"].where(frame["reached"] > 0)
    return frame


def median_select(in_view: list[sa.ColumnElement], as_of: date, facts: bool) -> sa.Select:
    """position, median_days: the median stint per open stage over stints that ended in the year before as_of."""
    year_ago = as_of - timedelta(days=365)
    candidates = sa.select(o.id).where(*in_view, sa.or_(sa.not_(o.is_closed), o.close_date >= year_ago))
    if facts:
        stints = (
            sa.select(ds.position, ds.entered, ds.next_entered.label("left"))
            .where(ds.position.is_not(None), ds.opportunity_id.in_(candidates))
            .subquery("stints")
        )
    else:
        entries = _stage_entries(candidates)
        left = sa.func.lead(entries.c.entered).over(  # stages entered on one day follow their order, so ties are stable
            partition_by=entries.c.opportunity_id, order_by=(entries.c.entered, entries.c.position)
        )
        stints = sa.select(entries.c.position, entries.c.entered, left.label("left")).subquery("stints")
    return (
        sa.select(
            stints.c.position, median(days_between(stints.c.left, stints.c.entered)).label("median_days")
        )
        .where(stints.c.left.between(year_ago, as_of))
        .group_by(stints.c.position)
    )


def median_days_in_stage(
    engine: Engine, filters: Filters, scope: Scope, as_of: date | None = None, *, facts: bool | None = None
) -> pd.DataFrame:
    """Median days spent in each open stage, over stints that ended in the year before as_of. For everyone
    (no people or product filter) at the warehouse's as_of, stored by period_facts (a median is not a sum
    of per-owner parts, so other views compute it, from the facts)."""
    require_history(engine)
    as_of = as_of or date.today()
    in_view = deals_in_view(filters, scope)
    if facts is not False and not in_view and stored_as_of(engine) == as_of:
        m = stint_median_fact.c
        return read_frame(engine, sa.select(m.position, m.median_days).where(m.as_of == as_of))
    return read_frame(engine, median_select(in_view, as_of, use_facts(engine, facts)))


def _stalled_threshold(position: sa.ColumnElement, limit_by_position: dict[int, float]) -> sa.ColumnElement:
    """Days in stage after which a deal counts as stalled. No median at all (nobody in view has history)
    is the plain fallback: a CASE needs at least one WHEN."""
    if not limit_by_position:
        return sa.literal(STALLED_FALLBACK_DAYS, sa.Double)
    return sa.case(*[(position == p, days) for p, days in limit_by_position.items()], else_=STALLED_FALLBACK_DAYS)


def _stage_marks(filters: Filters) -> sa.Subquery:
    """One grouped pass over the history of the deals open in the period (in anyone's view: the scope applies
    in stalled_deals, and its CTE must appear once): the day each last left another stage (valid_to, not when
    it entered that one: a deal moved back to its stage has been in it since it returned), and when it first
    reached its current stage."""
    cur = opportunity.alias("cur")
    return (
        sa.select(
            h.opportunity_id,
            sa.func.max(sa.case((h.stage != cur.c.stage, h.valid_to))).label("left_other"),
            sa.func.min(sa.case((h.stage == cur.c.stage, h.changed_at))).label("first_seen"),
        )
        .select_from(opportunity_history.join(cur, cur.c.id == h.opportunity_id))
        .where(sa.not_(cur.c.is_closed), cur.c.close_date.between(filters.period.start, filters.period.end))
        .group_by(h.opportunity_id)
        .subquery("marks")
    )


def stalled_deals(
    engine: Engine, filters: Filters, scope: Scope, as_of: date | None = None, *, facts: bool | None = None
) -> pd.DataFrame:
    """Open deals (expected to close in the period) with no stage change for more than twice the
    median time in their stage, or 30 days when that median is unknown."""
    return read_frame(engine, _stalled_select(engine, filters, scope, as_of or date.today(), facts))


def stalled_per_owner(engine: Engine, filters: Filters, scope: Scope, as_of: date, *, facts: bool | None = None) -> pd.DataFrame:
    """owner_id, stalled: the stalled deals counted per owner in SQL (coaching flags need only the counts;
    building the labelled list of 100,000+ deals costs more than finding them)."""
    listed = _stalled_select(engine, filters, scope, as_of, facts).order_by(None).subquery("stalled")
    owner = opportunity.alias("owner_of")
    stmt = (
        sa.select(owner.c.owner_id, sa.func.count().label("stalled"))
        .select_from(listed.join(owner, owner.c.id == listed.c.id))
        .group_by(owner.c.owner_id)
    )
    return read_frame(engine, stmt)


def _stalled_select(engine: Engine, filters: Filters, scope: Scope, as_of: date, facts: bool | None) -> sa.Select:
    """stalled_deals' statement (the medians it needs are read first)."""
    facts = use_facts(engine, facts)
    medians = median_days_in_stage(engine, filters, scope, as_of, facts=facts)
    limit_by_position = {int(p): 2 * float(d) for p, d in zip(medians["position"], medians["median_days"], strict=True)}
    current = stage.alias("current_stage")
    open_in_period = [
        sa.not_(o.is_closed),
        o.close_date.between(filters.period.start, filters.period.end),
        *deals_in_view(filters, scope),
    ]
    if facts:  # each open deal's current stage and the day it entered it, stored (history_facts.py)
        dcs = deal_current_stage.c
        marks = sa.select(dcs.opportunity_id, dcs.stage, dcs.in_stage_since).subquery("marks")
        since = sa.func.coalesce(marks.c.in_stage_since, o.created_date)
        on = sa.and_(marks.c.opportunity_id == o.id, marks.c.stage == o.stage)
    else:
        marks = _stage_marks(filters)
        in_stage_since, first_seen = marks.c.left_other, marks.c.first_seen
        since = sa.func.coalesce(sa.func.greatest(in_stage_since, first_seen), first_seen, o.created_date)
        on = marks.c.opportunity_id == o.id
    threshold = _stalled_threshold(current.c.position, limit_by_position)
    days_in_stage = days_between(sa.literal(as_of, sa.Date), since)
    stmt = (
        with_deal_labels(
            sa.select(
                *deal_columns(),
                since.label("in_stage_since"),
                days_in_stage.label("days_in_stage"),
                threshold.label("stalled_after_days"),
            )
        )
        .join(current, current.c.name == o.stage)
        .outerjoin(marks, on)
        .where(*open_in_period, days_in_stage > threshold)
        .order_by(days_in_stage.desc(), o.id)
    )
    return stmt


def slipped_deals(engine: Engine, filters: Filters, scope: Scope, *, facts: bool | None = None) -> pd.DataFrame:
    """Deals open in the period's pipeline at its start whose expected close date is now after its end. The
    start's open pipeline is stored for the standard periods (period_facts.py)."""
    require_history(engine)
    period = filters.period
    if facts is not False and period_facts_hold(engine, period):
        p = period_open_at_start.c
        at_start = sa.select(p.opportunity_id, p.close_date).where(p.period_start == period.start, p.period_end == period.end)
        s = at_start.subquery("at_start")
        stmt = (
            with_deal_labels(sa.select(*deal_columns(), s.c.close_date.label("close_date_at_start")))
            .join(s, s.c.opportunity_id == o.id)
            .where(o.close_date > period.end, *deals_in_view(filters, scope))
            .order_by(o.amount.desc(), o.id)
        )
        return read_frame(engine, stmt)
    candidates = sa.select(o.id).where(*deals_in_view(filters, scope), o.close_date > period.end)
    s = snapshot(period.start - timedelta(days=1), "at_start", candidates)
    stmt = (
        with_deal_labels(sa.select(*deal_columns(), s.c.close_date.label("close_date_at_start")))
        .join(s, s.c.opportunity_id == o.id)
        .where(sa.not_(s.c.is_closed), s.c.close_date.between(period.start, period.end), o.close_date > period.end)
        .order_by(o.amount.desc(), o.id)
    )
    return read_frame(engine, stmt)


def overdue_deals(engine: Engine, filters: Filters, scope: Scope, as_of: date | None = None) -> pd.DataFrame:
    """Open deals expected to close in the period whose expected close date is already past."""
    as_of = as_of or date.today()
    stmt = (
        with_deal_labels(sa.select(*deal_columns()))
        .where(
            sa.not_(o.is_closed),
            o.close_date.between(filters.period.start, filters.period.end),
            o.close_date < as_of,
            *deals_in_view(filters, scope),
        )
        .order_by(o.close_date, o.id)
    )
    return read_frame(engine, stmt)


def accuracy_days(periods: list[Period], week: int, as_of: date) -> list[tuple[Period, date]]:
    """Each period with the day its forecast is read (the start of week `week`, at most its last day), for
    those whose day has come by as_of: what forecast_accuracy shows and period_facts stores."""
    days = [(p, min(p.start + timedelta(days=7 * week), p.end)) for p in periods]
    return [(p, day) for p, day in days if day <= as_of]


def period_index(day: sa.ColumnElement, periods: list[Period]) -> sa.ColumnElement:
    """Which of the (disjoint) periods a date falls in, as its index k; NULL for none."""
    return sa.case(*[(day.between(p.start, p.end), k) for k, p in enumerate(periods)])


def _disjoint(periods: list[Period]) -> bool:
    ordered = sorted(periods, key=lambda p: p.start)
    return all(a.end < b.start for a, b in pairwise(ordered))


ACCURACY_COLUMNS = ["period_start", "period_end", "snapshot_date", "forecast", "actual", "complete", "accuracy"]


def accuracy_forecast_select(
    days: list[tuple[Period, date]], in_view: list[sa.ColumnElement], per_owner: bool, deals: sa.Select | None = None
) -> sa.Select:
    """k and the forecast (closed + commit) of each (disjoint) period k as history stood on its day; with
    per_owner, per current owner and product too (what period_facts stores). `deals` (ids, a few): the
    same deals as in_view, named so history is narrowed first (an import's upkeep, fact_changes.py).

    One pass over history for all the periods: only a row whose close date lies in period k can count in
    k's forecast, so each row is labelled with that k, joined to k's snapshot day, and kept when it was the
    deal's state then (changed_at <= day < valid_to)."""
    shown = [p for p, _ in days]
    points = sa.values(sa.column("k", sa.Integer), sa.column("t", sa.Date), sa.column("start", sa.Date), name="points").data(
        [(k, day, p.start) for k, (p, day) in enumerate(days)]
    )
    labelled = (
        sa.select(h.opportunity_id, h.changed_at, h.valid_to, h.amount, period_index(h.close_date, shown).label("k"))
        .where(
            sa.or_(h.is_won, sa.and_(sa.not_(h.is_closed), h.forecast_category == "Commit")),
            h.changed_at <= max(day for _, day in days),
            h.close_date.between(min(p.start for p in shown), max(p.end for p in shown)),
            *([] if deals is None else [h.opportunity_id.in_(deals)]),
        )
        .subquery("labelled")
    )
    c = labelled.c
    deals = sa.select(o.id, o.created_date, o.is_closed, o.close_date, o.owner_id, o.product_id).where(*in_view).subquery("deals")
    keys = (points.c.k, *((deals.c.owner_id, deals.c.product_id) if per_owner else ()))
    return (
        sa.select(*keys, sa.func.sum(c.amount).label("forecast"))
        .select_from(labelled.join(points, points.c.k == c.k).join(deals, deals.c.id == c.opportunity_id))
        .where(
            c.changed_at <= points.c.t,
            sa.or_(c.valid_to.is_(None), c.valid_to > points.c.t),
            deals.c.created_date <= points.c.t,
            sa.or_(sa.not_(deals.c.is_closed), deals.c.close_date >= points.c.start),
        )
        .group_by(*keys)
    )


def _stored_forecasts(
    engine: Engine, filters: Filters, scope: Scope, shown: list[Period], week: int, as_of: date
) -> pd.Series | None:
    """Per k, the forecasts summed from forecast_accuracy_fact for the view, or None unless every period is stored."""
    if not has_facts(engine):
        return None
    f = forecast_accuracy_fact.c
    which = [sa.and_(f.period_start == p.start, f.period_end == p.end) for p in shown]
    marks = read_frame(
        engine,
        sa.select(f.period_start, f.period_end).where(f.as_of == as_of, f.week == week, f.owner_id.is_(None), sa.or_(*which)),
    )
    if len(marks) != len(shown):
        return None
    conditions = [f.as_of == as_of, f.week == week, sa.or_(*which)]
    people = people_in_view(filters, scope)
    if people is not None:
        conditions.append(f.owner_id.in_(people))
    if filters.products:
        conditions.append(f.product_id.in_(sorted(filters.products)))
    k = period_index(f.period_start, shown)
    return read_frame(
        engine, sa.select(k.label("k"), sa.func.sum(f.forecast).label("forecast")).where(*conditions).group_by(k)
    ).set_index("k")["forecast"]


def forecast_accuracy(
    engine: Engine,
    filters: Filters,
    periods: list[Period],
    week: int,
    scope: Scope,
    as_of: date | None = None,
    *,
    facts: bool | None = None,
) -> pd.DataFrame:
    """For each past period: the forecast (closed + commit) as history stood at week `week` of the
    period, the actual bookings, and accuracy = 1 - |forecast - actual| / actual (None when actual is 0).
    The forecasts the running standard periods show are stored per owner and product (period_facts.py)."""
    require_history(engine)
    as_of = as_of or date.today()
    if not _disjoint(periods):  # a row could count in two periods: one pass each
        frames = [forecast_accuracy(engine, filters, [p], week, scope, as_of, facts=facts) for p in periods]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ACCURACY_COLUMNS)
    days = accuracy_days(periods, week, as_of)
    if not days:
        return pd.DataFrame(columns=ACCURACY_COLUMNS)
    shown = [p for p, _ in days]
    in_view = deals_in_view(filters, scope)  # the period does not change who or what is in view
    won_k = period_index(o.close_date, shown)
    actual = (
        sa.select(won_k.label("k"), sa.func.sum(o.amount).label("actual"))
        .where(o.is_won, o.close_date.between(min(p.start for p in shown), max(p.end for p in shown)), *in_view)
        .group_by(won_k)
    )
    stored = None if facts is False else _stored_forecasts(engine, filters, scope, shown, week, as_of)
    got_forecast = (
        stored
        if stored is not None
        else read_frame(engine, accuracy_forecast_select(days, in_view, False)).set_index("k")["forecast"]
    )
    got_actual = read_frame(engine, actual).dropna(subset=["k"]).set_index("k")["actual"]
    rows = []
    for k, (period, day) in enumerate(days):
        f, a = float(got_forecast.get(k, 0) or 0), float(got_actual.get(k, 0) or 0)
        rows.append(
            {
                "period_start": period.start,
                "period_end": period.end,
                "snapshot_date": day,
                "forecast": f,
                "actual": a,
                "complete": period.end < as_of,
                "accuracy": (1 - abs(f - a) / a) if a else None,
            }
        )
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
