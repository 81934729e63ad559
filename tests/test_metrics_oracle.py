"""Every KPI of the catalogue, on the demo warehouse, against an independent plain-pandas oracle.

The oracle below is written straight from SPEC.md (and the choices the KPI help texts document where
SPEC is silent), over the raw tables as DataFrames; it shares no formula with spm_core:

- a closed deal counts in the period of its close date, an open deal in the period of its expected
  close date (both: `close_date`), created pipeline in the period of its created date, a quota in the
  period containing the first day of its month, an activity in the period of its date;
- filters and the viewer's scope restrict the people first (teams, segments, regions, reps, a manager's
  whole subtree); the product filter restricts deals only (quotas and activities have no product);
- weighted pipeline uses the probability of the STAGE table, not the deal's own probability field;
- a ratio whose denominator is 0 has no value (None), never infinity.

A group appears in a grouped result when any row of a fact the KPI reads falls in it (e.g. a rep with a
quota but no deal still has a row for attainment, with bookings 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest

from spm_core.filters import Filters, Period, Scope
from spm_core.kpis import CATALOGUE
from spm_core.metrics import query

AS_OF = date(2026, 11, 23)
EVERYONE = Scope.everyone()
Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))  # over by AS_OF
Q4 = Period(date(2026, 10, 1), date(2026, 12, 31))  # in progress on AS_OF: 54 of 92 days elapsed
ALL_KPIS = sorted(CATALOGUE)
ENTITY_DIMS = ("rep", "team", "manager", "segment", "region", "product")
DEAL_DIMS = ("stage", "forecast_category")  # columns of the deal itself: quotas and activities have none
TIME_DIMS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}  # a week starts on Monday


# --------------------------------------------------------------------------------------------- oracle data


@dataclass(frozen=True)
class Warehouse:
    """The raw tables, each fact row carrying its person's attributes (team, segment, region, manager)."""

    people: pd.DataFrame
    deals: pd.DataFrame  # + stage_probability from the stage table
    quotas: pd.DataFrame
    activities: pd.DataFrame
    labels: dict[str, dict[int, str]]


def _with_person(frame: pd.DataFrame, person_col: str, people: pd.DataFrame) -> pd.DataFrame:
    attrs = people[["id", "team_id", "segment_id", "region_id", "manager_id"]].rename(
        columns={"id": person_col, "team_id": "p_team", "segment_id": "p_segment", "region_id": "p_region",
                 "manager_id": "p_manager"})
    merged = frame.merge(attrs, on=person_col, how="left", validate="many_to_one")
    assert len(merged) == len(frame)
    return merged


def load_warehouse(frames: dict[str, pd.DataFrame]) -> Warehouse:
    people = frames["person"]
    stages = frames["stage"][["name", "probability"]].rename(columns={"name": "stage", "probability": "stage_probability"})
    deals = frames["opportunity"].merge(stages, on="stage", how="left", validate="many_to_one")
    names = {
        "rep": people, "manager": people, "team": frames["team"], "segment": frames["segment"],
        "region": frames["region"], "product": frames["product"],
    }
    return Warehouse(
        people=people,
        deals=_with_person(deals, "owner_id", people),
        quotas=_with_person(frames["quota"], "person_id", people),
        activities=_with_person(frames["activity"], "person_id", people),
        labels={dim: dict(zip(f["id"].astype(int), f["name"], strict=True)) for dim, f in names.items()},
    )


def subtree(people: pd.DataFrame, roots) -> set[int]:
    """The roots and everyone below them at any depth (breadth-first over manager_id)."""
    children: dict[int, list[int]] = {}
    for pid, manager in zip(people["id"], people["manager_id"], strict=True):
        if not pd.isna(manager):
            children.setdefault(int(manager), []).append(int(pid))
    seen, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo += children.get(pid, [])
    return seen


def people_in_view(wh: Warehouse, filters: Filters, scope: Scope) -> set[int] | None:
    """Ids of the people whose facts count, or None when nothing limits them."""
    p = wh.people
    ids = set(p["id"].astype(int))
    limited = False
    if scope.person_ids is not None:
        limited = True
        ids &= subtree(p, scope.person_ids) if scope.include_subtree else set(scope.person_ids)
    for column, wanted in (("team_id", filters.teams), ("segment_id", filters.segments),
                           ("region_id", filters.regions), ("id", filters.reps)):
        if wanted:
            limited = True
            ids &= set(p.loc[p[column].isin(list(wanted)), "id"].astype(int))
    if filters.managers:
        limited = True
        ids &= subtree(p, filters.managers)
    return ids if limited else None


@dataclass(frozen=True)
class Slices:
    """The fact rows of one period (and one group), each by its own time rule."""

    closing: pd.DataFrame  # deals whose close date (actual or expected) is in the period
    created: pd.DataFrame  # deals created in the period
    quota: pd.DataFrame  # quota months starting in the period
    activity: pd.DataFrame  # activities dated in the period


SLICE_DATE = {"closing": "close_date", "created": "created_date", "quota": "month", "activity": "activity_date"}
SLICE_PERSON = {"closing": "owner_id", "created": "owner_id", "quota": "person_id", "activity": "person_id"}


def in_range(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    return frame[frame[column].between(pd.Timestamp(period.start), pd.Timestamp(period.end))]


def slices(wh: Warehouse, filters: Filters, scope: Scope) -> Slices:
    view = people_in_view(wh, filters, scope)
    deals, quotas, activities = wh.deals, wh.quotas, wh.activities
    if view is not None:
        deals = deals[deals["owner_id"].isin(view)]
        quotas = quotas[quotas["person_id"].isin(view)]
        activities = activities[activities["person_id"].isin(view)]
    if filters.products:  # deals only: quotas and activities have no product
        deals = deals[deals["product_id"].isin(list(filters.products))]
    period = filters.period
    return Slices(
        closing=in_range(deals, "close_date", period),
        created=in_range(deals, "created_date", period),
        quota=in_range(quotas, "month", period),
        activity=in_range(activities, "activity_date", period),
    )


def elapsed_fraction(period: Period, as_of: date) -> float:
    """Days gone by, today included, over the period's days; 0 before it starts, 1 once it is over."""
    if as_of < period.start:
        return 0.0
    if as_of >= period.end:
        return 1.0
    return ((as_of - period.start).days + 1) / ((period.end - period.start).days + 1)


# --------------------------------------------------------------------------------------------- oracle KPIs


def div(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def won(s: Slices) -> pd.DataFrame:
    return s.closing[s.closing["is_closed"] & s.closing["is_won"]]


def lost(s: Slices) -> pd.DataFrame:
    return s.closing[s.closing["is_closed"] & ~s.closing["is_won"]]


def open_deals(s: Slices) -> pd.DataFrame:
    return s.closing[~s.closing["is_closed"]]


def bookings(s: Slices) -> float:
    return float(won(s)["amount"].sum())


def quota(s: Slices) -> float:
    return float(s.quota["amount"].sum())


def weighted(s: Slices) -> float:
    o = open_deals(s)
    return float((o["amount"] * o["stage_probability"] / 100).sum())


def remaining(s: Slices) -> float:
    return max(quota(s) - bookings(s), 0.0)


def win_rate(s: Slices) -> float | None:
    return div(len(won(s)), len(won(s)) + len(lost(s)))


def avg_deal(s: Slices) -> float | None:
    return div(bookings(s), len(won(s)))


def cycle_days(s: Slices) -> pd.Series:
    w = won(s)
    w = w[w["created_date"].notna()]
    return (w["close_date"] - w["created_date"]).dt.days.astype(float)


def cycle_mean(s: Slices) -> float | None:
    days = cycle_days(s)
    return float(days.mean()) if len(days) else None


def cycle_median(s: Slices) -> float | None:
    days = cycle_days(s)
    return float(days.median()) if len(days) else None


def velocity(s: Slices) -> float | None:
    rate, size, cycle = win_rate(s), avg_deal(s), cycle_mean(s)
    if rate is None or size is None:
        return None
    return div(len(open_deals(s)) * rate * size, cycle)


def pct_reps_at_quota(s: Slices) -> float | None:
    """Among reps with a quota > 0 in the period, the share whose bookings reach it."""
    quotas = s.quota.groupby("person_id")["amount"].sum()
    quotas = quotas[quotas > 0]
    if quotas.empty:
        return None
    booked = won(s).groupby("owner_id")["amount"].sum().reindex(quotas.index, fill_value=0.0)
    return float((booked >= quotas).mean())


def open_in(s: Slices, category: str) -> float:
    o = open_deals(s)
    return float(o.loc[o["forecast_category"] == category, "amount"].sum())


def activities(s: Slices, kind: str | None = None) -> int:
    a = s.activity
    return len(a) if kind is None else int((a["activity_type"] == kind).sum())


@dataclass(frozen=True)
class OracleKPI:
    reads: frozenset[str]  # the slices it reads: which facts (and time rules) it depends on
    value: Callable[[Slices, float], float | None]  # (slices, elapsed fraction) -> value


def _k(reads: str, value: Callable[[Slices, float], float | None]) -> OracleKPI:
    return OracleKPI(frozenset(reads.split()), value)


ORACLE: dict[str, OracleKPI] = {
    "bookings": _k("closing", lambda s, e: bookings(s)),
    "quota": _k("quota", lambda s, e: quota(s)),
    "ramped_quota": _k("quota", lambda s, e: float(s.quota.loc[s.quota["is_ramped"], "amount"].sum())),
    "attainment": _k("closing quota", lambda s, e: div(bookings(s), quota(s))),
    "pct_reps_at_quota": _k("closing quota", lambda s, e: pct_reps_at_quota(s)),
    "pacing": _k("closing", lambda s, e: div(bookings(s), e)),
    "pacing_attainment": _k("closing quota", lambda s, e: div(div(bookings(s), e), quota(s))),
    "projected_attainment": _k("closing quota", lambda s, e: div(bookings(s) + weighted(s), quota(s))),
    "open_pipeline": _k("closing", lambda s, e: float(open_deals(s)["amount"].sum())),
    "open_deals": _k("closing", lambda s, e: len(open_deals(s))),
    "weighted_pipeline": _k("closing", lambda s, e: weighted(s)),
    "quota_remaining": _k("closing quota", lambda s, e: remaining(s)),
    "coverage": _k("closing quota", lambda s, e: div(float(open_deals(s)["amount"].sum()), remaining(s))),
    "win_rate": _k("closing", lambda s, e: win_rate(s)),
    "win_rate_value": _k("closing", lambda s, e: div(bookings(s), bookings(s) + float(lost(s)["amount"].sum()))),
    "avg_deal_size": _k("closing", lambda s, e: avg_deal(s)),
    "sales_cycle_days": _k("closing", lambda s, e: cycle_mean(s)),
    "sales_cycle_median_days": _k("closing", lambda s, e: cycle_median(s)),
    "sales_velocity": _k("closing", lambda s, e: velocity(s)),
    "deals_won": _k("closing", lambda s, e: len(won(s))),
    "deals_lost": _k("closing", lambda s, e: len(lost(s))),
    "pipeline_created": _k("created", lambda s, e: float(s.created["amount"].sum())),
    "deals_created": _k("created", lambda s, e: len(s.created)),
    "commit_pipeline": _k("closing", lambda s, e: open_in(s, "Commit")),
    "best_case_pipeline": _k("closing", lambda s, e: open_in(s, "Best Case")),
    "forecast_call": _k("closing", lambda s, e: bookings(s) + open_in(s, "Commit")),
    "forecast_upside": _k("closing", lambda s, e: bookings(s) + open_in(s, "Commit") + open_in(s, "Best Case")),
    "activities": _k("activity", lambda s, e: activities(s)),
    "calls": _k("activity", lambda s, e: activities(s, "call")),
    "emails": _k("activity", lambda s, e: activities(s, "email")),
    "meetings": _k("activity", lambda s, e: activities(s, "meeting")),
    "demos": _k("activity", lambda s, e: activities(s, "demo")),
}
DEAL_ONLY = sorted(n for n, k in ORACLE.items() if k.reads <= {"closing", "created"})  # groupable by product, stage
NOT_DEAL_ONLY = sorted(set(ORACLE) - set(DEAL_ONLY))


def group_key(frame: pd.DataFrame, slice_name: str, dim: str) -> pd.Series | None:
    """The group of each row of a slice, or None when the slice cannot be grouped by dim."""
    if dim == "rep":
        return frame[SLICE_PERSON[slice_name]].astype("Int64")
    if dim in ("team", "segment", "region", "manager"):
        return frame[f"p_{dim}"].astype("Int64")
    if dim == "product":
        return frame["product_id"].astype("Int64") if "product_id" in frame else None
    if dim in DEAL_DIMS:
        return frame[dim].astype(object) if slice_name in ("closing", "created") else None
    if dim in TIME_DIMS:
        starts = frame[SLICE_DATE[slice_name]].dt.to_period(TIME_DIMS[dim]).dt.start_time
        return pd.Series([t.date() for t in starts], index=frame.index, dtype=object)
    raise AssertionError(f"no oracle for dimension {dim}")


def oracle_value(wh: Warehouse, name: str, filters: Filters, scope: Scope, as_of: date) -> float | None:
    return ORACLE[name].value(slices(wh, filters, scope), elapsed_fraction(filters.period, as_of))


def oracle_groups(wh: Warehouse, name: str, filters: Filters, scope: Scope, by: tuple[str, ...],
                  as_of: date) -> dict[tuple, float | None]:
    """{group key: value}, the key a tuple of ids (entity dims), dates (time dims) or names (stage, category)."""
    kpi, s = ORACLE[name], slices(wh, filters, scope)
    keyed: dict[str, pd.DataFrame] = {}
    for slice_name in kpi.reads:
        frame = getattr(s, slice_name)
        keys = [group_key(frame, slice_name, dim) for dim in by]
        if any(k is None for k in keys):
            raise ValueError(f"{slice_name} cannot be grouped by {by}")
        keyed[slice_name] = frame.assign(_key=list(zip(*keys, strict=True)))
    split = {n: dict(iter(f.groupby("_key", sort=False))) for n, f in keyed.items()}
    groups = set().union(*split.values())
    elapsed = elapsed_fraction(filters.period, as_of)
    result = {}
    for group in groups:
        parts = {n: getattr(s, n).iloc[0:0] for n in SLICE_DATE}  # slices the KPI does not read stay empty
        parts.update({n: split[n].get(group, keyed[n].iloc[0:0]) for n in keyed})
        result[group] = kpi.value(Slices(**parts), elapsed)
    return result


# --------------------------------------------------------------------------------------------- comparison


def missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def assert_same(actual, expected, where: str) -> None:
    if missing(expected):
        assert missing(actual), f"{where}: expected no value (0 denominator), got {actual!r}"
    else:
        assert not missing(actual), f"{where}: expected {expected!r}, got no value"
        assert float(actual) == pytest.approx(float(expected), rel=1e-9), f"{where}: expected {expected!r}, got {actual!r}"


def actual_groups(frame: pd.DataFrame, name: str, by: tuple[str, ...], wh: Warehouse) -> dict[tuple, object]:
    """{group key: value} from a query result; checks each entity group's display label on the way."""
    result = {}
    for row in frame.to_dict("records"):
        key = []
        for dim in by:
            if dim in ENTITY_DIMS:
                key.append(int(row[f"{dim}_id"]))
                assert row[dim] == wh.labels[dim][key[-1]], f"label of {dim} {key[-1]}"
            elif dim in DEAL_DIMS:
                key.append(row[dim])
            else:
                key.append(pd.Timestamp(row[dim]).date())
        assert tuple(key) not in result, f"group {key} appears twice"
        result[tuple(key)] = row[name]
    return result


def check(engine, wh: Warehouse, name: str, filters: Filters, scope: Scope = EVERYONE, by: tuple[str, ...] = (),
          as_of: date = AS_OF) -> None:
    frame = query(engine, [name], filters, scope, by=list(by), as_of=as_of)
    if not by:
        assert len(frame) == 1, frame
        assert_same(frame[name].iloc[0], oracle_value(wh, name, filters, scope, as_of), name)
        return
    expected = oracle_groups(wh, name, filters, scope, by, as_of)
    actual = actual_groups(frame, name, by, wh)
    assert sorted(actual) == sorted(expected), f"{name} by {by}: groups differ"
    for group, value in expected.items():
        assert_same(actual[group], value, f"{name} for {dict(zip(by, group, strict=True))}")


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def wh(demo_frames) -> Warehouse:
    return load_warehouse(demo_frames)


@dataclass(frozen=True)
class Picks:
    """People and slices of the demo warehouse that make the filter and scope cases non-trivial."""

    team: int
    segment: int
    products: frozenset[int]
    deep_manager: int  # a manager with a subtree three levels deep (manager -> manager -> manager -> reps)
    rep: int  # the rep with the most deals closing in Q3


@pytest.fixture(scope="module")
def picks(wh: Warehouse) -> Picks:
    people = wh.people
    managers = people.loc[people["role"] == "manager", "id"].astype(int)

    def depth(pid: int) -> int:
        kids = people.loc[people["manager_id"] == pid, "id"].astype(int).tolist()
        return 0 if not kids else 1 + max(depth(k) for k in kids)

    deep = min(m for m in managers if depth(m) == 3)
    q3 = in_range(wh.deals, "close_date", Q3)
    return Picks(
        team=int(wh.deals["p_team"].dropna().min()),
        segment=int(wh.deals["p_segment"].dropna().max()),
        products=frozenset({1, 3}),
        deep_manager=deep,
        rep=int(q3["owner_id"].value_counts().idxmax()),
    )


# --------------------------------------------------------------------------------------------- tests


def test_the_oracle_covers_every_kpi_of_the_catalogue():
    assert set(ORACLE) == set(CATALOGUE)


def test_the_demo_cases_are_not_trivial(wh, picks):
    """Guards the cases below: they must exercise wins, losses, open deals, quotas and a deep tree."""
    s = slices(wh, Filters(Q3), Scope.everyone())
    assert len(won(s)) > 20 and len(lost(s)) > 20
    now = slices(wh, Filters(Q4), Scope.everyone())
    assert len(open_deals(now)) > 20 and len(won(now)) > 20 and set(open_deals(now)["forecast_category"]) >= {"Commit", "Best Case"}
    assert quota(s) > 0 and 0 < pct_reps_at_quota(s) < 1
    assert len(subtree(wh.people, [picks.deep_manager])) > 4
    assert set(wh.people["team_id"].dropna()) - {picks.team}, "need another team for the team filter to exclude"
    assert 0 < len(s.closing[s.closing["product_id"].isin(list(picks.products))]) < len(s.closing)


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_over_a_closed_quarter_matches_the_oracle(demo_engine, wh, name):
    check(demo_engine, wh, name, Filters(Q3))


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_over_the_quarter_in_progress_matches_the_oracle(demo_engine, wh, name):
    check(demo_engine, wh, name, Filters(Q4))


def test_pacing_in_progress_divides_by_the_days_elapsed_including_today(demo_engine, wh):
    # 2026-10-01 .. 2026-11-23 is 31 + 23 = 54 days of the quarter's 92.
    frame = query(demo_engine, ["bookings", "pacing"], Filters(Q4), Scope.everyone(), as_of=AS_OF)
    assert frame["bookings"].iloc[0] > 0
    assert frame["pacing"].iloc[0] == pytest.approx(frame["bookings"].iloc[0] * 92 / 54, rel=1e-12)


def test_pacing_of_a_period_over_equals_bookings(demo_engine):
    frame = query(demo_engine, ["bookings", "pacing"], Filters(Q3), Scope.everyone(), as_of=AS_OF)
    assert frame["pacing"].iloc[0] == pytest.approx(frame["bookings"].iloc[0], rel=1e-12)


@pytest.mark.parametrize("dim", ["team", "rep", "region", "month", "manager", "segment"])
@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_grouped_over_a_closed_quarter_matches_the_oracle(demo_engine, wh, name, dim):
    check(demo_engine, wh, name, Filters(Q3), by=(dim,))


@pytest.mark.parametrize("dim", ["team", "rep", "week", "month"])
@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_grouped_over_the_quarter_in_progress_matches_the_oracle(demo_engine, wh, name, dim):
    check(demo_engine, wh, name, Filters(Q4), by=(dim,))


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_grouped_by_quarter_over_a_year_matches_the_oracle(demo_engine, wh, name):
    check(demo_engine, wh, name, Filters(Period.year(date(2025, 6, 1))), by=("quarter",))


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_grouped_by_team_and_month_matches_the_oracle(demo_engine, wh, name):
    check(demo_engine, wh, name, Filters(Q4), by=("team", "month"))


@pytest.mark.parametrize("dim", ["product", "stage", "forecast_category"])
@pytest.mark.parametrize("name", DEAL_ONLY)
def test_deal_kpi_grouped_by_a_deal_attribute_matches_the_oracle(demo_engine, wh, name, dim):
    check(demo_engine, wh, name, Filters(Q4), by=(dim,))


@pytest.mark.parametrize("dim", ["product", "stage", "forecast_category"])
@pytest.mark.parametrize("name", NOT_DEAL_ONLY)
def test_quota_or_activity_kpi_refuses_to_group_by_a_deal_attribute(demo_engine, name, dim):
    with pytest.raises(ValueError, match=dim):
        query(demo_engine, [name], Filters(Q3), Scope.everyone(), by=[dim], as_of=AS_OF)


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_grouped_by_day_over_a_month_matches_the_oracle(demo_engine, wh, name):
    check(demo_engine, wh, name, Filters(Period.month(date(2026, 9, 1))), by=("day",))


FILTER_CASES: dict[str, Callable[[Picks], Filters]] = {  # mostly the quarter in progress: it has open pipeline too
    "team_set": lambda p: Filters(Q4, teams=frozenset({p.team})),
    "segment_set": lambda p: Filters(Q4, segments=frozenset({p.segment})),
    "product_set": lambda p: Filters(Q4, products=p.products),
    "product_set_closed_quarter": lambda p: Filters(Q3, products=p.products),
    "region_set": lambda p: Filters(Q4, regions=frozenset({1})),
    "rep_set": lambda p: Filters(Q4, reps=frozenset({p.rep})),
    "manager_subtree": lambda p: Filters(Q4, managers=frozenset({p.deep_manager})),
    "segment_and_products": lambda p: Filters(Q4, segments=frozenset({p.segment}), products=p.products),
}


@pytest.mark.parametrize("case", FILTER_CASES)
@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_with_filters_matches_the_oracle(demo_engine, wh, picks, name, case):
    check(demo_engine, wh, name, FILTER_CASES[case](picks))


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_with_a_product_filter_grouped_by_rep_matches_the_oracle(demo_engine, wh, picks, name):
    check(demo_engine, wh, name, Filters(Q4, products=picks.products), by=("rep",))


def test_product_filter_leaves_quota_and_activities_whole(demo_engine, picks):
    names = ["quota", "activities", "bookings"]
    everything = query(demo_engine, names, Filters(Q3), Scope.everyone(), as_of=AS_OF)
    some = query(demo_engine, names, Filters(Q3, products=picks.products), Scope.everyone(), as_of=AS_OF)
    assert some["quota"].iloc[0] == everything["quota"].iloc[0] > 0
    assert some["activities"].iloc[0] == everything["activities"].iloc[0] > 0
    assert some["bookings"].iloc[0] < everything["bookings"].iloc[0]


SCOPE_CASES: dict[str, Callable[[Picks], Scope]] = {
    "manager_subtree": lambda p: Scope.subtree(p.deep_manager),
    "one_rep": lambda p: Scope.only(p.rep),
    "a_manager_alone": lambda p: Scope.only(p.deep_manager),  # a manager's own facts only: none in the demo
    "nobody": lambda p: Scope.nobody(),
}


@pytest.mark.parametrize("case", SCOPE_CASES)
@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_within_a_scope_matches_the_oracle(demo_engine, wh, picks, name, case):
    check(demo_engine, wh, name, Filters(Q4), scope=SCOPE_CASES[case](picks))


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_within_a_subtree_scope_grouped_by_rep_matches_the_oracle(demo_engine, wh, picks, name):
    check(demo_engine, wh, name, Filters(Q4), scope=Scope.subtree(picks.deep_manager), by=("rep",))


@pytest.mark.parametrize("name", ALL_KPIS)
def test_kpi_within_a_subtree_scope_and_a_team_filter_matches_the_oracle(demo_engine, wh, picks, name):
    team = int(wh.people.loc[wh.people["id"].isin(subtree(wh.people, [picks.deep_manager])), "team_id"].dropna().min())
    check(demo_engine, wh, name, Filters(Q4, teams=frozenset({team}), products=picks.products),
          scope=Scope.subtree(picks.deep_manager), by=("month",))


def test_subtree_scope_sees_exactly_the_managers_reps(demo_engine, wh, picks):
    below = subtree(wh.people, [picks.deep_manager])
    frame = query(demo_engine, ["deals_created"], Filters(Period.year(date(2026, 1, 1))),
                  Scope.subtree(picks.deep_manager), by=["rep"], as_of=AS_OF)
    owners = set(wh.deals.loc[wh.deals["created_date"].dt.year == 2026, "owner_id"].astype(int))
    assert set(frame["rep_id"].astype(int)) == owners & below
    assert owners - below, "the scope must leave someone out"


@pytest.mark.parametrize("name", ALL_KPIS)
def test_nobody_scope_grouped_gives_no_rows(demo_engine, name):
    frame = query(demo_engine, [name], Filters(Q3), Scope.nobody(), by=["team"], as_of=AS_OF)
    assert frame.empty


def test_nobody_scope_gives_zero_sums_and_no_ratios(demo_engine):
    frame = query(demo_engine, ALL_KPIS, Filters(Q3), Scope.nobody(), as_of=AS_OF)
    ratios = {"attainment", "pct_reps_at_quota", "pacing_attainment", "projected_attainment", "coverage", "win_rate",
              "win_rate_value", "avg_deal_size", "sales_cycle_days", "sales_cycle_median_days", "sales_velocity"}
    row = frame.iloc[0]
    assert {n for n in ALL_KPIS if missing(row[n])} == ratios
    assert all(row[n] == 0 for n in ALL_KPIS if n not in ratios)


@pytest.mark.parametrize("by", [(), ("team",), ("month",)], ids=["ungrouped", "team", "month"])
def test_all_kpis_in_one_query_equal_each_kpi_asked_alone(demo_engine, by):
    together = query(demo_engine, ALL_KPIS, Filters(Q4), Scope.everyone(), by=list(by), as_of=AS_OF)
    keys = [c for c in together.columns if c not in CATALOGUE]
    for name in ALL_KPIS:
        alone = query(demo_engine, [name], Filters(Q4), Scope.everyone(), by=list(by), as_of=AS_OF)
        if keys:
            merged = together[[*keys, name]].merge(alone, on=keys, how="inner", suffixes=("", "_alone"))
        else:
            merged = pd.DataFrame({name: together[name], f"{name}_alone": alone[name]})
        assert len(merged) == len(alone), name
        for a, b in zip(merged[name], merged[f"{name}_alone"], strict=True):
            assert_same(a, b, name)


def test_scope_and_filters_do_not_leak_between_queries(demo_engine, wh, picks):
    """A scoped query in between leaves the next unscoped one whole (no cached predicate)."""
    before = query(demo_engine, ["bookings"], Filters(Q3), Scope.everyone(), as_of=AS_OF)["bookings"].iloc[0]
    query(demo_engine, ["bookings"], Filters(Q3, teams=frozenset({picks.team})), Scope.only(picks.rep), as_of=AS_OF)
    after = query(demo_engine, ["bookings"], Filters(Q3), Scope.everyone(), as_of=AS_OF)["bookings"].iloc[0]
    assert before == after == pytest.approx(oracle_value(wh, "bookings", Filters(Q3), Scope.everyone(), AS_OF))


def test_oracle_sees_the_quarter_elapsed_fraction_the_spec_asks_for():
    assert elapsed_fraction(Q4, AS_OF) == 54 / 92
    assert elapsed_fraction(Q3, AS_OF) == 1.0
