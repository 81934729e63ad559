"""The forecast view's numbers: forecast categories rolled up the manager tree, the latest forecast
submissions against the system call, a statistical forecast for the rest of the period with a range,
and forecast accuracy over past periods.

Category definitions follow SPEC.md and Salesforce's standard set: Closed is bookings (won in the
period); Commit, Best Case and Pipeline are open deals closing in the period by forecast category;
Omitted (and any other category on an open deal) is left out of the forecast. Call = closed + commit;
upside = call + best case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from statistics import NormalDist

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import history, metrics
from .db import read_frame
from .deals import deal_columns, with_deal_labels
from .filters import Filters, Period, Scope
from .history_facts import period_facts_hold
from .model import IS_OPEN, IS_WON, MEASURES
from .people import people_in_view, subtree_ids
from .portable import days_between
from .schema import forecast_cohort_fact, forecast_submission, opportunity, opportunity_history, person, stage

o = opportunity.c
h = opportunity_history.c

CATEGORIES = ("Closed", "Commit", "Best Case", "Pipeline")
CATEGORY_COLUMNS = {"Closed": "closed", "Commit": "commit", "Best Case": "best_case", "Pipeline": "pipeline"}
AMOUNT_COLUMNS = ("closed", "commit", "best_case", "pipeline", "omitted", "open_pipeline", "weighted", "quota")
ROLLUP_COLUMNS = (
    "person_id", "name", "role", "manager_id", "depth", "direct_reports", "reps",
    *AMOUNT_COLUMNS, "call", "upside", "call_vs_quota",
)  # fmt: skip

LOOKBACK_PERIODS = 8
PRIOR_WEIGHT = 5.0  # pseudo-deals: how much a sparse cell leans on its stage's rate
RANGE = (0.1, 0.9)  # the forecast range is the 10th to 90th percentile
# Age buckets in days since creation (lower edges): deals that linger in a stage win less often.
AGE_EDGES = (0, 15, 30, 60, 120, 240)
UNKNOWN_AGE = -1
CELL_COLUMNS = ("stage", "age_bucket", "age", "history_deals", "history_won", "p", "open_deals", "open_amount", "expected")


def age_label(bucket: int) -> str:
    if bucket == UNKNOWN_AGE:
        return "unknown age"
    if bucket == len(AGE_EDGES) - 1:
        return f"{AGE_EDGES[-1]}+ days"
    return f"{AGE_EDGES[bucket]}–{AGE_EDGES[bucket + 1] - 1} days"


# ---------------------------------------------------------------- roll-up up the manager tree


def rep_numbers(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    """Per person owning deals or quota in view: the amounts of each forecast category, open and
    weighted pipeline, and quota, straight from the metrics layer."""
    kpis = ["bookings", "commit_pipeline", "best_case_pipeline", "open_pipeline", "weighted_pipeline", "quota"]
    main = metrics.query(engine, kpis, filters, scope, by=["rep"], as_of=as_of)
    main = main.rename(
        columns={
            "rep_id": "person_id",
            "bookings": "closed",
            "commit_pipeline": "commit",
            "best_case_pipeline": "best_case",
            "weighted_pipeline": "weighted",
        }
    )
    by_category = metrics.query(engine, ["open_pipeline"], filters, scope, by=["rep", "forecast_category"], as_of=as_of)
    pipeline = (
        by_category[by_category["forecast_category"] == "Pipeline"]
        .groupby("rep_id")["open_pipeline"]
        .sum()
        .rename("pipeline")
        .rename_axis("person_id")
    )
    frame = main.drop(columns="rep").merge(pipeline.reset_index(), on="person_id", how="left")
    frame = frame.dropna(subset=["person_id"]).fillna({c: 0.0 for c in AMOUNT_COLUMNS if c in frame})
    frame["person_id"] = frame["person_id"].astype("int64")
    # Open deals in Omitted (or a non-standard category) count in open pipeline but in no forecast category.
    frame["omitted"] = frame["open_pipeline"] - frame["commit"] - frame["best_case"] - frame["pipeline"]
    return frame[["person_id", *AMOUNT_COLUMNS]].astype({c: "float64" for c in AMOUNT_COLUMNS})


def closure(people: pd.DataFrame) -> pd.DataFrame:
    """(ancestor_id, person_id, distance) for every person and each of their managers at any depth,
    self included at distance 0. A manager loop in bad data ends the walk instead of looping."""
    parent = people.dropna(subset=["manager_id"]).set_index("id")["manager_id"].astype("int64")
    ids = people["id"].astype("int64")
    pairs = pd.DataFrame({"ancestor_id": ids, "person_id": ids, "distance": 0})
    frontier = pairs
    for _ in range(len(people)):
        step = frontier.assign(ancestor_id=frontier["ancestor_id"].map(parent), distance=frontier["distance"] + 1)
        step = step.dropna(subset=["ancestor_id"]).astype({"ancestor_id": "int64"})
        step = step.merge(pairs[["ancestor_id", "person_id"]], how="left", indicator=True)
        step = step[step["_merge"] == "left_only"].drop(columns="_merge")
        if step.empty:
            break
        pairs = pd.concat([pairs, step], ignore_index=True)
        frontier = step
    return pairs.reset_index(drop=True)


def subtree_rollup(
    people: pd.DataFrame, pairs: pd.DataFrame, values: pd.DataFrame, nodes: set[int], rep_ids: set[int] | None = None
) -> pd.DataFrame:
    """Each node's row = the sum of `values` (per person_id) over its whole subtree, self included.

    people: id, name, role, manager_id (the whole tree, so subtrees walk through everyone); pairs:
    its closure(); nodes: the people to return rows for; rep_ids: the reps to count in `reps` (those in
    view, so the count covers the same people as the numbers; None: every rep). Depth and order are those
    of the tree drawn from the nodes alone: a node whose manager is not a node is a root; children sort by name."""
    amounts = [c for c in values.columns if c != "person_id"]
    summed = pairs.merge(values, on="person_id", how="inner").groupby("ancestor_id")[amounts].sum().rename_axis("person_id")
    if rep_ids is None:
        rep_ids = set(people.loc[people["role"] == "rep", "id"].astype("int64"))
    reps = pairs[pairs["person_id"].isin(rep_ids)].groupby("ancestor_id").size()
    frame = people[people["id"].isin(nodes)].rename(columns={"id": "person_id"}).copy()
    frame["person_id"] = frame["person_id"].astype("int64")
    frame = frame.merge(summed.reset_index(), on="person_id", how="left").fillna({c: 0.0 for c in amounts})
    frame["reps"] = frame["person_id"].map(reps).fillna(0).astype("int64")
    manager = frame["manager_id"].astype("Int64")
    frame["manager_id"] = manager.where(manager.isin(nodes))  # a root's manager is out of view
    frame["direct_reports"] = frame["person_id"].map(frame["manager_id"].value_counts()).fillna(0).astype("int64")
    return _tree_order(frame)


def _tree_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in depth-first order (children by name) with their depth below the shown roots."""
    children: dict[object, list[tuple[str, int]]] = {}
    for pid, name, manager in zip(frame["person_id"], frame["name"], frame["manager_id"], strict=True):
        children.setdefault(None if pd.isna(manager) else int(manager), []).append((str(name), int(pid)))
    order: list[int] = []
    depth: dict[int, int] = {}
    stack = [(pid, 0) for _, pid in sorted(children.get(None, []), reverse=True)]
    while stack:
        pid, d = stack.pop()
        if pid in depth:
            continue
        order.append(pid)
        depth[pid] = d
        stack += [(child, d + 1) for _, child in sorted(children.get(pid, []), reverse=True)]
    position = {pid: i for i, pid in enumerate(order)}
    frame = frame[frame["person_id"].isin(position)].copy()
    frame["depth"] = frame["person_id"].map(depth).astype("int64")
    return frame.sort_values("person_id", key=lambda s: s.map(position)).reset_index(drop=True)


def _with_calls(frame: pd.DataFrame) -> pd.DataFrame:
    frame["call"] = frame["closed"] + frame["commit"]
    frame["upside"] = frame["call"] + frame["best_case"]
    frame["call_vs_quota"] = (frame["call"] / frame["quota"].where(frame["quota"] > 0)).astype("float64")
    return frame


def _ids(engine: Engine, select: sa.Select | None) -> set[int] | None:
    return None if select is None else {int(i) for i in read_frame(engine, select).iloc[:, 0]}


def rollup(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    """Forecast categories, call, upside and quota for every manager and rep in view, each row summed
    over the person's whole subtree (any depth), in tree order with a depth for indenting.

    The rows are the people in view (filters and scope) plus their managers up the tree as far as the
    viewer's scope reaches, so a team filter still shows that team's chain of managers; each manager's
    numbers only count the people in view below them. call_vs_quota is NaN without a quota."""
    people = read_frame(engine, sa.select(person.c.id, person.c.name, person.c.role, person.c.manager_id))
    values = rep_numbers(engine, filters, scope, as_of)
    if people.empty:
        return pd.DataFrame(columns=list(ROLLUP_COLUMNS))
    in_view = _ids(engine, people_in_view(filters, scope))
    visible = _ids(engine, people_in_view(None, scope))
    everyone = set(people["id"].astype("int64"))
    in_view = everyone if in_view is None else in_view
    visible = everyone if visible is None else visible
    reps_in_view = set(people.loc[people["role"] == "rep", "id"].astype("int64")) & in_view
    sellers = reps_in_view | set(values["person_id"])
    pairs = closure(people)
    nodes = set(pairs.loc[pairs["person_id"].isin(sellers), "ancestor_id"]) & visible
    frame = _with_calls(subtree_rollup(people, pairs, values, nodes, reps_in_view))
    return frame[list(ROLLUP_COLUMNS)]


def children(tree: pd.DataFrame, parent_id: int | None) -> pd.DataFrame:
    """The rows directly below a person in the roll-up (the roots for None), in tree order."""
    if parent_id is None:
        return tree[tree["manager_id"].isna().to_numpy(bool)]
    return tree[tree["manager_id"].eq(parent_id).fillna(False).to_numpy(bool)]


def category_deals(engine: Engine, filters: Filters, scope: Scope, category: str, root_id: int | None = None) -> pd.DataFrame:
    """The deals behind one forecast category (Closed, Commit, Best Case, Pipeline) in view, limited
    to a person's subtree when root_id is given: the drill-down of a roll-up cell."""
    if category not in CATEGORIES:
        raise ValueError(f"Unknown forecast category {category!r}; expected one of {', '.join(CATEGORIES)}")
    measure = MEASURES["won_amount" if category == "Closed" else "open_amount"]
    conditions = [*metrics.fact_filters(measure, filters, people_in_view(filters, scope)), measure.condition]
    if category != "Closed":
        conditions.append(o.forecast_category == category)
    if root_id is not None:
        conditions.append(o.owner_id.in_(subtree_ids([root_id], "deal_root")))
    stmt = with_deal_labels(sa.select(*deal_columns())).where(*conditions).order_by(o.amount.desc(), o.id)
    return read_frame(engine, stmt)


# ---------------------------------------------------------------- forecast submissions


def submission_quarter(period: Period, as_of: date) -> Period:
    """Submissions are made per quarter: the quarter of the period's end, or of today while the
    period is still running."""
    return Period.quarter(min(period.end, as_of))


def without_products(filters: Filters) -> Filters:
    """Submissions are made per person, not per product: compare them with unfiltered products."""
    return replace(filters, products=frozenset())


def latest_submissions(engine: Engine, filters: Filters, scope: Scope, quarter: Period, as_of: date) -> pd.DataFrame:
    """Each person's last forecast submission for the quarter made by as_of, for the people in view:
    submitted commit and best case, the note and whether it is a manager's override of the roll-up."""
    f = forecast_submission.c
    people = people_in_view(filters, scope)
    latest = sa.func.row_number().over(partition_by=f.person_id, order_by=(f.submitted_at.desc(), f.id.desc()))
    ranked = (
        sa.select(
            f.person_id,
            f.submitted_at,
            f.commit_amount.label("submitted_commit"),
            f.best_case_amount.label("submitted_best_case"),
            f.note,
            f.is_override,
            latest.label("rank"),
        )
        .where(
            f.period_start == quarter.start,
            f.period_end == quarter.end,
            f.submitted_at < datetime.combine(as_of + timedelta(days=1), time()),
            *([f.person_id.in_(people)] if people is not None else []),
        )
        .subquery("ranked")
    )
    manager = person.alias("reports_to")
    stmt = (
        sa.select(
            ranked.c.person_id,
            person.c.name,
            person.c.role,
            manager.c.name.label("reports_to"),
            ranked.c.submitted_at,
            ranked.c.submitted_commit,
            ranked.c.submitted_best_case,
            ranked.c.is_override,
            ranked.c.note,
        )
        .select_from(
            ranked.join(person, person.c.id == ranked.c.person_id).outerjoin(manager, manager.c.id == person.c.manager_id)
        )
        .where(ranked.c.rank == 1)
        .order_by(person.c.name)
    )
    return read_frame(engine, stmt)


def compare_submissions(submissions: pd.DataFrame, system: pd.DataFrame) -> pd.DataFrame:
    """Submissions beside the system's numbers for the same person's subtree. A submitted commit is a
    call (it includes what has closed, as forecast categories are cumulative), so it is compared with
    closed + commit; a submitted best case with the upside."""
    numbers = system[["person_id", "depth", "call", "upside", "quota"]].rename(
        columns={"call": "system_call", "upside": "system_upside"}
    )
    frame = submissions.merge(numbers, on="person_id", how="left")
    frame["difference"] = frame["submitted_commit"] - frame["system_call"]
    frame["kind"] = frame["is_override"].map({True: "Manager override", False: "Own forecast"})
    return frame.sort_values(["depth", "name"], na_position="last").reset_index(drop=True)


# ---------------------------------------------------------------- statistical forecast


@dataclass(frozen=True)
class StatisticalForecast:
    """Bookings expected by the period's end, with a 10th-90th percentile range.

    expected = bookings so far + sum(p x amount) over open deals closing in the period + the mean
    amount won in comparable past periods' remaining days from deals outside their open pipeline."""

    bookings: float  # won in the period so far
    open_expected: float  # sum of p x amount over today's open deals closing in the period
    other_expected: float  # new deals (and pulled-in ones) expected to be won in the remaining days
    expected: float
    low: float
    high: float
    std: float
    periods: tuple[Period, ...]  # the past periods the rates were learned from
    cells: pd.DataFrame  # per stage and age bucket: history (deals, won), p, and today's deals and amount
    remaining_days: int

    @property
    def is_final(self) -> bool:
        return self.remaining_days <= 0


def past_periods(period: Period, as_of: date, count: int) -> list[Period]:
    """The `count` periods of the same kind before `period` that ended before as_of, latest first."""
    found: list[Period] = []
    candidate = period.previous()
    while len(found) < count:
        if candidate.end < as_of:
            found.append(candidate)
        candidate = candidate.previous()
    return found


def _age_bucket(days: sa.ColumnElement) -> sa.ColumnElement:
    whens = [(days.is_(None), UNKNOWN_AGE)]
    whens += [(days < edge, i - 1) for i, edge in enumerate(AGE_EDGES) if i > 0]
    return sa.case(*whens, else_=len(AGE_EDGES) - 1)


def _points(periods: list[Period], horizon: int) -> sa.Values:
    """Comparable points: in each past period k, the day t with as many days left as today has."""
    rows = [(k, p.end - timedelta(days=horizon)) for k, p in enumerate(periods)]
    return sa.values(sa.column("k", sa.Integer), sa.column("t", sa.Date), name="points").data(rows)


def _cohorts(engine: Engine, filters: Filters, scope: Scope, periods: list[Period], horizon: int, stored: bool) -> pd.DataFrame:
    """Per past period k, stage and age bucket at its comparable point t: the deals open at t expected
    to close in that period (per history), their amount then, how many were won in the period after
    t and the amount won. Summed from forecast_cohort_fact when `stored` (period_facts.py)."""
    if not stored:
        return read_frame(engine, cohort_select(history.deals_in_view(filters, scope), periods, horizon, per_owner=False))
    f = forecast_cohort_fact.c
    conditions = [f.as_of == filters.period.end - timedelta(days=horizon), f.period_start == filters.period.start]
    people = people_in_view(filters, scope)
    if people is not None:
        conditions.append(f.owner_id.in_(people))
    if filters.products:
        conditions.append(f.product_id.in_(sorted(filters.products)))
    keys = (f.k, f.stage, f.age_bucket)
    sums = [sa.cast(sa.func.sum(f[c]), f[c].type).label(c) for c in ("deals", "amount", "won", "won_amount")]
    return read_frame(engine, sa.select(*keys, *sums).where(*conditions, f.period_end == filters.period.end).group_by(*keys))


def cohort_select(
    in_view: list[sa.ColumnElement], periods: list[Period], horizon: int, per_owner: bool, deals: sa.Select | None = None
) -> sa.Select:
    """_cohorts' statement over the deals in view; with per_owner, also per current owner and product (what
    period_facts stores: any view's cohorts are sums of those rows). `deals` (ids, a few): the same deals
    as in_view, named so history is narrowed first (an import's upkeep, fact_changes.py).

    A history row can only count at the point of the period holding its close date, so one scan
    labels each row with that period (k), an equi-join brings its point t, and the row is kept when
    it was the deal's state then (changed_at <= t < valid_to, see schema): no range join."""
    pts = _points(periods, horizon)
    first_t, last_t = (
        min(p.end for p in periods) - timedelta(days=horizon),
        max(p.end for p in periods) - timedelta(days=horizon),
    )
    labelled = (
        sa.select(
            h.opportunity_id,
            h.stage,
            h.changed_at,
            h.valid_to,
            sa.cast(h.amount, sa.Double).label("amount"),
            history.period_index(h.close_date, periods).label("k"),
        )
        .where(
            sa.not_(h.is_closed),
            h.changed_at <= last_t,
            sa.or_(h.valid_to.is_(None), h.valid_to > first_t),
            h.close_date.between(min(p.start for p in periods), max(p.end for p in periods)),
            *([] if deals is None else [h.opportunity_id.in_(deals)]),
        )
        .subquery("labelled")
    )
    outcome = (
        sa.select(o.id, o.created_date, o.is_won, sa.cast(o.amount, sa.Double).label("amount"), o.close_date)
        .add_columns(history.period_index(o.close_date, periods).label("closed_k"), o.owner_id, o.product_id)
        .where(*in_view)
        .subquery("outcome")
    )
    c, d = labelled.c, outcome.c
    won = sa.and_(d.is_won, d.close_date > pts.c.t, d.closed_k == c.k)
    rows = (
        sa.select(
            c.k,
            c.stage,
            _age_bucket(days_between(pts.c.t, d.created_date)).label("age_bucket"),
            c.amount,
            sa.case((won, 1), else_=0).label("won"),
            sa.case((won, d.amount), else_=0.0).label("won_amount"),
            d.owner_id,
            d.product_id,
        )
        .select_from(labelled.join(pts, pts.c.k == c.k).join(outcome, d.id == c.opportunity_id))
        .where(c.changed_at <= pts.c.t, sa.or_(c.valid_to.is_(None), c.valid_to > pts.c.t))
        .subquery("cohort")
    )
    keys = (rows.c.k, rows.c.stage, rows.c.age_bucket, *((rows.c.owner_id, rows.c.product_id) if per_owner else ()))
    return sa.select(
        *keys,
        sa.func.count().label("deals"),
        sa.func.sum(rows.c.amount).label("amount"),
        sa.func.sum(rows.c.won).label("won"),
        sa.func.sum(rows.c.won_amount).label("won_amount"),
    ).group_by(*keys)


def _won_after(engine: Engine, filters: Filters, scope: Scope, periods: list[Period], horizon: int) -> pd.Series:
    """Per past period k: the amount won in it after its comparable point (all deals)."""
    pts = _points(periods, horizon)
    labelled = (
        sa.select(
            o.close_date, sa.cast(o.amount, sa.Double).label("amount"), history.period_index(o.close_date, periods).label("k")
        )
        .where(
            IS_WON,
            o.close_date.between(min(p.start for p in periods), max(p.end for p in periods)),
            *history.deals_in_view(filters, scope),
        )
        .subquery("won")
    )
    c = labelled.c
    stmt = (
        sa.select(c.k, sa.func.sum(c.amount).label("won_amount"))
        .select_from(labelled.join(pts, pts.c.k == c.k))
        .where(c.close_date > pts.c.t)
        .group_by(c.k)
    )
    frame = read_frame(engine, stmt)
    return frame.set_index("k")["won_amount"].reindex(range(len(periods)), fill_value=0.0).astype("float64")


def _open_now(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    """Today's open deals closing in the period (the open pipeline KPI's rows), by stage and age."""
    measure = MEASURES["open_amount"]
    amount = sa.cast(o.amount, sa.Double)
    rows = (
        sa.select(
            o.stage,
            _age_bucket(days_between(sa.literal(as_of, sa.Date), o.created_date)).label("age_bucket"),
            amount.label("amount"),
        )
        .where(IS_OPEN, *metrics.fact_filters(measure, filters, people_in_view(filters, scope)))
        .subquery("open_now")
    )
    stmt = sa.select(
        rows.c.stage,
        rows.c.age_bucket,
        sa.func.count().label("open_deals"),
        sa.func.sum(rows.c.amount).label("open_amount"),
        sa.func.sum(rows.c.amount * rows.c.amount).label("open_amount_sq"),
    ).group_by(rows.c.stage, rows.c.age_bucket)
    return read_frame(engine, stmt)


def _first_history_day(engine: Engine | sa.Connection) -> date | None:
    first = read_frame(engine, sa.select(sa.func.min(h.changed_at).label("first"))).iloc[0, 0]
    return None if pd.isna(first) else pd.Timestamp(first).date()


def learning_periods(
    engine: Engine | sa.Connection, period: Period, as_of: date, lookback: int = LOOKBACK_PERIODS
) -> list[Period]:
    """The past periods the statistical forecast learns from: those whose comparable point history reaches."""
    horizon = (period.end - as_of).days
    first = _first_history_day(engine)
    # (p.end - first).days, not p.end - horizon: a period far ahead would reach back past date.min
    return [p for p in past_periods(period, as_of, lookback) if first is not None and (p.end - first).days >= horizon]


def win_probabilities(
    history_cells: pd.DataFrame, cells: pd.DataFrame, priors: Mapping[str, float], prior_weight: float = PRIOR_WEIGHT
) -> pd.Series:
    """P(won by the period's end) for each (stage, age_bucket) row of `cells`.

    history_cells: stage, age_bucket, deals, won, summed over the comparable past points. Sparse
    cells are shrunk towards their stage's rate, and a stage's rate towards its prior (the stage
    table's probability), each with `prior_weight` pseudo-deals (empirical Bayes); with no history
    at all the forecast falls back to the stage probabilities, i.e. the weighted pipeline."""
    total_deals, total_won = float(history_cells["deals"].sum()), float(history_cells["won"].sum())
    overall = total_won / total_deals if total_deals else 0.0
    by_stage = history_cells.groupby("stage")[["deals", "won"]].sum()
    by_cell = history_cells.groupby(["stage", "age_bucket"])[["deals", "won"]].sum()

    def shrunk(won: float, deals: float, prior: float) -> float:
        weight = deals + prior_weight
        return (won + prior_weight * prior) / weight if weight > 0 else prior

    out = []
    for stage_name, bucket in zip(cells["stage"], cells["age_bucket"], strict=True):
        prior = float(priors.get(stage_name, overall))
        s = by_stage.loc[stage_name] if stage_name in by_stage.index else None
        stage_rate = prior if s is None else shrunk(float(s["won"]), float(s["deals"]), prior)
        c = by_cell.loc[(stage_name, bucket)] if (stage_name, bucket) in by_cell.index else None
        out.append(stage_rate if c is None else shrunk(float(c["won"]), float(c["deals"]), stage_rate))
    return pd.Series(out, index=cells.index, dtype="float64")


def forecast_range(
    bookings: float,
    p: pd.Series,
    amount: pd.Series,
    amount_sq: pd.Series,
    other: pd.Series,
    quantiles: tuple[float, float] = RANGE,
) -> tuple[float, float, float, float]:
    """(expected, std, low, high) of the period's final bookings.

    Each open deal is an independent Bernoulli(p) on its amount: mean sum(p x amount), variance
    sum(p(1 - p) x amount^2), summed per cell from the amounts and their squares. The amount from
    deals outside today's pipeline is the mean of the past periods' `other` amounts with their
    sample variance. The range is the normal approximation's quantiles, never below what is booked."""
    open_expected = float((p * amount).sum())
    variance = float((p * (1 - p) * amount_sq).sum())
    other_mean = float(other.mean()) if len(other) else 0.0
    if len(other) > 1:
        variance += float(other.var(ddof=1))
    std = math.sqrt(max(variance, 0.0))
    expected = bookings + open_expected + other_mean
    low_z, high_z = (NormalDist().inv_cdf(q) for q in quantiles)
    return expected, std, max(bookings, expected + low_z * std), expected + high_z * std


def statistical_forecast(
    engine: Engine,
    filters: Filters,
    scope: Scope,
    as_of: date,
    lookback: int = LOOKBACK_PERIODS,
    prior_weight: float = PRIOR_WEIGHT,
    *,
    stored_numbers: bool | None = None,
) -> StatisticalForecast:
    """Historical win rates by stage and age, learned at comparable points of past periods.

    Why this method: the question is "how much of what is open now will be won before the period
    ends, and what else will come in". Asking the same question of the past (the deals open at the
    same number of days before the end of each of the last `lookback` periods of the same kind, in
    the same filters and scope) answers it from this team's own conversion and its end-of-period
    timing, which a stage probability or a time series of bookings alone cannot see. Everything is
    aggregated in SQL by (stage, age bucket); no deal is looped over in Python. The learned cohorts of the
    standard periods at the warehouse's as_of are stored per owner and product (period_facts.py) and summed
    for the view; stored_numbers=False recomputes them from history.
    Raises history.NeedsHistory on warehouses without opportunity history."""
    history.require_history(engine)
    period = filters.period
    bookings = float(metrics.query(engine, ["bookings"], filters, scope, as_of=as_of).iloc[0, 0] or 0.0)
    horizon = (period.end - as_of).days
    if horizon <= 0:
        return StatisticalForecast(bookings, 0.0, 0.0, bookings, bookings, bookings, 0.0, (), _empty_cells(), 0)
    periods = learning_periods(engine, period, as_of, lookback)
    stored = stored_numbers is not False and lookback == LOOKBACK_PERIODS and period_facts_hold(engine, period, as_of)
    cohort = _cohorts(engine, filters, scope, periods, horizon, stored) if periods else _empty_cohort()
    other = pd.Series(dtype="float64")
    if periods:
        cohort_won = cohort.groupby("k")["won_amount"].sum().reindex(range(len(periods)), fill_value=0.0)
        other = (_won_after(engine, filters, scope, periods, horizon) - cohort_won).clip(lower=0.0)
    history_cells = cohort.groupby(["stage", "age_bucket"], as_index=False)[["deals", "won"]].sum()
    priors = read_frame(engine, sa.select(stage.c.name, stage.c.probability).where(sa.not_(stage.c.is_closed)))
    prior_map = {str(n): float(p) / 100.0 for n, p in zip(priors["name"], priors["probability"], strict=True)}
    cells = history_cells.rename(columns={"deals": "history_deals", "won": "history_won"}).merge(
        _open_now(engine, filters, scope, as_of), on=["stage", "age_bucket"], how="outer"
    )
    cells = cells.fillna({"history_deals": 0, "history_won": 0, "open_deals": 0, "open_amount": 0.0, "open_amount_sq": 0.0})
    cells["p"] = win_probabilities(history_cells, cells, prior_map, prior_weight)
    cells["expected"] = cells["p"] * cells["open_amount"]
    cells["age"] = cells["age_bucket"].map(age_label)
    cells = cells.sort_values(["stage", "age_bucket"]).reset_index(drop=True)
    expected, std, low, high = forecast_range(bookings, cells["p"], cells["open_amount"], cells["open_amount_sq"], other)
    return StatisticalForecast(
        bookings=bookings,
        open_expected=float(cells["expected"].sum()),
        other_expected=float(other.mean()) if len(other) else 0.0,
        expected=expected,
        low=low,
        high=high,
        std=std,
        periods=tuple(periods),
        cells=cells[list(CELL_COLUMNS)],
        remaining_days=horizon,
    )


def _empty_cohort() -> pd.DataFrame:
    """No comparable past period: typed like _cohorts' frame, so merging it with today's deals works."""
    integers = {name: pd.Series(dtype="int64") for name in ("k", "age_bucket", "deals", "won")}
    return pd.DataFrame({**integers, "stage": pd.Series(dtype="str"), "won_amount": pd.Series(dtype="float64")})


def _empty_cells() -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in CELL_COLUMNS})


def forecast_deals(engine: Engine, filters: Filters, scope: Scope, as_of: date, cells: pd.DataFrame) -> pd.DataFrame:
    """The open deals behind the statistical forecast, each with its age, its win probability (from
    `cells`, the forecast's table) and its expected amount p x amount; largest expectation first."""
    measure = MEASURES["open_amount"]
    bucket = _age_bucket(days_between(sa.literal(as_of, sa.Date), o.created_date))
    rates = [
        (sa.and_(o.stage == s, bucket == int(b)), float(p))
        for s, b, p in zip(cells["stage"], cells["age_bucket"], cells["p"], strict=True)
    ]
    p = sa.case(*rates, else_=0.0) if rates else sa.literal(0.0, sa.Double)
    expected = (sa.cast(o.amount, sa.Double) * p).label("expected_amount")
    stmt = (
        with_deal_labels(
            sa.select(
                *deal_columns(),
                days_between(sa.literal(as_of, sa.Date), o.created_date).label("age_days"),
                p.label("win_probability"),
                expected,
            )
        )
        .where(IS_OPEN, *metrics.fact_filters(measure, filters, people_in_view(filters, scope)))
        .order_by(expected.desc(), o.id)
    )
    return read_frame(engine, stmt)


# ---------------------------------------------------------------- forecast accuracy


def weeks_in(period: Period) -> int:
    """How many week-N snapshots a period has (week 0 is its first day)."""
    return max(1, -(-period.days // 7))


def current_week(period: Period, as_of: date) -> int:
    """The week of the period today is in: past periods at this week are the fair comparison for the
    call made now."""
    return min(max(0, (as_of - period.start).days // 7), weeks_in(period) - 1)


def accuracy(
    engine: Engine, filters: Filters, scope: Scope, week: int, as_of: date, count: int = LOOKBACK_PERIODS
) -> pd.DataFrame:
    """Forecast accuracy (history.forecast_accuracy) over the last `count` completed periods of the
    filtered period's kind, oldest first; periods with neither forecast nor bookings (before the
    data starts) are left out. Raises history.NeedsHistory without history."""
    periods = past_periods(filters.period, as_of, count)[::-1]
    frame = history.forecast_accuracy(engine, filters, periods, week, scope, as_of)
    return frame[(frame["forecast"] != 0) | (frame["actual"] != 0)].reset_index(drop=True)
