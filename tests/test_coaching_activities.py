"""Activities per rep vs the team median, trend and activity-to-outcome ratios: hand-worked on a tiny
organisation, and against a pandas oracle on the demo warehouse."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from coaching_support import (
    AFTER_Q1,
    IN_Q1,
    NINA,
    PEOPLE,
    RITA,
    ROB,
    SAM,
    STAGE_ROWS,
    TEAMS,
    activities,
    deal,
)
from conftest import DEMO_SPEC

from spm_core.coaching.activities import activity_list, rep_activity, team_ratios, weekly
from spm_core.filters import Filters, Period, Scope

FEB = date(2026, 2, 10)
ACTIVITY = [
    *activities(RITA, "call", FEB, 3, 1),
    *activities(RITA, "email", FEB, 1, 10),
    *activities(RITA, "meeting", FEB, 2, 20),
    *activities(RITA, "call", date(2025, 11, 5), 4, 30),  # Q4 2025: Rita's baseline is 4
    *activities(ROB, "call", FEB, 1, 40),
    *activities(ROB, "demo", FEB, 1, 50),
    *activities(SAM, "call", FEB, 2, 60),
]
DEALS = [
    deal(1, RITA, 100, "Closed Won", date(2026, 1, 5), date(2026, 2, 1)),
    deal(2, RITA, 50, "Prospecting", date(2026, 1, 20), date(2026, 5, 1)),
    deal(3, ROB, 70, "Qualification", date(2026, 3, 1), date(2026, 5, 1)),
]


@pytest.fixture
def tiny(tiny_engine):
    return tiny_engine(person=PEOPLE, team=TEAMS, stage=STAGE_ROWS, activity=ACTIVITY, opportunity=DEALS)


def test_counts_medians_trend_and_ratios_by_hand(tiny):
    got = rep_activity(tiny, IN_Q1, Scope.everyone(), AFTER_Q1).set_index("rep_id")
    assert got.loc[[NINA, RITA, ROB, SAM], "rep"].tolist() == ["Nina New", "Rita Rep", "Rob Rep", "Sam Sibling"]
    # Rita 3+1+2 = 6, Rob 1+1 = 2, Nina (joined mid-quarter, nothing yet) 0: team one's median is 2
    assert got.loc[[RITA, ROB, NINA], "activities"].tolist() == [6, 2, 0]
    assert got.loc[[RITA, ROB, NINA], "activities_median"].tolist() == [2.0, 2.0, 2.0]
    assert got.at[RITA, "calls_median"] == 1.0  # calls 3, 1, 0
    assert got.at[SAM, "activities_median"] == 2.0  # alone in team two
    # trend: Rita 6 against 4 in Q4 2025 = +50 %; Rob had none then: no trend rather than infinity
    assert got.at[RITA, "activities_change"] == pytest.approx(0.5)
    assert math.isnan(got.at[ROB, "activities_change"])
    # Rita: 2 meetings / 1 won = 2; 3 calls / 2 created = 1.5. Rob: no won deal: no ratio; 1 call / 1 created
    assert got.at[RITA, "meetings_per_won"] == 2.0 and got.at[RITA, "calls_per_created"] == 1.5
    assert math.isnan(got.at[ROB, "meetings_per_won"]) and got.at[ROB, "calls_per_created"] == 1.0


def test_team_ratios_are_sums_over_the_team(tiny):
    got = team_ratios(tiny, IN_Q1, {1}, AFTER_Q1)
    assert got["team"].tolist() == ["Team One"]
    assert got.at[0, "meetings_per_won"] == 2.0  # 2 meetings / 1 won
    assert got.at[0, "calls_per_created"] == pytest.approx(4 / 3)  # (3 + 1 + 0) calls / 3 created


def test_a_rep_sees_only_their_row_but_the_median_is_the_teams(tiny):
    got = rep_activity(tiny, IN_Q1, Scope.only(ROB), AFTER_Q1)
    assert got["rep_id"].tolist() == [ROB]
    assert got.at[0, "activities_median"] == 2.0


def test_filtering_to_one_rep_keeps_the_whole_team_median(tiny):
    got = rep_activity(tiny, Filters(IN_Q1.period, reps=frozenset({RITA})), Scope.everyone(), AFTER_Q1)
    assert got["rep_id"].tolist() == [RITA] and got.at[0, "activities_median"] == 2.0


def test_the_activity_list_never_leaves_the_viewers_scope(tiny):
    assert len(activity_list(tiny, IN_Q1, Scope.everyone(), RITA)) == 6
    assert activity_list(tiny, IN_Q1, Scope.only(ROB), RITA).empty
    assert set(activity_list(tiny, IN_Q1, Scope.only(ROB), ROB)["type"]) == {"call", "demo"}


def test_weekly_counts_add_up_to_the_period(tiny):
    got = weekly(tiny, IN_Q1, Scope.everyone(), RITA, AFTER_Q1)
    assert got.groupby("type")["count"].sum().to_dict() == {"calls": 3, "demos": 0, "emails": 1, "meetings": 2}


def test_an_empty_team_gives_no_rows(tiny_engine):
    assert rep_activity(tiny_engine(person=PEOPLE[:2]), IN_Q1, Scope.everyone(), AFTER_Q1).empty


def test_against_a_pandas_oracle_on_the_demo(demo_engine, demo_frames):
    period = Period.quarter(date(2026, 8, 1))  # over by the demo's today: the trend is the whole Q2
    got = rep_activity(demo_engine, Filters(period), Scope.everyone(), DEMO_SPEC.as_of).set_index("rep_id")

    people, acts, opps = demo_frames["person"], demo_frames["activity"], demo_frames["opportunity"]
    reps = people[people["role"] == "rep"].set_index("id")
    day = pd.to_datetime(acts["activity_date"])

    def counts(start, end) -> pd.DataFrame:
        inside = acts[(day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))]
        table = pd.crosstab(inside["person_id"], inside["activity_type"]).reindex(reps.index, fill_value=0)
        return table.assign(total=table.sum(axis=1))

    now, before = counts(period.start, period.end), counts(date(2026, 4, 1), date(2026, 6, 30))
    assert got.index.sort_values().tolist() == reps.index.sort_values().tolist()
    for kind, column in (("call", "calls"), ("email", "emails"), ("meeting", "meetings"), ("demo", "demos")):
        assert got[column].to_dict() == now[kind].to_dict()
    median = now["total"].groupby(reps["team_id"]).median()
    assert got["activities_median"].to_dict() == reps["team_id"].map(median).to_dict()
    assert got["activities_before"].to_dict() == before["total"].to_dict()

    close = pd.to_datetime(opps["close_date"])
    won = opps[opps["is_won"] & (close >= pd.Timestamp(period.start)) & (close <= pd.Timestamp(period.end))]
    won_by_rep = won.groupby("owner_id").size().reindex(reps.index, fill_value=0)
    expected = (now["meeting"] / won_by_rep.where(won_by_rep > 0)).dropna()
    assert got["meetings_per_won"].dropna().round(9).to_dict() == expected.round(9).to_dict()
