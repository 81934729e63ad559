"""The period review (spm_core.reports.review) against plain-pandas oracles over the raw demo tables, and on
tiny warehouses: a team with no losses, a warehouse with no history ("needs history", never zeros), scopes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core import schema
from spm_core.db import read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.reports.periods import next_period, parse_period, period_label
from spm_core.reports.review import TOP, build_review
from spm_core.stages import stage_rows

AS_OF = date(2026, 11, 23)  # the demo fixture's today
Q3 = parse_period("2026-Q3")


@pytest.fixture(scope="module")
def q3_review(demo_engine):
    return build_review(demo_engine, Filters(Q3), Scope.everyone(), AS_OF)


def _in(frame: pd.DataFrame, column: str, period: Period) -> pd.Series:
    days = pd.to_datetime(frame[column])
    return (days >= pd.Timestamp(period.start)) & (days <= pd.Timestamp(period.end))


def _won(opps: pd.DataFrame, period: Period) -> pd.DataFrame:
    return opps[opps["is_won"].astype(bool) & _in(opps, "close_date", period)]


def _lost(opps: pd.DataFrame, period: Period) -> pd.DataFrame:
    return opps[opps["is_closed"].astype(bool) & ~opps["is_won"].astype(bool) & _in(opps, "close_date", period)]


def _quota(frames: dict, period: Period) -> pd.DataFrame:
    q = frames["quota"]
    return q[_in(q, "month", period)]


# --------------------------------------------------------------------------------------------- periods


def test_periods_parse_label_and_follow_each_other():
    assert parse_period("2026-q3") == Period(date(2026, 7, 1), date(2026, 9, 30))
    assert parse_period("2026-02") == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert next_period(parse_period("2026-Q4")) == parse_period("2027-Q1")
    assert next_period(parse_period("2026-12")) == parse_period("2027-01")
    assert period_label(parse_period("2026-Q3")) == "2026-Q3" and period_label(parse_period("2026-11")) == "2026-11"
    for bad in ("2026-Q5", "2026-13", "Q3", "2026"):
        with pytest.raises(ValueError, match="expected a quarter"):
            parse_period(bad)


def test_a_review_refuses_a_period_that_is_not_a_month_or_quarter(demo_engine):
    with pytest.raises(ValueError, match="calendar month or quarter"):
        build_review(demo_engine, Filters(Period(date(2026, 7, 3), date(2026, 8, 2))), Scope.everyone(), AS_OF)


# --------------------------------------------------------------------------------------------- demo oracles


def test_headline_bookings_previous_and_plan_match_pandas(q3_review, demo_frames):
    opps = demo_frames["opportunity"]
    bookings, before = _won(opps, Q3)["amount"].sum(), _won(opps, Q3.previous())["amount"].sum()
    quota = _quota(demo_frames, Q3)["amount"].sum()
    rows = q3_review.section("headline").frame.set_index("kpi")
    assert rows.loc["Bookings", "value"] == pytest.approx(bookings)
    assert rows.loc["Bookings", "previous"] == pytest.approx(before)  # Q3 is over: the whole of Q2
    assert rows.loc["Bookings", "change"] == pytest.approx(bookings - before)
    assert rows.loc["Bookings", "plan"] == pytest.approx(quota)
    assert rows.loc["Bookings", "vs_plan"] == pytest.approx(bookings - quota)
    assert rows.loc["Quota attainment", "value"] == pytest.approx(bookings / quota)
    assert rows.loc["Quota attainment", "plan"] == 1.0
    assert rows.loc["Deals lost", "value"] == len(_lost(opps, Q3))
    assert rows.loc["Win rate", "value"] == pytest.approx(len(_won(opps, Q3)) / (len(_won(opps, Q3)) + len(_lost(opps, Q3))))
    assert pd.isna(rows.loc["Deals won", "plan"])


def test_top_performers_are_the_reps_with_most_bookings(q3_review, demo_frames):
    people = demo_frames["person"].set_index("id")["name"]
    by_rep = _won(demo_frames["opportunity"], Q3).groupby("owner_id")["amount"].sum().sort_values(ascending=False)
    frame = q3_review.section("top_performers").frame
    assert list(frame["rep"]) == [people[i] for i in by_rep.index[:TOP]]
    assert list(frame["bookings"]) == pytest.approx(list(by_rep.iloc[:TOP]))
    assert list(frame["rank"]) == list(range(1, TOP + 1))


def test_biggest_wins_and_largest_losses_are_the_largest_deals(q3_review, demo_frames, demo_engine):
    opps = demo_frames["opportunity"]
    wins = q3_review.section("biggest_wins").frame
    assert list(wins["amount"]) == list(_won(opps, Q3)["amount"].nlargest(TOP))
    losses = q3_review.section("largest_losses").frame
    lost = _lost(opps, Q3).sort_values(["amount", "id"], ascending=[False, True]).head(TOP)
    assert list(losses["name"]) == list(lost["name"])
    hist = read_frame(demo_engine, sa.select(schema.opportunity_history))
    last_open = hist[~hist["is_closed"].astype(bool)].sort_values(["changed_at", "id"]).groupby("opportunity_id")["stage"].last()
    assert list(losses["lost_at_stage"]) == [last_open[i] for i in lost["id"]]
    assert "Closed Lost" not in set(losses["lost_at_stage"])


def test_teams_ahead_and_behind_split_on_attainment_of_a_finished_period(q3_review, demo_frames):
    team_of = demo_frames["person"].set_index("id")["team_id"]
    names = demo_frames["team"].set_index("id")["name"]
    won = _won(demo_frames["opportunity"], Q3)
    bookings = won.groupby(won["owner_id"].map(team_of))["amount"].sum()
    quota = _quota(demo_frames, Q3)
    quota = quota.groupby(quota["person_id"].map(team_of))["amount"].sum()
    attainment = (bookings.reindex(quota.index, fill_value=0) / quota)[quota > 0]
    ahead, behind = q3_review.section("teams_ahead").frame, q3_review.section("teams_behind").frame
    assert set(ahead["team"]) == {names[t] for t in attainment[attainment >= 1].index}
    assert set(behind["team"]) == {names[t] for t in attainment[attainment < 1].index}
    got = pd.concat([ahead, behind]).set_index("team")["attainment"]
    assert got.to_dict() == pytest.approx({names[t]: v for t, v in attainment.items()})
    assert list(behind["pacing_attainment"]) == sorted(behind["pacing_attainment"])


def test_next_period_coverage_matches_pandas(q3_review, demo_frames):
    q4 = next_period(Q3)
    opps = demo_frames["opportunity"]
    open_q4 = opps[~opps["is_closed"].astype(bool) & _in(opps, "close_date", q4)]["amount"].sum()
    remaining = max(_quota(demo_frames, q4)["amount"].sum() - _won(opps, q4)["amount"].sum(), 0)
    total = q3_review.section("next_coverage").frame.iloc[0]
    assert total["team"] == "All in view"
    assert total["open_pipeline"] == pytest.approx(open_q4)
    assert total["coverage"] == pytest.approx(open_q4 / remaining)


def test_history_sections_are_computed_on_the_demo(q3_review):
    steps = q3_review.section("pipeline_change").frame
    assert steps["amount"].iloc[0] + steps["amount"].iloc[1:-1].sum() == pytest.approx(steps["amount"].iloc[-1])
    accuracy = q3_review.section("forecast_accuracy").frame
    assert list(accuracy["period_end"])[-1] == Q3.end and len(accuracy) == 4


def test_a_managers_review_holds_only_their_subtree(demo_engine, demo_frames):
    people = demo_frames["person"]
    manager = int(people.loc[people["role"] == "manager", "id"].iloc[0])
    below, frontier = {manager}, {manager}
    while frontier:
        frontier = set(people.loc[people["manager_id"].isin(frontier), "id"]) - below
        below |= frontier
    names = set(people.loc[people["id"].isin(below), "name"])
    review = build_review(demo_engine, Filters(Q3), Scope.subtree(manager), AS_OF)
    for key in ("biggest_wins", "largest_losses", "slipped_deals"):
        assert set(review.section(key).frame["owner"]) <= names
    assert set(review.section("top_performers").frame["rep"]) <= names
    won = _won(demo_frames["opportunity"], Q3)
    bookings = won[won["owner_id"].isin(below)]["amount"].sum()
    assert review.section("headline").frame.set_index("kpi").loc["Bookings", "value"] == pytest.approx(bookings)


# --------------------------------------------------------------------------------------------- tiny warehouses

JAN = parse_period("2026-01")
PEOPLE = [
    {"id": 1, "name": "Lea Leader", "role": "leader", "manager_id": None, "team_id": None, "active": True, "ramp_months": 0},
    {"id": 2, "name": "Rita Rep", "role": "rep", "manager_id": 1, "team_id": 1, "active": True, "ramp_months": 0},
    {"id": 3, "name": "Sam Seller", "role": "rep", "manager_id": 1, "team_id": 2, "active": True, "ramp_months": 0},
]
TEAMS = [{"id": 1, "name": "Winners", "manager_id": 1}, {"id": 2, "name": "Mixed", "manager_id": 1}]
QUOTAS = [
    {"id": 1, "person_id": 2, "month": date(2026, 1, 1), "amount": 100.0, "quota_type": "bookings", "is_ramped": False},
    {"id": 2, "person_id": 3, "month": date(2026, 1, 1), "amount": 400.0, "quota_type": "bookings", "is_ramped": False},
]


def _deal(oid: int, owner: int, stage: str, amount: float, close: date) -> dict:
    closed, won = stage.startswith("Closed"), stage == "Closed Won"
    return {
        "id": oid,
        "name": f"Deal {oid}",
        "owner_id": owner,
        "amount": amount,
        "stage": stage,
        "probability": 100 if won else 0,
        "forecast_category": "Closed" if won else "Omitted",
        "created_date": date(2025, 12, 1),
        "close_date": close,
        "is_closed": closed,
        "is_won": won,
    }


@pytest.fixture
def no_history(tiny_engine):
    deals = [
        _deal(1, 2, "Closed Won", 150.0, date(2026, 1, 10)),  # Winners: won 150 of 100, no loss
        _deal(2, 3, "Closed Won", 100.0, date(2026, 1, 12)),  # Mixed: won 100 of 400, lost 80
        _deal(3, 3, "Closed Lost", 80.0, date(2026, 1, 20)),
    ]
    return tiny_engine(person=PEOPLE, team=TEAMS, stage=stage_rows(), opportunity=deals, quota=QUOTAS)


def test_without_history_the_history_sections_say_needs_history_not_zeros(no_history):
    review = build_review(no_history, Filters(JAN), Scope.everyone(), date(2026, 3, 1))
    for key in ("pipeline_change", "slipped_deals", "forecast_accuracy"):
        section = review.section(key)
        assert section.needs_history and section.frame is None
        assert section.note.startswith("Needs history")
    losses = review.section("largest_losses").frame
    assert list(losses["amount"]) == [80.0] and losses["lost_at_stage"].isna().all()


def test_a_team_with_no_losses_has_none_and_the_rest_still_adds_up(no_history):
    review = build_review(no_history, Filters(JAN), Scope.only(2), date(2026, 3, 1))
    assert review.section("largest_losses").frame.empty
    assert list(review.section("biggest_wins").frame["name"]) == ["Deal 1"]
    assert list(review.section("teams_ahead").frame["team"]) == ["Winners"]
    assert review.section("teams_behind").frame.empty
    rows = review.section("headline").frame.set_index("kpi")
    assert rows.loc["Deals lost", "value"] == 0 and rows.loc["Win rate", "value"] == 1.0


def test_a_reps_review_holds_only_their_own_deals(no_history):
    review = build_review(no_history, Filters(JAN), Scope.only(3), date(2026, 3, 1))
    assert set(review.section("biggest_wins").frame["owner"]) == {"Sam Seller"}
    assert set(review.section("largest_losses").frame["owner"]) == {"Sam Seller"}
    assert list(review.section("top_performers").frame["rep"]) == ["Sam Seller"]
    assert list(review.section("teams_behind").frame["attainment"]) == [0.25]


def test_flagged_reps_are_those_under_half_their_quota(q3_review, demo_frames):
    won = _won(demo_frames["opportunity"], Q3).groupby("owner_id")["amount"].sum()
    quota = _quota(demo_frames, Q3).groupby("person_id")["amount"].sum()
    attainment = won.reindex(quota.index, fill_value=0) / quota
    names = demo_frames["person"].set_index("id")["name"]
    flagged = q3_review.section("flagged_reps").frame
    assert set(flagged["rep"]) == {names[i] for i in attainment[(quota > 0) & (attainment < 0.5)].index}
    assert list(flagged["attainment"]) == sorted(flagged["attainment"])  # a finished period: pace = attainment


# --------------------------------------------------------------------------------------------- loss reasons


def test_losses_by_reason_match_a_pandas_oracle_on_the_demo(q3_review, demo_frames):
    lost = _lost(demo_frames["opportunity"], Q3)
    reasons = lost["loss_reason"].astype("object").where(lost["loss_reason"].notna(), "Not recorded")
    oracle = lost.assign(loss_reason=reasons).groupby("loss_reason")["amount"].agg(["size", "sum"])
    frame = q3_review.section("losses_by_reason").frame.set_index("loss_reason")
    assert set(frame.index) == set(oracle.index) and "Not recorded" in frame.index and len(frame) >= 5
    assert frame["deals"].to_dict() == oracle["size"].to_dict()
    assert frame["amount"].to_dict() == pytest.approx(oracle["sum"].to_dict())
    assert frame["share"].sum() == pytest.approx(1.0)
    assert list(frame["amount"]) == sorted(frame["amount"], reverse=True)
    deals_lost = q3_review.section("headline").frame.set_index("kpi").loc["Deals lost", "value"]
    assert frame["deals"].sum() == deals_lost
    top = q3_review.section("largest_losses").frame
    by_name = lost.assign(loss_reason=reasons).set_index("name")["loss_reason"]
    assert list(top["loss_reason"]) == [by_name[n] for n in top["name"]]


def test_reasons_are_trimmed_blank_is_not_recorded_and_scope_holds(tiny_engine):
    deals = [
        {**_deal(1, 2, "Closed Lost", 50.0, date(2026, 1, 10)), "loss_reason": "Price"},
        {**_deal(2, 3, "Closed Lost", 30.0, date(2026, 1, 11)), "loss_reason": " Price "},
        {**_deal(3, 3, "Closed Lost", 20.0, date(2026, 1, 12)), "loss_reason": "  "},
        {**_deal(4, 3, "Closed Lost", 100.0, date(2026, 1, 13)), "loss_reason": "Competitor"},
        {**_deal(5, 3, "Closed Won", 999.0, date(2026, 1, 14)), "loss_reason": "Price"},  # won: not a loss
        {**_deal(6, 3, "Closed Lost", 70.0, date(2026, 2, 14)), "loss_reason": "Price"},  # another month
    ]
    engine = tiny_engine(person=PEOPLE, team=TEAMS, stage=stage_rows(), opportunity=deals, quota=QUOTAS)
    everyone = build_review(engine, Filters(JAN), Scope.everyone(), date(2026, 3, 1)).section("losses_by_reason").frame
    assert everyone.to_dict("list") == {
        "loss_reason": ["Competitor", "Price", "Not recorded"], "deals": [1, 2, 1], "amount": [100.0, 80.0, 20.0],
        "share": pytest.approx([0.5, 0.4, 0.1]),
    }
    ritas = build_review(engine, Filters(JAN), Scope.only(2), date(2026, 3, 1)).section("losses_by_reason").frame
    assert ritas.to_dict("list") == {"loss_reason": ["Price"], "deals": [1], "amount": [50.0], "share": [1.0]}


def test_a_warehouse_from_before_loss_reasons_reads_not_recorded(no_history):
    with no_history.begin() as conn:
        conn.execute(sa.text("ALTER TABLE opportunity DROP COLUMN loss_reason"))
    review = build_review(no_history, Filters(JAN), Scope.everyone(), date(2026, 3, 1))
    assert review.section("losses_by_reason").frame.to_dict("list") == {
        "loss_reason": ["Not recorded"], "deals": [1], "amount": [80.0], "share": [1.0]
    }
    assert list(review.section("largest_losses").frame["loss_reason"]) == ["Not recorded"]
