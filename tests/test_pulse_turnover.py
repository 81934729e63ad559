"""Turnover risk beside eNPS (spm_core.pulse.turnover): the at-risk rule and the group levels, worked out by
hand on the pulse test organisation, with "Other" counting the reps of the groups not shown."""

from __future__ import annotations

from datetime import date

import pytest

from spm_core.filters import Period, Scope
from spm_core.pulse import enps, turnover
from spm_core.pulse.anonymity import OTHER
from tests.test_pulse import NOV, PEOPLE, RESPONSES, TEAMS

TODAY = date(2026, 11, 30)  # Q4 is not over: the two complete quarters are Q2 and Q3 2026
MONTHLY_QUOTA = 10_000.0
Q2_MONTHS = (date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1))
Q3_MONTHS = (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1))
# Attainment (Q2, Q3) of quota 30,000 a quarter; every other rep books 100 % in both.
#  team 1: rep 10 at 50 % then 60 % (at risk); rep 11 at 50 % then 80 % (recovered: not at risk)
#  team 2: rep 20 at 40 % twice (at risk)
#  team 3: reps 31-33 at 0 % twice (at risk); rep 30 also at 0 % but hired in May (ramping: left out);
#          rep 34 has no quota (nothing to miss: left out)
MISSES = {10: (0.5, 0.6), 11: (0.5, 0.8), 20: (0.4, 0.4), 30: (0.0, 0.0), 31: (0.0, 0.0), 32: (0.0, 0.0), 33: (0.0, 0.0)}
REPS = [p["id"] for p in PEOPLE if p["role"] == "rep"]


def _deal(did: int, owner: int, amount: float, close: date) -> dict:
    return {"id": did, "owner_id": owner, "amount": amount, "stage": "Closed Won", "probability": 100,
            "forecast_category": "Closed", "created_date": date(2026, 1, 5), "close_date": close,
            "is_closed": True, "is_won": True}


def _rows() -> tuple[list[dict], list[dict]]:
    quotas, deals = [], []
    for rep in REPS:
        if rep != 34:
            quotas += [{"id": len(quotas) + i, "person_id": rep, "month": m, "amount": MONTHLY_QUOTA,
                        "quota_type": "bookings", "is_ramped": False} for i, m in enumerate((*Q2_MONTHS, *Q3_MONTHS), 1)]
        q2, q3 = MISSES.get(rep, (1.0, 1.0))
        for share, close in ((q2, date(2026, 5, 15)), (q3, date(2026, 8, 15))):
            if share:
                deals.append(_deal(len(deals) + 1, rep, 3 * MONTHLY_QUOTA * share, close))
    return quotas, deals


@pytest.fixture
def risk_engine(tiny_engine):
    people = [{**p, "hire_date": date(2026, 5, 1)} if p["id"] == 30 else p for p in PEOPLE]
    quotas, deals = _rows()
    return tiny_engine(person=people, team=TEAMS, survey_response=RESPONSES, quota=quotas, opportunity=deals)


def test_the_two_complete_quarters_before_a_day():
    assert turnover.last_complete_quarters(date(2026, 11, 30)) == (Period.quarter(date(2026, 4, 1)), Period.quarter(date(2026, 7, 1)))
    # on a quarter's last day that quarter is complete
    assert turnover.last_complete_quarters(date(2026, 9, 30)) == (Period.quarter(date(2026, 4, 1)), Period.quarter(date(2026, 7, 1)))
    assert turnover.last_complete_quarters(date(2026, 1, 1)) == (Period.quarter(date(2025, 7, 1)), Period.quarter(date(2025, 10, 1)))


def test_a_rep_is_at_risk_after_two_quarters_in_a_row_below_the_line(risk_engine):
    reps = turnover.reps_at_risk(risk_engine, NOV, TODAY, Scope.everyone()).set_index("person_id")
    assert sorted(reps.index[reps["at_risk"]]) == [10, 20, 31, 32, 33]
    assert reps.loc[10, "older_attainment"] == pytest.approx(0.5) and reps.loc[10, "latest_attainment"] == pytest.approx(0.6)
    assert not reps.loc[11, "at_risk"]  # recovered to 80 % in Q3
    assert reps.loc[30, "hired_in_window"] and not reps.loc[30, "at_risk"]  # missed, but hired in May
    assert reps[["older_attainment", "latest_attainment"]].loc[34].isna().all() and not reps.loc[34, "at_risk"]
    assert set(reps.index) == set(REPS)  # reps only: managers and the leader are not counted


def test_a_managers_scope_sees_only_their_reps(risk_engine):
    reps = turnover.reps_at_risk(risk_engine, NOV, TODAY, Scope.subtree(2))
    assert sorted(reps["person_id"]) == list(range(10, 15))
    assert turnover.reps_at_risk(risk_engine, NOV, TODAY, Scope.only(20))["person_id"].tolist() == [20]


def test_levels_beside_enps_with_other_counting_the_hidden_groups(risk_engine):
    scope = Scope.subtree(1)
    pulse = enps.pulse(risk_engine, NOV, scope, by="team")
    out = turnover.beside_enps(pulse, turnover.reps_at_risk(risk_engine, NOV, TODAY, scope), "team").set_index("group")
    # Team 3: 10 reps, 30 (ramping) and 34 (no quota) left out: 3 of 8 at risk = 37.5 % >= 1/3: High (eNPS -60 too).
    assert (out.loc["Team 3", "reps_counted"], out.loc["Team 3", "reps_at_risk"]) == (8, 3)
    assert out.loc["Team 3", "at_risk_share"] == pytest.approx(3 / 8) and out.loc["Team 3", "turnover_risk"] == "High"
    # Other = teams 1 and 2 (merged for anonymity): 9 reps, 10 and 20 at risk: 2/9 = 22 % >= 1/6: Medium
    # (its eNPS is +22, no signal).
    assert (out.loc[OTHER, "reps_counted"], out.loc[OTHER, "reps_at_risk"]) == (9, 2)
    assert out.loc[OTHER, "turnover_risk"] == "Medium"
    assert "Team 1" not in out.index and "Team 2" not in out.index


def test_a_team_shown_on_its_own_gets_its_own_figure(risk_engine):
    scope = Scope.subtree(2)  # Ann: team 1 alone, 5 responses, eNPS 0
    pulse = enps.pulse(risk_engine, NOV, scope, by="team")
    row = turnover.beside_enps(pulse, turnover.reps_at_risk(risk_engine, NOV, TODAY, scope), "team").iloc[0]
    assert (row["group"], row["reps_counted"], row["reps_at_risk"]) == ("Team 1", 5, 1)
    assert row["turnover_risk"] == "Medium"  # 1/5 = 20 % >= 1/6; eNPS 0 is not below 0


def test_by_manager_uses_the_direct_manager(risk_engine):
    scope = Scope.subtree(1)
    pulse = enps.pulse(risk_engine, NOV, scope, by="manager")
    out = turnover.beside_enps(pulse, turnover.reps_at_risk(risk_engine, NOV, TODAY, scope), "manager").set_index("group")
    assert (out.loc["Cy Manager", "reps_counted"], out.loc["Cy Manager", "reps_at_risk"]) == (8, 3)
    with pytest.raises(ValueError, match="by team or manager"):
        turnover.beside_enps(pulse, turnover.reps_at_risk(risk_engine, NOV, TODAY, scope), "month")


@pytest.mark.parametrize(
    ("share", "score", "expected"),
    [
        (1 / 3, 50.0, "High"), (0.33, 50.0, "Medium"), (0.0, -20.0, "High"), (0.0, -19.9, "Medium"),
        (1 / 6, 10.0, "Medium"), (0.16, 0.0, "Low"), (None, None, "Low"), (None, -25.0, "High"), (0.5, None, "High"),
    ],
)
def test_level_boundaries(share, score, expected):
    assert turnover.level(share, score) == expected
