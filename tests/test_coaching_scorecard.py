"""Rep scorecards: hand-worked on a tiny organisation (a mid-period joiner, personal targets, the quota
as target, ties), a row-by-row oracle for the formula, and the admin's settings."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from coaching_support import AFTER_Q1, IN_Q1, NINA, PEOPLE, Q1, RITA, ROB, SAM, STAGE_ROWS, TEAMS, activities, deal

from spm_core.coaching.scorecard import months_present, score, scorecard
from spm_core.coaching.scorecard_settings import (
    DEFAULT_COMPONENTS,
    Component,
    ScorecardError,
    load_components,
    load_targets,
    save_components,
    set_target,
)
from spm_core.filters import Scope

FEB = date(2026, 2, 20)
ACTIVITY = [
    *activities(RITA, "call", FEB, 3, 1),
    *activities(ROB, "call", FEB, 1, 10),
    *activities(NINA, "call", date(2026, 3, 2), 6, 20),
    *activities(SAM, "call", FEB, 2, 30),
]
DEALS = [deal(1, RITA, 100, "Closed Won", date(2026, 1, 5), date(2026, 2, 1))]
QUOTA = [
    {"id": i, "person_id": RITA, "month": date(2026, m, 1), "amount": 100.0, "quota_type": "bookings", "is_ramped": False}
    for i, m in enumerate((1, 2, 3))
]
CALLS_AND_WINS = (Component("calls", 0.5, 2.0), Component("deals_won", 0.5, 1.0))


@pytest.fixture
def tiny(tiny_engine):
    return tiny_engine(person=PEOPLE, team=TEAMS, stage=STAGE_ROWS, activity=ACTIVITY, opportunity=DEALS, quota=QUOTA)


def by_rep(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("rep_id")


def test_scores_by_hand_with_a_mid_period_joiner(tiny):
    got = by_rep(scorecard(tiny, IN_Q1, Scope.everyone(), AFTER_Q1, CALLS_AND_WINS, load_targets(tiny)))
    # Rita: calls 3 / (2 x 3 months) = 0.5 -> 25 points; won 1 / 3 -> 16.67 points
    assert got.at[RITA, "calls_points"] == pytest.approx(25.0)
    assert got.at[RITA, "score"] == pytest.approx(25 + 50 / 3)
    # Nina joined 15 Feb: 14/28 of February + March = 1.5 months; 6 calls / 3 = 2, capped at 1.5 -> 75
    assert got.at[NINA, "months_present"] == pytest.approx(1.5)
    assert got.at[NINA, "calls_target"] == pytest.approx(3.0)
    assert got.at[NINA, "calls_ratio"] == 1.5 and got.at[NINA, "score"] == pytest.approx(75.0)
    # Rob 1/6 of his calls -> 8.33; Sam 2/6 -> 16.67
    assert got.at[ROB, "score"] == pytest.approx(50 / 6) and got.at[SAM, "score"] == pytest.approx(50 / 3)
    assert list(got.index) == [NINA, RITA, SAM, ROB]  # best first


def test_tied_scores_are_listed_by_name(tiny):
    calls_only = (Component("calls", 1.0, 1.0, cap=1.0),)  # Rita 3/3 and Nina 6/1.5 (capped) both score 100
    got = scorecard(tiny, IN_Q1, Scope.everyone(), AFTER_Q1, calls_only, load_targets(tiny))
    assert got["rep"].tolist()[:2] == ["Nina New", "Rita Rep"]  # both capped at 100, by name
    assert got["score"].tolist()[:2] == [100.0, 100.0]


def test_a_personal_target_overrides_the_default(tiny_engine):
    engine = tiny_engine(person=PEOPLE, team=TEAMS, stage=STAGE_ROWS, activity=ACTIVITY)
    set_target(engine, ROB, "calls", 5.0)
    set_target(engine, ROB, "calls", 1.0)  # replaces the 5
    got = by_rep(scorecard(engine, IN_Q1, Scope.everyone(), AFTER_Q1, CALLS_AND_WINS))
    assert got.at[ROB, "calls_target"] == 3.0 and got.at[ROB, "calls_points"] == pytest.approx(50 / 3)
    assert got.at[SAM, "calls_target"] == 6.0


def test_bookings_against_quota_and_no_score_without_any_target(tiny):
    bookings = (Component("bookings", 1.0, None),)
    got = by_rep(scorecard(tiny, IN_Q1, Scope.everyone(), AFTER_Q1, bookings, load_targets(tiny)))
    assert got.at[RITA, "bookings_target"] == 300.0 and got.at[RITA, "score"] == pytest.approx(100 / 3)
    assert math.isnan(got.at[ROB, "score"])  # no quota, no target: no score rather than 0
    assert list(got.index)[-1] in (NINA, ROB, SAM)


def test_a_component_without_target_is_left_out_and_the_rest_rescaled(tiny):
    mixed = (Component("calls", 0.5, 2.0), Component("bookings", 0.5, None))
    got = by_rep(scorecard(tiny, IN_Q1, Scope.everyone(), AFTER_Q1, mixed, load_targets(tiny)))
    assert got.at[ROB, "score"] == pytest.approx(100 / 6)  # calls only, weight 1: 1/6
    assert math.isnan(got.at[ROB, "bookings_points"])


def test_a_rep_sees_only_their_own_card_and_an_empty_team_none(tiny, tiny_engine):
    assert scorecard(tiny, IN_Q1, Scope.only(ROB), AFTER_Q1, CALLS_AND_WINS)["rep_id"].tolist() == [ROB]
    assert scorecard(tiny_engine(person=PEOPLE[:2]), IN_Q1, Scope.everyone(), AFTER_Q1, CALLS_AND_WINS).empty


def test_months_present():
    hired = pd.Series([None, date(2026, 2, 15), date(2026, 4, 1), date(2025, 1, 1)])
    assert months_present(hired, Q1).tolist() == pytest.approx([3.0, 1.5, 0.0, 3.0])


def test_the_formula_against_a_row_by_row_oracle():
    rng = np.random.default_rng(5)
    components = (Component("calls", 0.2, 1.0), Component("meetings", 0.3, 1.0, cap=1.2), Component("bookings", 0.5, None))
    kpis = [c.kpi for c in components]
    actuals = pd.DataFrame(rng.integers(0, 20, (40, 3)).astype(float), columns=kpis)
    targets = pd.DataFrame(rng.integers(0, 12, (40, 3)).astype(float), columns=kpis)  # zeros: no target
    got = score(actuals, targets, components)
    for i in range(40):
        present = [c for c in components if targets.at[i, c.kpi] > 0]
        total_weight = sum(c.weight for c in present)
        expected = sum(c.weight / total_weight * min(actuals.at[i, c.kpi] / targets.at[i, c.kpi], c.cap) * 100 for c in present)
        if present:
            assert got.at[i, "score"] == pytest.approx(expected)
        else:
            assert math.isnan(got.at[i, "score"])


def test_settings_round_trip_and_defaults(tiny_engine):
    engine = tiny_engine()
    assert load_components(engine) == DEFAULT_COMPONENTS
    mine = (Component("demos", 0.25, 4.0, 2.0), Component("bookings", 0.75, None))
    save_components(engine, mine)
    assert set(load_components(engine)) == set(mine)


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ((Component("calls", 0.5, 1.0),), "add up to 100 %; they add up to 50.0%"),
        ((Component("calls", 1.0, None),), "Calls needs a monthly target"),
        ((Component("win_rate", 1.0, 1.0),), "cannot be scored"),
        ((Component("calls", 0.5, 1.0), Component("calls", 0.5, 1.0)), "once"),
        ((Component("calls", 1.0, 1.0, cap=0),), "cap of Calls"),
        ((Component("calls", 1.0, -2.0),), "monthly target of Calls"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(tiny_engine, components, message):
    with pytest.raises(ScorecardError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        save_components(tiny_engine(), components)


def test_a_personal_target_goes_back_to_the_default(tiny_engine):
    engine = tiny_engine()
    set_target(engine, ROB, "calls", 4.0)
    set_target(engine, ROB, "calls", None)
    assert load_targets(engine).empty
    with pytest.raises(ScorecardError, match="more than 0"):
        set_target(engine, ROB, "calls", 0.0)
