"""The page engines spm_core/pipeline.py and spm_core/attainment.py against independent computations.

Two kinds of expected numbers, neither sharing a formula with spm_core:
- a plain-pandas oracle over the demo warehouse's raw tables (read with a bare `select *`), written from
  SPEC.md: a deal counts in the period of its close date (created pipeline: its created date), a quota
  in the period holding the first day of its month; filters and scope pick the people first (a
  manager's whole subtree for subtree scopes), the product filter picks deals only; weighted pipeline
  uses the stage table's probability; a ratio with a zero denominator has no value;
- tiny hand-written warehouses, every expected number worked out by hand in the comments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from spm_core import attainment, pipeline
from spm_core.deals import deals
from spm_core.filters import Filters, Period, Scope
from spm_core.history import pipeline_change
from spm_core.metrics import query
from spm_core.stages import DEFAULT_STAGES

AS_OF = date(2026, 11, 23)  # the demo warehouse's today (a Monday)
Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))  # over by AS_OF
Q4 = Period(date(2026, 10, 1), date(2026, 12, 31))  # in progress: 54 of 92 days gone by on AS_OF
CUSTOM = Period(date(2026, 10, 15), date(2026, 12, 10))  # starts and ends mid-month
EMPTY = Period(date(2031, 1, 1), date(2031, 3, 31))  # no deal, no quota
ELAPSED = {Q3: 1.0, Q4: 54 / 92, CUSTOM: 40 / 57, EMPTY: 0.0}  # on AS_OF, counted by hand
FUNNEL_KPIS = ["open_pipeline", "weighted_pipeline", "open_deals"]
ATTAINMENT_VALUES = ("quota", "bookings", "attainment", "pacing", "pacing_attainment", "projected_attainment",
                     "weighted_pipeline", "quota_remaining", "ramped_quota")


# --------------------------------------------------------------------------------------------- comparison


def missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def same(actual, expected, where: str = "") -> None:
    if missing(expected):
        assert missing(actual), f"{where}: expected no value, got {actual!r}"
    else:
        assert not missing(actual), f"{where}: expected {expected!r}, got no value"
        assert float(actual) == pytest.approx(float(expected), rel=1e-9, abs=1e-9), f"{where}: {actual!r} != {expected!r}"


def div(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def key(value) -> int | None:
    return None if missing(value) else int(value)


# --------------------------------------------------------------------------------------------- demo oracle


@dataclass(frozen=True)
class Raw:
    people: pd.DataFrame
    deals: pd.DataFrame  # + stage_probability and the owner's team/segment/region/manager (p_*)
    quotas: pd.DataFrame  # + the person's team/segment/region/manager (p_*)
    stages: pd.DataFrame
    names: dict[str, dict[int, str]]


def _with_person(frame: pd.DataFrame, person_col: str, people: pd.DataFrame) -> pd.DataFrame:
    attrs = people[["id", "team_id", "segment_id", "region_id", "manager_id"]].rename(
        columns={"id": person_col, "team_id": "p_team", "segment_id": "p_segment", "region_id": "p_region",
                 "manager_id": "p_manager"})
    return frame.merge(attrs, on=person_col, how="left", validate="many_to_one")


@pytest.fixture(scope="module")
def raw(demo_frames) -> Raw:
    people, stages = demo_frames["person"], demo_frames["stage"]
    probability = stages[["name", "probability"]].rename(columns={"name": "stage", "probability": "stage_probability"})
    tables = {"rep": people, "manager": people, "team": demo_frames["team"], "segment": demo_frames["segment"],
              "region": demo_frames["region"], "product": demo_frames["product"]}
    return Raw(
        people=people,
        deals=_with_person(demo_frames["opportunity"].merge(probability, on="stage", how="left"), "owner_id", people),
        quotas=_with_person(demo_frames["quota"], "person_id", people),
        stages=stages,
        names={dim: dict(zip(t["id"].astype(int), t["name"], strict=True)) for dim, t in tables.items()},
    )


def subtree(people: pd.DataFrame, roots) -> set[int]:
    """The roots and everyone below them at any depth."""
    seen, todo = set(), [int(r) for r in roots]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo += people.loc[people["manager_id"] == pid, "id"].astype(int).tolist()
    return seen


def in_view(raw: Raw, filters: Filters, scope: Scope) -> set[int]:
    p = raw.people
    ids = set(p["id"].astype(int))
    if scope.person_ids is not None:
        ids &= subtree(p, scope.person_ids) if scope.include_subtree else set(scope.person_ids)
    for column, wanted in (("team_id", filters.teams), ("segment_id", filters.segments), ("region_id", filters.regions),
                           ("id", filters.reps)):
        if wanted:
            ids &= set(p.loc[p[column].isin(list(wanted)), "id"].astype(int))
    if filters.managers:
        ids &= subtree(p, filters.managers)
    return ids


def between(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    return frame[frame[column].between(pd.Timestamp(period.start), pd.Timestamp(period.end))]


def deals_of(raw: Raw, filters: Filters, scope: Scope, date_col: str = "close_date") -> pd.DataFrame:
    d = raw.deals[raw.deals["owner_id"].isin(in_view(raw, filters, scope))]
    if filters.products:
        d = d[d["product_id"].isin(list(filters.products))]
    return between(d, date_col, filters.period)


def quotas_of(raw: Raw, filters: Filters, scope: Scope) -> pd.DataFrame:
    return between(raw.quotas[raw.quotas["person_id"].isin(in_view(raw, filters, scope))], "month", filters.period)


def won(d: pd.DataFrame) -> pd.DataFrame:
    return d[d["is_closed"] & d["is_won"]]


def still_open(d: pd.DataFrame) -> pd.DataFrame:
    return d[~d["is_closed"]]


LEVEL_COLUMN = {"rep": ("owner_id", "person_id"), "team": ("p_team",) * 2, "manager": ("p_manager",) * 2,
                "segment": ("p_segment",) * 2, "region": ("p_region",) * 2}


def oracle_attainment(raw: Raw, filters: Filters, scope: Scope, level: str, elapsed: float) -> dict[int | None, dict]:
    """{group id: LEVEL_KPIS values} for every group holding a deal closing in the period or a quota month."""
    d, q = deals_of(raw, filters, scope), quotas_of(raw, filters, scope)
    deal_col, quota_col = LEVEL_COLUMN[level]
    d_groups = {key(g): f for g, f in d.groupby(d[deal_col].astype("Int64"), dropna=False)}
    q_groups = {key(g): f for g, f in q.groupby(q[quota_col].astype("Int64"), dropna=False)}
    result = {}
    for group in set(d_groups) | set(q_groups):
        gd, gq = d_groups.get(group, d.iloc[0:0]), q_groups.get(group, q.iloc[0:0])
        booked, target = float(won(gd)["amount"].sum()), float(gq["amount"].sum())
        o = still_open(gd)
        weighted = float((o["amount"] * o["stage_probability"] / 100).sum())
        pacing = div(booked, elapsed)
        result[group] = {
            "quota": target,
            "bookings": booked,
            "attainment": div(booked, target),
            "pacing": pacing,
            "pacing_attainment": None if pacing is None else div(pacing, target),
            "projected_attainment": div(booked + weighted, target),
            "weighted_pipeline": weighted,
            "quota_remaining": max(target - booked, 0.0),
            "ramped_quota": float(gq.loc[gq["is_ramped"], "amount"].sum()),
        }
    return result


def expected_rank(values: dict[int | None, dict], names: dict[int | None, str]) -> list[int | None]:
    """Highest attainment first; no attainment last, by bookings; ties by name."""
    def order(g):
        a = values[g]["attainment"]
        return (a is None, -(a or 0.0), -values[g]["bookings"], names[g])
    return sorted(values, key=order)


# --------------------------------------------------------------------------------------------- demo picks


MANAGER_WITH_DEEP_TREE = 5  # Elena Evans: manager -> manager (Grace, team 1) -> six reps


def test_the_demo_cases_are_not_trivial(raw):
    """Guards the cases below: open pipeline, ramped quotas, a subtree leaving people out."""
    assert len(subtree(raw.people, [MANAGER_WITH_DEEP_TREE])) == 8  # Elena, Grace and Grace's six reps
    q4 = deals_of(raw, Filters(Q4), Scope.everyone())
    assert len(still_open(q4)) > 50 and len(won(q4)) > 20
    assert raw.quotas["is_ramped"].any()  # zero quotas: see the tiny warehouse below
    assert raw.deals["owner_id"].nunique() > len(subtree(raw.people, [MANAGER_WITH_DEEP_TREE]))


# ============================================================================================= pipeline.py


def test_open_stages_are_the_stage_tables_open_stages_by_position(demo_engine, raw):
    got = pipeline.open_stages(demo_engine)
    s = raw.stages[~raw.stages["is_closed"]].sort_values("position")
    assert got["stage"].tolist() == s["name"].tolist() == ["Prospecting", "Qualification", "Discovery", "Proposal",
                                                           "Negotiation"]
    assert got["probability"].tolist() == [10, 20, 30, 60, 80]
    assert got["position"].tolist() == s["position"].tolist()


def test_open_stages_follow_position_not_name_or_insertion_order(tiny_engine):
    rows = [
        {"name": "Zeta", "position": 2, "probability": 50, "is_closed": False, "is_won": False, "forecast_category": "Best Case"},
        {"name": "Won", "position": 3, "probability": 100, "is_closed": True, "is_won": True, "forecast_category": "Closed"},
        {"name": "Alpha", "position": 7, "probability": 90, "is_closed": False, "is_won": False, "forecast_category": "Commit"},
        {"name": "Mid", "position": 0, "probability": 5, "is_closed": False, "is_won": False, "forecast_category": "Pipeline"},
    ]
    got = pipeline.open_stages(tiny_engine(stage=rows))
    assert got.to_dict("list") == {"stage": ["Mid", "Zeta", "Alpha"], "position": [0, 2, 7], "probability": [5, 50, 90]}


def test_open_stages_of_an_empty_warehouse_are_none(tiny_engine):
    assert pipeline.open_stages(tiny_engine()).empty


@pytest.mark.parametrize("period", [Q3, Q4, CUSTOM], ids=["Q3", "Q4", "custom"])
def test_funnel_matches_the_open_deals_per_stage(demo_engine, raw, period):
    filters = Filters(period)
    got = pipeline.funnel(query(demo_engine, FUNNEL_KPIS, filters, Scope.everyone(), by=["stage"], as_of=AS_OF),
                          pipeline.open_stages(demo_engine))
    o = still_open(deals_of(raw, filters, Scope.everyone()))
    assert got["stage"].tolist() == ["Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation"]
    total = float(o["amount"].sum())
    for row in got.to_dict("records"):
        mine = o[o["stage"] == row["stage"]]
        same(row["open_pipeline"], mine["amount"].sum(), row["stage"])
        same(row["weighted_pipeline"], (mine["amount"] * mine["stage_probability"] / 100).sum(), row["stage"])
        assert row["open_deals"] == len(mine)
        same(row["share"], div(float(mine["amount"].sum()), total), row["stage"])
    assert got["open_deals"].sum() == len(o)  # no open deal dropped
    same(got["share"].sum(), 1.0 if total else 0.0)


def test_funnel_with_filters_and_a_subtree_scope_matches_the_open_deals(demo_engine, raw):
    filters, scope = Filters(Q4, segments=frozenset({1}), products=frozenset({1, 3, 4})), Scope.subtree(MANAGER_WITH_DEEP_TREE)
    got = pipeline.funnel(query(demo_engine, FUNNEL_KPIS, filters, scope, by=["stage"], as_of=AS_OF),
                          pipeline.open_stages(demo_engine))
    o = still_open(deals_of(raw, filters, scope))
    assert 0 < len(o) < len(still_open(deals_of(raw, Filters(Q4), Scope.everyone())))
    expected = o.groupby("stage")["amount"].sum()
    assert dict(zip(got["stage"], got["open_pipeline"], strict=True)) == pytest.approx(
        {s: float(expected.get(s, 0.0)) for s in got["stage"]})
    assert got["open_deals"].sum() == len(o)


@pytest.mark.parametrize(("period", "scope"), [(Q4, Scope.nobody()), (EMPTY, Scope.everyone())], ids=["nobody", "empty_period"])
def test_funnel_of_nothing_lists_every_open_stage_at_zero(demo_engine, period, scope):
    by_stage = query(demo_engine, FUNNEL_KPIS, Filters(period), scope, by=["stage"], as_of=AS_OF)
    assert by_stage.empty
    got = pipeline.funnel(by_stage, pipeline.open_stages(demo_engine))
    assert got["stage"].tolist() == ["Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation"]
    assert got[["open_pipeline", "weighted_pipeline", "open_deals", "share"]].to_numpy().tolist() == [[0, 0, 0, 0]] * 5
    assert got["open_deals"].dtype == "int64"


def test_funnel_by_hand_drops_closed_stages_and_fills_empty_ones():
    # Open 600 in Proposal (weighted 360) and 400 in Prospecting (40); a Closed Won row is not pipeline.
    stages = pd.DataFrame({"stage": ["Prospecting", "Discovery", "Proposal"], "position": [0, 2, 3],
                           "probability": [10, 30, 60]})
    by_stage = pd.DataFrame({"stage": ["Closed Won", "Proposal", "Prospecting"], "open_pipeline": [0.0, 600.0, 400.0],
                             "weighted_pipeline": [0.0, 360.0, 40.0], "open_deals": [0, 2, 1]})
    got = pipeline.funnel(by_stage, stages)
    assert got.to_dict("list") == {
        "stage": ["Prospecting", "Discovery", "Proposal"], "position": [0, 2, 3], "probability": [10, 30, 60],
        "open_pipeline": [400.0, 0.0, 600.0], "weighted_pipeline": [40.0, 0.0, 360.0], "open_deals": [1, 0, 2],
        "share": [0.4, 0.0, 0.6],
    }


@pytest.mark.parametrize(
    ("day", "week", "month"),
    [
        (date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 1)),  # a Monday
        (date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 1)),  # a Sunday
        (date(2026, 1, 1), date(2025, 12, 29), date(2026, 1, 1)),  # a Thursday: its week starts the year before
        (date(2024, 2, 29), date(2024, 2, 26), date(2024, 2, 1)),
    ],
)
def test_bucket_start_is_the_monday_or_the_first_of_the_month(day, week, month):
    assert pipeline.bucket_start(day, "week") == week
    assert pipeline.bucket_start(day, "month") == month


def test_bucket_start_refuses_an_unknown_grain():
    with pytest.raises(ValueError, match="quarter"):
        pipeline.bucket_start(date(2026, 1, 1), "quarter")


def oracle_buckets(raw: Raw, filters: Filters, scope: Scope, grain: str) -> pd.DataFrame:
    """Every week (Monday) or month touching the period, with what was created in it, clipped to the period."""
    created = deals_of(raw, filters, scope, "created_date")
    rows, day = [], filters.period.start
    while day <= filters.period.end:
        start = day - timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)
        if not rows or rows[-1]["bucket"] != start:
            rows.append({"bucket": start, "from": day, "to": day, "pipeline_created": 0.0, "deals_created": 0})
        rows[-1]["to"] = day
        mine = created[created["created_date"] == pd.Timestamp(day)]
        rows[-1]["pipeline_created"] += float(mine["amount"].sum())
        rows[-1]["deals_created"] += len(mine)
        day += timedelta(days=1)
    for row in rows:
        full = 7 if grain == "week" else pd.Timestamp(row["bucket"]).days_in_month
        row["partial"] = (row["to"] - row["from"]).days + 1 < full
    return pd.DataFrame(rows)


@pytest.mark.parametrize("grain", ["week", "month"])
@pytest.mark.parametrize("period", [Q3, Q4, CUSTOM], ids=["Q3", "Q4", "custom"])
def test_created_buckets_match_the_deals_created_per_bucket(demo_engine, raw, period, grain):
    filters = Filters(period)
    created = query(demo_engine, ["pipeline_created", "deals_created"], filters, Scope.everyone(), by=[grain], as_of=AS_OF)
    got = pipeline.created_buckets(created, period, grain)
    expected = oracle_buckets(raw, filters, Scope.everyone(), grain)
    assert got.columns.tolist() == ["bucket", "from", "to", "pipeline_created", "deals_created", "partial"]
    assert got[["bucket", "from", "to", "deals_created", "partial"]].to_dict("records") == \
        expected[["bucket", "from", "to", "deals_created", "partial"]].to_dict("records")
    assert got["pipeline_created"].tolist() == pytest.approx(expected["pipeline_created"].tolist())
    assert got["deals_created"].sum() == len(deals_of(raw, filters, Scope.everyone(), "created_date")) > 0


def test_created_buckets_with_a_team_filter_and_a_scope(demo_engine, raw):
    filters, scope = Filters(Q4, teams=frozenset({1}), products=frozenset({2, 5})), Scope.subtree(MANAGER_WITH_DEEP_TREE)
    created = query(demo_engine, ["pipeline_created", "deals_created"], filters, scope, by=["week"], as_of=AS_OF)
    got = pipeline.created_buckets(created, Q4, "week")
    expected = oracle_buckets(raw, filters, scope, "week")
    assert got["deals_created"].tolist() == expected["deals_created"].tolist()
    assert got["pipeline_created"].tolist() == pytest.approx(expected["pipeline_created"].tolist())
    assert 0 < got["deals_created"].sum() < len(deals_of(raw, Filters(Q4), Scope.everyone(), "created_date"))


def test_created_buckets_by_hand_of_a_period_inside_one_week():
    # Wed 2026-11-18 .. Fri 2026-11-20: one partial week bucket from Monday the 16th; 300 in 2 deals.
    period = Period(date(2026, 11, 18), date(2026, 11, 20))
    created = pd.DataFrame({"week": [pd.Timestamp("2026-11-16")], "pipeline_created": [300.0], "deals_created": [2]})
    got = pipeline.created_buckets(created, period, "week")
    assert got.to_dict("records") == [{"bucket": date(2026, 11, 16), "from": date(2026, 11, 18), "to": date(2026, 11, 20),
                                       "pipeline_created": 300.0, "deals_created": 2, "partial": True}]


def test_created_buckets_of_nothing_created_are_all_zero(demo_engine):
    created = query(demo_engine, ["pipeline_created", "deals_created"], Filters(EMPTY), Scope.everyone(), by=["month"], as_of=AS_OF)
    got = pipeline.created_buckets(created, EMPTY, "month")
    assert got["bucket"].tolist() == [date(2031, 1, 1), date(2031, 2, 1), date(2031, 3, 1)]
    assert got["to"].tolist() == [date(2031, 1, 31), date(2031, 2, 28), date(2031, 3, 31)]
    assert got["pipeline_created"].tolist() == [0.0] * 3 and got["deals_created"].tolist() == [0] * 3
    assert not got["partial"].any()


def test_created_buckets_of_nobody_in_view_are_all_zero(demo_engine):
    created = query(demo_engine, ["pipeline_created", "deals_created"], Filters(Q4), Scope.nobody(), by=["week"], as_of=AS_OF)
    got = pipeline.created_buckets(created, Q4, "week")
    assert len(got) == 14 and got["deals_created"].sum() == 0 and got["pipeline_created"].sum() == 0
    assert got["partial"].tolist() == [True] + [False] * 12 + [True]  # Thu Oct 1 .. Sun Oct 4; Mon Dec 28 .. Thu Dec 31


def test_waterfall_by_hand_lays_the_bars_end_to_end():
    # 100 at start, +50 created, +20 pulled in, -30 pushed out, -40 won, -10 lost, +5 amount changes -> 95.
    steps = pd.DataFrame({"step": ["Open at start", "Created", "Pulled in", "Pushed out", "Won", "Lost", "Amount changes",
                                   "Open now"],
                          "amount": [100.0, 50.0, 20.0, -30.0, -40.0, -10.0, 5.0, 95.0],
                          "deals": [4, 2, 1, 1, 2, 1, 3, 4]})
    got = pipeline.waterfall(steps)
    assert got["kind"].tolist() == ["total", "increase", "increase", "decrease", "decrease", "decrease", "increase", "total"]
    assert got["base"].tolist() == [0.0, 100.0, 150.0, 170.0, 140.0, 100.0, 90.0, 0.0]
    assert got["top"].tolist() == [100.0, 150.0, 170.0, 140.0, 100.0, 90.0, 95.0, 95.0]
    assert got["order"].tolist() == list(range(8))
    assert got[["step", "amount", "deals"]].equals(steps)


def test_waterfall_of_only_totals_and_a_zero_step():
    got = pipeline.waterfall(pd.DataFrame({"step": ["Open at start", "Created", "Open now"], "amount": [0.0, 0.0, 0.0],
                                           "deals": [0, 0, 0]}))
    assert got["kind"].tolist() == ["total", "increase", "total"]
    assert got["base"].tolist() == [0.0, 0.0, 0.0] and got["top"].tolist() == [0.0, 0.0, 0.0]
    two = pipeline.waterfall(pd.DataFrame({"step": ["Open at start", "Open now"], "amount": [7.0, 7.0], "deals": [1, 1]}))
    assert two["kind"].tolist() == ["total", "total"] and two["top"].tolist() == [7.0, 7.0]


def test_waterfall_needs_a_start_and_an_end():
    with pytest.raises(ValueError, match="start and an end"):
        pipeline.waterfall(pd.DataFrame({"step": ["Open at start"], "amount": [1.0], "deals": [1]}))


@pytest.mark.parametrize("period", [Q3, Q4], ids=["Q3", "Q4"])
def test_waterfall_of_the_demo_pipeline_change_ends_where_the_pipeline_ends(demo_engine, period):
    bars = pipeline.waterfall(pipeline_change(demo_engine, Filters(period), Scope.everyone(), as_of=AS_OF))
    assert bars["amount"].iloc[0] > 0 and (bars["kind"].iloc[1:-1] != "total").all()
    assert bars["top"].iloc[-2] == pytest.approx(bars["amount"].iloc[-1])  # the last floating bar lands on the end total
    middle = bars.iloc[1:-1]
    assert (middle["top"] - middle["base"]).tolist() == pytest.approx(middle["amount"].tolist())


def test_groupable_kpis_drop_quota_kpis_for_products_only():
    kpis = ("open_pipeline", "quota_remaining", "coverage", "win_rate", "attainment", "activities")
    assert pipeline.groupable_kpis(kpis, "product") == ("open_pipeline", "win_rate")
    for dim in ("team", "segment", "region", "rep"):
        assert pipeline.groupable_kpis(kpis, dim) == kpis
    assert pipeline.groupable_kpis(kpis, "stage") == ("open_pipeline", "win_rate")


BREAKDOWN_COLUMN = {"team": "p_team", "segment": "p_segment", "region": "p_region", "product": "product_id", "rep": "owner_id"}


@pytest.mark.parametrize("dimension", ["team", "segment", "region", "product", "rep"])
def test_breakdown_matches_the_open_deals_per_group_and_ranks_them(demo_engine, raw, dimension):
    filters = Filters(Q4)
    names = pipeline.groupable_kpis(("open_pipeline", "open_deals", "quota_remaining"), dimension)
    got = pipeline.breakdown(query(demo_engine, list(names), filters, Scope.everyone(), by=[dimension], as_of=AS_OF), dimension, "open_pipeline")
    d, q = deals_of(raw, filters, Scope.everyone()), quotas_of(raw, filters, Scope.everyone())
    column, qcol = BREAKDOWN_COLUMN[dimension], BREAKDOWN_COLUMN[dimension].replace("owner_id", "person_id")
    o = still_open(d)
    groups = set(d[column].dropna().astype(int))
    if "quota_remaining" in names:
        groups |= set(q[qcol].dropna().astype(int))
    assert sorted(got["group_id"].astype(int)) == sorted(groups)
    for row in got.to_dict("records"):
        gid = int(row["group_id"])
        assert row["group"] == raw.names[dimension][gid]
        same(row["open_pipeline"], o.loc[o[column] == gid, "amount"].sum(), f"{dimension} {gid}")
        assert row["open_deals"] == (o[column] == gid).sum()
        if "quota_remaining" in names:
            booked = won(d).loc[won(d)[column] == gid, "amount"].sum()
            same(row["quota_remaining"], max(q.loc[q[qcol] == gid, "amount"].sum() - booked, 0.0), f"{dimension} {gid}")
    order = sorted(got.to_dict("records"), key=lambda r: (-r["open_pipeline"], r["group"]))
    assert got["group"].tolist() == [r["group"] for r in order]


def test_breakdown_by_hand_names_missing_groups_and_breaks_ties_by_name():
    frame = pd.DataFrame({"product_id": pd.array([2, None, 1, 3], dtype="Int64"),
                          "product": pd.array(["Gadget", None, "Widget", "Anvil"], dtype="str"),
                          "open_pipeline": [500.0, 900.0, 500.0, None]})
    got = pipeline.breakdown(frame, "product", "open_pipeline")
    assert got["group"].tolist() == ["(no product)", "Gadget", "Widget", "Anvil"]
    assert got["group_id"].tolist()[1:] == [2, 1, 3] and missing(got["group_id"].iloc[0])
    assert got.columns.tolist() == ["group_id", "group", "open_pipeline"]


def test_breakdown_of_nobody_is_empty(demo_engine):
    frame = query(demo_engine, ["open_pipeline"], Filters(Q4), Scope.nobody(), by=["team"], as_of=AS_OF)
    assert pipeline.breakdown(frame, "team", "open_pipeline").empty


def test_narrowed_replaces_only_the_dimensions_filter():
    base = Filters(Q4, teams=frozenset({1, 2}), segments=frozenset({1}), products=frozenset({4}),
                   managers=frozenset({5}))
    assert pipeline.narrowed(base, "team", 2) == Filters(Q4, teams=frozenset({2}), segments=frozenset({1}),
                                                         products=frozenset({4}), managers=frozenset({5}))
    assert pipeline.narrowed(base, "product", np.int64(3)).products == frozenset({3})
    assert pipeline.narrowed(base, "rep", 9).reps == frozenset({9})
    assert pipeline.narrowed(base, "region", 1).regions == frozenset({1})
    assert pipeline.narrowed(base, "segment", 2.0).segments == frozenset({2})


@pytest.mark.parametrize("dimension", ["team", "product", "rep", "segment"])
def test_deals_under_narrowed_filters_add_up_to_the_groups_open_pipeline(demo_engine, dimension):
    filters, scope = Filters(Q4, products=frozenset({1, 2, 3, 6})), Scope.subtree(MANAGER_WITH_DEEP_TREE)
    groups = pipeline.breakdown(query(demo_engine, ["open_pipeline", "open_deals"], filters, scope, by=[dimension], as_of=AS_OF),
                                dimension, "open_pipeline")
    assert len(groups) > 0
    for row in groups.to_dict("records"):
        listed = deals(demo_engine, "open_pipeline", pipeline.narrowed(filters, dimension, row["group_id"]), scope)
        assert len(listed) == row["open_deals"], row["group"]
        same(listed["amount"].sum(), row["open_pipeline"], row["group"])


# ============================================================================================= attainment.py


def check_attainment_by(engine, raw: Raw, filters: Filters, scope: Scope, level: str) -> pd.DataFrame:
    got = attainment.attainment_by(engine, filters, scope, level, AS_OF)
    expected = oracle_attainment(raw, filters, scope, level, ELAPSED[filters.period])
    ids = [key(i) for i in got["id"]]
    assert sorted(ids, key=str) == sorted(expected, key=str), f"{level}: groups differ"
    names = {g: raw.names[level][g] if g is not None else f"No {level}" for g in expected}
    assert ids == expected_rank(expected, names), f"{level}: ranking"
    for row in got.to_dict("records"):
        g = key(row["id"])
        assert row["name"] == names[g]
        for column in ATTAINMENT_VALUES:
            same(row[column], expected[g][column], f"{level} {g} {column}")
        assert row["at_quota"] == (expected[g]["attainment"] is not None and expected[g]["attainment"] >= 1.0)
        assert row["ramping"] == (expected[g]["ramped_quota"] > 0)
        if level == "rep":
            team = raw.people.set_index("id").loc[g, "team_id"]
            assert row["team"] == raw.names["team"][int(team)]
    return got


@pytest.mark.parametrize("level", list(attainment.LEVELS))
@pytest.mark.parametrize("period", [Q3, Q4, CUSTOM], ids=["Q3", "Q4", "custom"])
def test_attainment_by_level_matches_the_oracle(demo_engine, raw, level, period):
    got = check_attainment_by(demo_engine, raw, Filters(period), Scope.everyone(), level)
    assert len(got) > 0


FILTER_CASES = {
    "team": Filters(Q4, teams=frozenset({2})),
    "segment": Filters(Q3, segments=frozenset({1})),
    "products": Filters(Q4, products=frozenset({1, 3})),  # deals only: the quota stays whole
    "manager_filter": Filters(Q3, managers=frozenset({MANAGER_WITH_DEEP_TREE})),
    "region_nobody_in": Filters(Q4, regions=frozenset({3})),
}


@pytest.mark.parametrize("level", ["rep", "team", "manager"])
@pytest.mark.parametrize("case", FILTER_CASES)
def test_attainment_by_level_with_filters_matches_the_oracle(demo_engine, raw, level, case):
    check_attainment_by(demo_engine, raw, FILTER_CASES[case], Scope.everyone(), level)


@pytest.mark.parametrize("level", ["rep", "team", "manager", "segment"])
@pytest.mark.parametrize("scope", [Scope.subtree(MANAGER_WITH_DEEP_TREE), Scope.only(16), Scope.only(MANAGER_WITH_DEEP_TREE)],
                         ids=["subtree", "one_rep", "manager_alone"])
def test_attainment_by_level_within_a_scope_matches_the_oracle(demo_engine, raw, level, scope):
    check_attainment_by(demo_engine, raw, Filters(Q4), scope, level)


@pytest.mark.parametrize("level", list(attainment.LEVELS))
def test_attainment_by_level_of_nobody_or_an_empty_period_is_empty(demo_engine, level):
    assert attainment.attainment_by(demo_engine, Filters(Q4), Scope.nobody(), level, AS_OF).empty
    assert attainment.attainment_by(demo_engine, Filters(EMPTY), Scope.everyone(), level, AS_OF).empty


def test_attainment_by_refuses_an_unknown_level(demo_engine):
    with pytest.raises(ValueError, match="product"):
        attainment.attainment_by(demo_engine, Filters(Q4), Scope.everyone(), "product", AS_OF)


def test_the_products_filter_lowers_bookings_but_not_quota(demo_engine):
    whole = attainment.attainment_by(demo_engine, Filters(Q3), Scope.everyone(), "team", AS_OF).set_index("id")
    some = attainment.attainment_by(demo_engine, Filters(Q3, products=frozenset({1, 3})), Scope.everyone(), "team",
                                    AS_OF).set_index("id")
    assert some["quota"].to_dict() == whole["quota"].to_dict()
    assert (some["bookings"] < whole["bookings"].reindex(some.index)).all()  # rows come in bookings order


def test_reps_at_quota_counts_reps_with_a_quota_reaching_it(demo_engine, raw):
    for period in (Q3, Q4, Period.year(date(2025, 1, 1))):
        per_rep = attainment.attainment_by(demo_engine, Filters(period), Scope.everyone(), "rep", AS_OF)
        q = quotas_of(raw, Filters(period), Scope.everyone()).groupby("person_id")["amount"].sum()
        q = q[q > 0]
        booked = won(deals_of(raw, Filters(period), Scope.everyone())).groupby("owner_id")["amount"].sum()
        at = int((booked.reindex(q.index, fill_value=0.0) >= q).sum())
        assert attainment.reps_at_quota(per_rep) == (at, len(q))
        share = query(demo_engine, ["pct_reps_at_quota"], Filters(period), Scope.everyone(), as_of=AS_OF)["pct_reps_at_quota"].iloc[0]
        same(share, at / len(q), str(period))
    q3 = attainment.attainment_by(demo_engine, Filters(Q3), Scope.everyone(), "rep", AS_OF)
    assert 0 < attainment.reps_at_quota(q3)[0] < attainment.reps_at_quota(q3)[1]


def test_reps_at_quota_of_nobody_is_zero_of_zero(demo_engine):
    assert attainment.reps_at_quota(attainment.attainment_by(demo_engine, Filters(Q4), Scope.nobody(), "rep", AS_OF)) == (0, 0)


# --------------------------------------------------------------------------------------------- tiny warehouse

# Q1 2026 with today Sun 2026-02-15: 46 of Q1's 90 days gone by.
#   1 Lea Leader (no team)
#   +-- 2 Manny Manager (team 1)
#   |   +-- 3 Rita Rep (team 1, segment 1)   quota Jan/Feb/Mar 1000 each          won 1500 Jan 10, 1500 Feb 20; open 1000 Proposal Mar 15
#   |   +-- 4 Rob Rep (team 1, segment 1)    quota Jan 2000, a ramped quota      won 2500 Feb 1 (product 2)
#   +-- 5 Olga Other (team 2)
#       +-- 6 Sam Sibling (team 2, seg. 2)   quota Jan 0                          won 700 Jan 5
#       +-- 7 Nat Newcomer (no team)         no quota                             won 100 Mar 1
TQ1 = Period(date(2026, 1, 1), date(2026, 3, 31))
TODAY = date(2026, 2, 15)
E = 46 / 90
LEA, MANNY, RITA, ROB, OLGA, SAM, NAT = range(1, 8)
STAGES = {s.name: s for s in DEFAULT_STAGES}


def _person(pid, name, role, manager, team, segment):
    return {"id": pid, "name": name, "role": role, "manager_id": manager, "team_id": team, "segment_id": segment,
            "region_id": 1, "active": True, "ramp_months": 0}


PEOPLE = [
    _person(LEA, "Lea Leader", "leader", None, None, None),
    _person(MANNY, "Manny Manager", "manager", LEA, 1, 1),
    _person(RITA, "Rita Rep", "rep", MANNY, 1, 1),
    _person(ROB, "Rob Rep", "rep", MANNY, 1, 1),
    _person(OLGA, "Olga Other", "manager", LEA, 2, 2),
    _person(SAM, "Sam Sibling", "rep", OLGA, 2, 2),
    _person(NAT, "Nat Newcomer", "rep", OLGA, None, None),
]


def deal(did, owner, amount, stage, close, product=1):
    s = STAGES[stage]
    return {"id": did, "owner_id": owner, "product_id": product, "amount": float(amount), "stage": stage,
            "probability": s.probability, "forecast_category": s.forecast_category, "created_date": date(2025, 12, 1),
            "close_date": close, "is_closed": s.is_closed, "is_won": s.is_won}


def quota(qid, person, month, amount, ramped=False):
    return {"id": qid, "person_id": person, "month": month, "amount": float(amount), "quota_type": "bookings",
            "is_ramped": ramped}


DEALS = [
    deal(1, RITA, 1500, "Closed Won", date(2026, 1, 10)),
    deal(2, RITA, 1500, "Closed Won", date(2026, 2, 20)),  # dated after today: booked in the period all the same
    deal(3, RITA, 1000, "Proposal", date(2026, 3, 15)),
    deal(4, ROB, 2500, "Closed Won", date(2026, 2, 1), product=2),
    deal(5, SAM, 700, "Closed Won", date(2026, 1, 5)),
    deal(6, NAT, 100, "Closed Won", date(2026, 3, 1)),
    deal(7, RITA, 9999, "Closed Won", date(2026, 4, 1)),  # Q2: never counted
]
QUOTAS = [
    quota(1, RITA, date(2026, 1, 1), 1000), quota(2, RITA, date(2026, 2, 1), 1000), quota(3, RITA, date(2026, 3, 1), 1000),
    quota(4, ROB, date(2026, 1, 1), 2000, ramped=True), quota(5, SAM, date(2026, 1, 1), 0),
    quota(6, RITA, date(2026, 4, 1), 5000),
]


@pytest.fixture
def tiny(tiny_engine):
    return tiny_engine(person=PEOPLE, team=[{"id": 1, "name": "Team One"}, {"id": 2, "name": "Team Two"}],
                       segment=[{"id": 1, "name": "SMB"}, {"id": 2, "name": "Enterprise"}],
                       product=[{"id": 1, "name": "Widget"}, {"id": 2, "name": "Gadget"}],
                       stage=[s.__dict__.copy() for s in DEFAULT_STAGES], opportunity=DEALS, quota=QUOTAS)


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(None if missing(v) else v for v in r) for r in frame[list(columns)].itertuples(index=False)]


def test_tiny_attainment_by_rep(tiny):
    # Rob 2500 / 2000 = 125 %; Rita 3000 / 3000 = 100 % (+ 600 weighted: 120 %); Sam (quota 0) and Nat (none) have no
    # attainment and come last by bookings. Pacing: bookings / (46 / 90).
    got = attainment.attainment_by(tiny, Filters(TQ1), Scope.everyone(), "rep", TODAY)
    assert rows(got, "id", "name", "team", "quota", "bookings", "attainment", "at_quota", "ramping") == [
        (ROB, "Rob Rep", "Team One", 2000.0, 2500.0, 1.25, True, True),
        (RITA, "Rita Rep", "Team One", 3000.0, 3000.0, 1.0, True, False),
        (SAM, "Sam Sibling", "Team Two", 0.0, 700.0, None, False, False),
        (NAT, "Nat Newcomer", None, 0.0, 100.0, None, False, False),
    ]
    assert got["pacing"].tolist() == pytest.approx([2500 / E, 3000 / E, 700 / E, 100 / E])
    assert rows(got, "pacing_attainment")[:2] == [(pytest.approx(2500 / E / 2000),), (pytest.approx(3000 / E / 3000),)]
    assert rows(got, "projected_attainment", "weighted_pipeline", "quota_remaining", "ramped_quota") == [
        (1.25, 0.0, 0.0, 2000.0), (1.2, 600.0, 0.0, 0.0), (None, 0.0, 0.0, 0.0), (None, 0.0, 0.0, 0.0)]
    assert attainment.reps_at_quota(got) == (2, 2)


def test_tiny_attainment_by_team_names_the_group_without_a_team(tiny):
    # Team One 5500 / 5000 = 110 %; Team Two 700 against a zero quota; Nat's 100 under "No team".
    got = attainment.attainment_by(tiny, Filters(TQ1), Scope.everyone(), "team", TODAY)
    assert rows(got, "id", "name", "quota", "bookings", "attainment", "at_quota", "ramping") == [
        (1, "Team One", 5000.0, 5500.0, pytest.approx(1.1), True, True),
        (2, "Team Two", 0.0, 700.0, None, False, False),
        (None, "No team", 0.0, 100.0, None, False, False),
    ]


def test_tiny_attainment_by_manager_groups_by_direct_manager(tiny):
    got = attainment.attainment_by(tiny, Filters(TQ1), Scope.everyone(), "manager", TODAY)
    assert rows(got, "id", "name", "quota", "bookings", "attainment") == [
        (MANNY, "Manny Manager", 5000.0, 5500.0, pytest.approx(1.1)), (OLGA, "Olga Other", 0.0, 800.0, None)]


def test_tiny_product_filter_and_subtree_scope(tiny):
    # Widgets only: Rob's Gadget deal drops out, his quota stays: 0 / 2000 = 0 %, ranked below Rita.
    got = attainment.attainment_by(tiny, Filters(TQ1, products=frozenset({1})), Scope.everyone(), "rep", TODAY)
    assert rows(got, "id", "bookings", "quota", "attainment")[:2] == [(RITA, 3000.0, 3000.0, 1.0), (ROB, 0.0, 2000.0, 0.0)]
    assert attainment.reps_at_quota(got) == (1, 2)
    # Olga's subtree is Sam and Nat only.
    mine = attainment.attainment_by(tiny, Filters(TQ1), Scope.subtree(OLGA), "rep", TODAY)
    assert rows(mine, "id", "bookings") == [(SAM, 700.0), (NAT, 100.0)]
    assert attainment.reps_at_quota(mine) == (0, 0)
    # A segment filter on Manny's reps, by team.
    seg = attainment.attainment_by(tiny, Filters(TQ1, segments=frozenset({2})), Scope.everyone(), "team", TODAY)
    assert rows(seg, "id", "bookings") == [(2, 700.0)]


def test_tiny_attainment_of_a_period_not_started_has_no_pace(tiny):
    # Today is before Q1: bookings and attainment are known (all deals are future-dated), pacing is not.
    got = attainment.attainment_by(tiny, Filters(TQ1), Scope.everyone(), "rep", date(2025, 12, 20))
    assert got["bookings"].tolist() == [2500.0, 3000.0, 700.0, 100.0]
    assert all(missing(v) for v in got["pacing"]) and all(missing(v) for v in got["pacing_attainment"])


def test_rank_groups_by_hand():
    # Two "Alex" get their ids; a missing group gets "No team"; no attainment last by bookings, then by name.
    frame = pd.DataFrame({
        "team_id": pd.array([1, 2, 3, None, 5, 6], dtype="Int64"),
        "team": pd.array(["Alex", "Alex", "Bea", None, "Cy", "Di"], dtype="str"),
        "quota": [100.0, 100.0, 0.0, 0.0, 200.0, 50.0],
        "bookings": [50.0, 150.0, 10.0, 30.0, 200.0, 50.0],
        "attainment": [0.5, 1.5, None, None, 1.0, 1.0],
        "ramped_quota": [0.0, 10.0, 0.0, 0.0, 0.0, 0.0],
    })
    got = attainment.rank_groups(frame, "team")
    assert rows(got, "id", "name", "at_quota", "ramping") == [
        (2, "Alex (#2)", True, True), (5, "Cy", True, False), (6, "Di", True, False), (1, "Alex (#1)", False, False),
        (None, "No team", False, False), (3, "Bea", False, False)]
    assert str(got["id"].dtype) == "Int64"


def test_attainment_distribution_by_hand():
    # Bands of 10 % up to 200 %: exact edges (30 %, 100 %, 200 %) open their band; negative attainment is band 0;
    # reps without a quota are left out.
    per_rep = pd.DataFrame({
        "name": ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
        "quota": [1000.0] * 8 + [0.0, 0.0],
        "attainment": [0.3, 0.29999, 700 / 1000, 1.0, 0.99999, 2.0, 3.5, -0.2, None, None],
    })
    got = attainment.attainment_distribution(per_rep)
    assert len(got) == 21
    assert got["start"].tolist() == pytest.approx([k / 10 for k in range(21)])
    assert got["end"].tolist() == pytest.approx([k / 10 + 0.1 for k in range(21)])
    assert got["label"].iloc[0] == "0%–10%" and got["label"].iloc[10] == "100%–110%" and got["label"].iloc[-1] == "≥ 200%"
    counts = dict.fromkeys(range(21), 0) | {0: 1, 2: 1, 3: 1, 7: 1, 9: 1, 10: 1, 20: 2}
    assert got["reps"].tolist() == [counts[k] for k in range(21)]
    assert got["share"].tolist() == pytest.approx([counts[k] / 8 for k in range(21)])
    assert got["at_quota"].tolist() == [False] * 10 + [True] * 11
    assert got["names"].iloc[20] == "G, F" and got["names"].iloc[3] == "A" and got["names"].iloc[1] == ""


def test_attainment_distribution_lists_a_few_names_and_counts_the_rest():
    per_rep = pd.DataFrame({"name": list("ABCDE"), "quota": [10.0] * 5, "attainment": [0.51, 0.55, 0.59, 0.52, 0.5]})
    got = attainment.attainment_distribution(per_rep, band=0.25, top=1.0, names_shown=2)
    assert got["label"].tolist() == ["0%–25%", "25%–50%", "50%–75%", "75%–100%", "≥ 100%"]
    assert got["reps"].tolist() == [0, 0, 5, 0, 0]
    assert got["names"].iloc[2] == "C, B and 3 more"


@pytest.mark.parametrize("attainments", [[0.55], [0.55, 0.51], [0.55, 1.2]], ids=["one_rep", "one_band", "two_bands"])
def test_attainment_distribution_of_a_rep_or_two(attainments):
    # The case of a manager's small team, or a rep filter: each rep in its band, named.
    names = ["Ann", "Bo"][: len(attainments)]
    per_rep = pd.DataFrame({"name": names, "quota": [100.0] * len(attainments), "attainment": attainments})
    got = attainment.attainment_distribution(per_rep)
    expected = {}
    for name, a in sorted(zip(names, attainments, strict=True), key=lambda x: -x[1]):
        expected.setdefault(int(a * 10), []).append(name)
    assert got["reps"].tolist() == [len(expected.get(k, [])) for k in range(21)]
    assert got["names"].tolist() == [", ".join(expected.get(k, [])) for k in range(21)]
    assert got["share"].sum() == pytest.approx(1.0)


def test_attainment_distribution_of_nobody_lists_every_band_empty():
    empty = pd.DataFrame({"name": pd.Series([], dtype="str"), "quota": pd.Series([], dtype=float),
                          "attainment": pd.Series([], dtype=float)})
    got = attainment.attainment_distribution(empty)
    assert len(got) == 21 and got["reps"].sum() == 0 and got["share"].sum() == 0 and (got["names"] == "").all()


def test_attainment_distribution_of_the_demo_counts_each_rep_once(demo_engine, raw):
    per_rep = attainment.attainment_by(demo_engine, Filters(Q3), Scope.everyone(), "rep", AS_OF)
    got = attainment.attainment_distribution(per_rep)
    expected = oracle_attainment(raw, Filters(Q3), Scope.everyone(), "rep", 1.0)
    rated = [v["attainment"] for v in expected.values() if v["quota"] > 0]
    bands = [min(int(math.floor(round(max(a, 0) * 10, 9))), 20) for a in rated]
    assert got["reps"].tolist() == [bands.count(k) for k in range(21)]
    assert int(got.loc[got["at_quota"], "reps"].sum()) == attainment.reps_at_quota(per_rep)[0]


# --------------------------------------------------------------------------------------------- bookings vs quota


def oracle_cumulative(raw: Raw, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    """Day by day, counted in a plain loop: each quota month starting in the period spread evenly over its days
    in the period; bookings to the later of today (or the period's end) and the last booking; the run rate from today."""
    period = filters.period
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    w = won(deals_of(raw, filters, scope))
    per_day = {d: float(w.loc[w["close_date"] == pd.Timestamp(d), "amount"].sum()) for d in days}
    q = quotas_of(raw, filters, scope)
    month_quota = {m.date(): float(a) for m, a in q.groupby("month")["amount"].sum().items()}
    in_period = {m: sum(1 for d in days if d.replace(day=1) == m) for m in month_quota}
    last = max((d for d in days if per_day[d] > 0), default=None)
    shown_to = max([min(as_of, period.end), *([last] if last else [])]) if (as_of >= period.start or last) else None
    elapsed = ELAPSED.get(period, period.elapsed_fraction(as_of))
    total = sum(per_day.values())
    out, booked, quota_line = [], 0.0, 0.0
    for i, d in enumerate(days):
        booked += per_day[d]
        m = d.replace(day=1)
        quota_line += month_quota[m] / in_period[m] if m in month_quota else 0.0
        run = total / elapsed * (i + 1) / len(days) if 0 < elapsed < 1 and d >= as_of else None
        out.append({"day": pd.Timestamp(d), "bookings": per_day[d],
                    "cumulative_bookings": booked if shown_to and d <= shown_to else None,
                    "cumulative_quota": quota_line, "run_rate": run})
    return pd.DataFrame(out)


def check_cumulative(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert got.columns.tolist() == ["day", "bookings", "cumulative_bookings", "cumulative_quota", "run_rate"]
    assert got["day"].tolist() == expected["day"].tolist()
    for column in ("bookings", "cumulative_bookings", "cumulative_quota", "run_rate"):
        for day, a, b in zip(expected["day"], got[column], expected[column], strict=True):
            same(a, b, f"{column} on {day:%Y-%m-%d}")


CUMULATIVE_CASES = {
    "Q3_over": (Filters(Q3), Scope.everyone()),
    "Q4_in_progress": (Filters(Q4), Scope.everyone()),
    "custom_mid_month": (Filters(CUSTOM), Scope.everyone()),
    "team_and_products": (Filters(Q4, teams=frozenset({1}), products=frozenset({1, 2})), Scope.everyone()),
    "subtree": (Filters(Q3), Scope.subtree(MANAGER_WITH_DEEP_TREE)),
    "one_rep_segment": (Filters(Q4, segments=frozenset({2})), Scope.only(16)),
}


@pytest.mark.parametrize("case", CUMULATIVE_CASES)
def test_cumulative_bookings_vs_quota_matches_the_oracle(demo_engine, raw, case):
    filters, scope = CUMULATIVE_CASES[case]
    got = attainment.cumulative_bookings_vs_quota(demo_engine, filters, scope, AS_OF)
    check_cumulative(got, oracle_cumulative(raw, filters, scope, AS_OF))
    totals = query(demo_engine, ["bookings", "quota", "pacing"], filters, scope, as_of=AS_OF).iloc[0]
    assert got["cumulative_quota"].iloc[-1] == pytest.approx(totals["quota"]) and totals["quota"] > 0
    assert got["bookings"].sum() == pytest.approx(totals["bookings"]) and totals["bookings"] > 0
    if 0 < ELAPSED[filters.period] < 1:
        assert got["run_rate"].iloc[-1] == pytest.approx(totals["pacing"])


def test_cumulative_bookings_vs_quota_of_nobody_and_of_an_empty_period(demo_engine):
    nobody = attainment.cumulative_bookings_vs_quota(demo_engine, Filters(Q4), Scope.nobody(), AS_OF)
    assert len(nobody) == 92 and nobody["bookings"].sum() == 0 and nobody["cumulative_quota"].sum() == 0
    assert nobody["cumulative_bookings"].notna().sum() == 54  # zeros up to today, nothing after
    empty = attainment.cumulative_bookings_vs_quota(demo_engine, Filters(EMPTY), Scope.everyone(), AS_OF)
    assert len(empty) == 90 and empty["cumulative_quota"].sum() == 0
    assert empty["cumulative_bookings"].isna().all() and empty["run_rate"].isna().all()  # not started: nothing to show


def test_tiny_cumulative_bookings_vs_quota_by_hand(tiny):
    # Jan quota 3000 (Rita 1000 + Rob 2000 + Sam 0) over 31 days, Feb 1000 over 28, Mar 1000 over 31.
    # Bookings: 700 Jan 5, 1500 Jan 10, 2500 Feb 1, then after today 1500 Feb 20 and 100 Mar 1: the line runs
    # through the last booking (Mar 1), never further.
    got = attainment.cumulative_bookings_vs_quota(tiny, Filters(TQ1), Scope.everyone(), TODAY).set_index("day")
    assert len(got) == 90
    assert got.loc["2026-01-31", "cumulative_quota"] == pytest.approx(3000)
    assert got.loc["2026-02-14", "cumulative_quota"] == pytest.approx(3000 + 1000 * 14 / 28)
    assert got.loc["2026-03-31", "cumulative_quota"] == pytest.approx(5000)
    assert got.loc["2026-01-09", "cumulative_bookings"] == 700 and got.loc["2026-02-15", "cumulative_bookings"] == 4700
    assert got.loc["2026-02-20", "cumulative_bookings"] == 6200 and got.loc["2026-03-01", "cumulative_bookings"] == 6300
    assert got["cumulative_bookings"].loc["2026-03-02":].isna().all()
    assert got["bookings"].sum() == 6300
    # Run rate: 6300 / (46 / 90) carried from today (46th day: 6300) to the period's end (6300 * 90 / 46).
    assert got["run_rate"].loc[:"2026-02-14"].isna().all()
    assert got.loc["2026-02-15", "run_rate"] == pytest.approx(6300)
    assert got["run_rate"].iloc[-1] == pytest.approx(6300 * 90 / 46)


def test_tiny_cumulative_quota_of_a_custom_period_counts_the_months_starting_in_it(tiny):
    # Jan 15 .. Feb 10: January's quota started before the period; February's 1000 spreads over Feb 1..10 (100 a day).
    period = Period(date(2026, 1, 15), date(2026, 2, 10))
    got = attainment.cumulative_bookings_vs_quota(tiny, Filters(period), Scope.everyone(), TODAY).set_index("day")
    assert (got.loc[:"2026-01-31", "cumulative_quota"] == 0).all()
    assert got.loc["2026-02-01", "cumulative_quota"] == pytest.approx(100)
    assert got["cumulative_quota"].iloc[-1] == pytest.approx(1000)
    assert got["cumulative_bookings"].iloc[-1] == 2500 and got["run_rate"].isna().all()  # over by today


def test_cumulative_series_by_hand_of_a_period_not_started_with_nothing_booked():
    period = Period(date(2026, 3, 1), date(2026, 3, 4))
    got = attainment.cumulative_series(pd.DataFrame({"day": [], "bookings": []}),
                                       pd.DataFrame({"month": [pd.Timestamp("2026-03-01")], "quota": [400.0]}),
                                       period, date(2026, 2, 1))
    assert got["cumulative_quota"].tolist() == pytest.approx([100.0, 200.0, 300.0, 400.0])
    assert got["cumulative_bookings"].isna().all() and got["run_rate"].isna().all()
    assert got["bookings"].tolist() == [0.0] * 4


def test_cumulative_series_by_hand_with_two_rows_on_one_day():
    # Two groups' rows for Mar 2 add up; today Mar 3 of 4 days: run rate 250 / (3/4) * (k/4) from Mar 3.
    period = Period(date(2026, 3, 1), date(2026, 3, 4))
    daily = pd.DataFrame({"day": [date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 1)], "bookings": [100.0, 50.0, 100.0]})
    got = attainment.cumulative_series(daily, pd.DataFrame({"month": [], "quota": []}), period, date(2026, 3, 3))
    assert got["bookings"].tolist() == [100.0, 150.0, 0.0, 0.0]
    assert rows(got, "cumulative_bookings") == [(100.0,), (250.0,), (250.0,), (None,)]
    assert rows(got, "run_rate") == [(None,), (None,), (pytest.approx(250.0),), (pytest.approx(1000 / 3),)]
    assert got["cumulative_quota"].tolist() == [0.0] * 4


# --------------------------------------------------------------------------------------------- pace


def test_pace_by_hand():
    # Q1 on Feb 15: 46 / 90 gone by; attainment 40 % is 11.1 points behind; no projected attainment (no quota).
    got = attainment.pace({"attainment": 0.4, "pacing_attainment": 0.4 * 90 / 46, "projected_attainment": None,
                           "bookings": 123.0}, TQ1, TODAY)
    assert got["kpi"].tolist() == ["attainment", "pacing_attainment", "projected_attainment"]
    assert got["yardstick"].tolist() == pytest.approx([E, 1.0, 1.0])
    assert rows(got, "value") == [(0.4,), (pytest.approx(0.4 * 90 / 46),), (None,)]
    assert rows(got, "gap") == [(pytest.approx(0.4 - E),), (pytest.approx(0.4 * 90 / 46 - 1),), (None,)]
    assert got["elapsed"].tolist() == pytest.approx([E] * 3)


def test_pace_without_a_quota_is_empty_never_infinite(demo_engine):
    totals = query(demo_engine, ["attainment", "pacing_attainment", "projected_attainment"], Filters(Q4), Scope.nobody(),
                   as_of=AS_OF).iloc[0]
    got = attainment.pace(totals, Q4, AS_OF)
    assert got["value"].isna().all() and got["gap"].isna().all()
    assert got["yardstick"].tolist() == pytest.approx([54 / 92, 1.0, 1.0])


@pytest.mark.parametrize("period", [Q3, Q4], ids=["Q3", "Q4"])
def test_pace_of_the_demo_matches_the_oracle(demo_engine, raw, period):
    filters = Filters(period)
    totals = query(demo_engine, ["attainment", "pacing_attainment", "projected_attainment"], filters, Scope.everyone(), as_of=AS_OF).iloc[0]
    got = attainment.pace(totals, period, AS_OF).set_index("kpi")
    d, q = deals_of(raw, filters, Scope.everyone()), quotas_of(raw, filters, Scope.everyone())
    booked, target = float(won(d)["amount"].sum()), float(q["amount"].sum())
    o = still_open(d)
    e = ELAPSED[period]
    same(got.loc["attainment", "value"], booked / target)
    same(got.loc["attainment", "gap"], booked / target - e)
    same(got.loc["pacing_attainment", "value"], booked / e / target)
    same(got.loc["projected_attainment", "value"], (booked + (o["amount"] * o["stage_probability"] / 100).sum()) / target)
    same(got.loc["projected_attainment", "gap"], got.loc["projected_attainment", "value"] - 1.0)


# --------------------------------------------------------------------------------------------- group filters


@pytest.mark.parametrize("level", list(attainment.LEVELS))
@pytest.mark.parametrize(("filters", "scope"), [
    (Filters(Q3), Scope.everyone()),
    (Filters(Q4, products=frozenset({1, 3, 5})), Scope.subtree(MANAGER_WITH_DEEP_TREE)),
    (Filters(Q4, segments=frozenset({2}), reps=frozenset({15, 16, 17})), Scope.everyone()),
], ids=["Q3", "products_subtree", "segment_reps"])
def test_deals_under_group_filters_add_up_to_the_groups_bookings(demo_engine, level, filters, scope):
    groups = attainment.attainment_by(demo_engine, filters, scope, level, AS_OF)
    assert len(groups) > 0
    for row in groups.to_dict("records"):
        narrowed = attainment.group_filters(demo_engine, filters, level, key(row["id"]))
        assert narrowed.period == filters.period and narrowed.products == filters.products
        listed = deals(demo_engine, "bookings", narrowed, scope)
        same(listed["amount"].sum(), row["bookings"], f"{level} {row['name']}")
        assert query(demo_engine, ["quota"], narrowed, scope, as_of=AS_OF)["quota"].iloc[0] == pytest.approx(row["quota"])


def test_group_filters_by_hand(tiny):
    f = Filters(TQ1, segments=frozenset({1, 2}))
    assert attainment.group_filters(tiny, f, "rep", np.int64(RITA)) == Filters(TQ1, segments=frozenset({1, 2}),
                                                                                 reps=frozenset({RITA}))
    assert attainment.group_filters(tiny, f, "team", 2) == Filters(TQ1, segments=frozenset({1, 2}), teams=frozenset({2}))
    assert attainment.group_filters(tiny, f, "segment", 1).segments == frozenset({1})
    # Manager: the direct reports (Manny's: Rita and Rob), within a rep filter when there is one.
    assert attainment.group_filters(tiny, f, "manager", MANNY).reps == frozenset({RITA, ROB})
    assert attainment.group_filters(tiny, Filters(TQ1, reps=frozenset({ROB, SAM})), "manager", MANNY).reps == frozenset({ROB})
    # Missing groups: the people with no team (Lea, Nat), no manager (Lea).
    assert attainment.group_filters(tiny, Filters(TQ1), "team", None).reps == frozenset({LEA, NAT})
    assert attainment.group_filters(tiny, Filters(TQ1), "manager", None).reps == frozenset({LEA})


def test_group_filters_of_the_no_team_group_list_its_bookings(tiny):
    groups = attainment.attainment_by(tiny, Filters(TQ1), Scope.everyone(), "team", TODAY)
    for row in groups.to_dict("records"):
        narrowed = attainment.group_filters(tiny, Filters(TQ1), "team", key(row["id"]))
        assert deals(tiny, "bookings", narrowed, Scope.everyone())["amount"].sum() == row["bookings"]
    assert groups["bookings"].tolist() == [5500.0, 700.0, 100.0]


def test_group_filters_refuse_what_no_group_can_be(tiny):
    with pytest.raises(ValueError, match="level"):
        attainment.group_filters(tiny, Filters(TQ1), "product", 1)
    with pytest.raises(ValueError, match="owner"):
        attainment.group_filters(tiny, Filters(TQ1), "rep", None)
    with pytest.raises(ValueError, match="manager"):  # Rita manages no one
        attainment.group_filters(tiny, Filters(TQ1), "manager", RITA)
    with pytest.raises(ValueError, match="team"):  # nobody of the rep filter is without a team
        attainment.group_filters(tiny, Filters(TQ1, reps=frozenset({RITA})), "team", None)


@pytest.mark.parametrize("kpi_name", ["deals_won", "deals_lost", "open_pipeline"])
@pytest.mark.parametrize("limit", [1, 10, 100_000])
def test_a_limited_deal_list_is_the_head_of_the_whole_list(demo_engine, raw, kpi_name, limit):
    """The top-N path (ids found first, labels joined after) lists exactly the first N rows of the full list,
    ties on amount broken by id, and every row is a deal of the view (checked against the demo frames)."""
    filters, scope = Filters(Q4, products=frozenset({1, 3, 5})), Scope.subtree(MANAGER_WITH_DEEP_TREE)
    whole = deals(demo_engine, kpi_name, filters, scope)
    top = deals(demo_engine, kpi_name, filters, scope, limit=limit)
    assert len(whole) > 1
    as_values = lambda f: f.astype(object).where(f.notna(), None)  # noqa: E731  PostgreSQL: an all-NULL column is object
    pd.testing.assert_frame_equal(as_values(top), as_values(whole.head(limit)))
    assert list(whole[["amount", "id"]].itertuples(index=False)) == sorted(
        whole[["amount", "id"]].itertuples(index=False), key=lambda r: (-r.amount, r.id)
    )
    assert set(top["id"]) <= set(raw.deals.loc[raw.deals["owner_id"].isin(in_view(raw, filters, scope)), "id"])
