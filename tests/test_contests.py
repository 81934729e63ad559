"""Contests: scores (points per unit, % of a personal target), 1224 ranks with the change since yesterday,
race and elimination boards (a tie at the cut), team contests, participants and who sees what."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from coaching_support import MANAGER, NINA, OLGA, PEOPLE, RITA, ROB, SAM, STAGE_ROWS, TEAMS, activities, deal

from spm_core.contests.badges import BIGGEST, FIRST_OF_MONTH, STREAK
from spm_core.contests.model import Contest, ContestError, MetricRule, load, occurrence, participants, save, visible
from spm_core.contests.scoring import board, eliminated, points
from spm_core.filters import Period, Scope

MAR1, MAR4, MAR5 = date(2026, 3, 1), date(2026, 3, 4), date(2026, 3, 5)
DEALS = [
    deal(1, RITA, 50, "Closed Won", date(2026, 1, 5), MAR1),
    deal(2, RITA, 50, "Closed Won", date(2026, 1, 5), MAR1),
    deal(3, ROB, 100, "Closed Won", date(2026, 1, 5), MAR5),
    deal(4, SAM, 30, "Closed Won", date(2026, 1, 5), MAR5),
    deal(5, SAM, 999, "Closed Won", date(2026, 1, 5), date(2026, 2, 27)),  # before the window
    deal(6, SAM, 10, "Closed Won", date(2026, 1, 5), date(2026, 2, 18)),  # Sam wins in 3 weeks running
]
WON_AND_BOOKED = (MetricRule("deals_won", 10), MetricRule("bookings", 0.1))
MARCH = Contest("March madness", MAR1, date(2026, 3, 31), "individual", "ranked", WON_AND_BOOKED)


@pytest.fixture
def tiny(tiny_engine):
    calls = [*activities(RITA, "call", MAR1, 5, 1), *activities(ROB, "call", MAR1, 8, 10)]
    return tiny_engine(person=PEOPLE, team=TEAMS, stage=STAGE_ROWS, opportunity=DEALS, activity=calls)


def test_scores_ranks_and_change_since_yesterday_by_hand(tiny):
    got = board(tiny, MARCH, MAR5)
    # Rita 2 x 10 + 100 x 0.1 = 30; Rob 10 + 10 = 20; Sam 10 + 3 = 13 (his February deal is outside); Nina 0
    assert got.index.tolist() == [RITA, ROB, SAM, NINA]
    assert got["score"].tolist() == pytest.approx([30, 20, 13, 0])
    assert got["rank"].tolist() == [1, 2, 3, 4]
    # yesterday: Rita 30, the three others 0, tied at rank 2 (1224): Rob stays 2nd, Sam 2 -> 3, Nina 2 -> 4
    assert got["change"].tolist() == [0, 0, -1, -2]
    yesterday = board(tiny, MARCH, MAR4)
    assert yesterday["rank"].tolist() == [1, 2, 2, 2] and yesterday.index.tolist() == [RITA, NINA, ROB, SAM]  # ties by name


def test_the_first_day_has_no_change_and_a_contest_with_no_activity_ties_everyone(tiny):
    first = board(tiny, MARCH, MAR1)
    assert first["change"].isna().all()
    quiet = Contest("Demos", MAR1, date(2026, 3, 31), "individual", "ranked", (MetricRule("demos", 5),))
    got = board(tiny, quiet, MAR5)
    assert (got["score"] == 0).all() and (got["rank"] == 1).all()


def test_points_per_percent_of_a_personal_target(tiny):
    calls = Contest("Calls", MAR1, date(2026, 3, 31), "individual", "ranked", (MetricRule("calls", 2, per_target=True),),
                    targets=((RITA, "calls", 10.0), (ROB, "calls", 40.0)))  # fmt: skip
    got = board(tiny, calls, MAR5)["score"]
    # Rita 5 of 10 = 50 % x 2 = 100; Rob 8 of 40 = 20 % x 2 = 40; no target: 0
    assert got[RITA] == 100 and got[ROB] == 40 and got[SAM] == 0


def test_a_recurring_contest_scores_the_current_round_only(tiny):
    weekly = Contest(**{**MARCH.__dict__, "recurring": "weekly"})
    got = board(tiny, weekly, MAR5)  # round Mon 2 - Sun 8 March: Rita's deals of Sun 1 March are last round's
    assert got["score"].to_dict() == pytest.approx({ROB: 20, SAM: 13, NINA: 0, RITA: 0})
    assert got.loc[RITA, "badges"] == (FIRST_OF_MONTH,)  # the month's first deal, whatever the round
    assert got.loc[ROB, "badges"] == (BIGGEST,)
    assert board(tiny, weekly, date(2026, 3, 2))["change"].isna().all()  # a round's first day: no change
    daily = board(tiny, Contest(**{**MARCH.__dict__, "recurring": "daily"}), MAR4)
    assert (daily["score"] == 0).all()  # nothing closed on 4 March
    assert occurrence(Contest(**{**MARCH.__dict__, "recurring": "monthly"}), date(2026, 4, 9)) == Period(MAR1, date(2026, 3, 31))


def test_a_race_shows_progress_to_the_target(tiny):
    race = Contest("Race", MAR1, date(2026, 3, 31), "individual", "race", WON_AND_BOOKED, target=25)
    got = board(tiny, race, MAR5)["progress"]
    assert got[RITA] == 1.0 and got[ROB] == pytest.approx(0.8)


def test_a_team_contest_sums_its_participants(tiny):
    teams = Contest("Teams", MAR1, date(2026, 3, 31), "team", "ranked", WON_AND_BOOKED)
    got = board(tiny, teams, MAR5)
    assert got["name"].tolist() == ["Team One", "Team Two"] and got["score"].tolist() == pytest.approx([50, 13])


def test_elimination_with_a_tie_at_the_cut():
    rounds = [
        pd.Series({1: 5.0, 2: 3.0, 3: 3.0, 4: 1.0}),  # 4 drops
        pd.Series({1: 6.0, 2: 4.0, 3: 4.0, 4: 9.0}),  # 2 and 3 tie at the cut: both stay (4 is out already)
        pd.Series({1: 7.0, 2: 5.0, 3: 6.0, 4: 9.0}),  # 2 drops
    ]
    assert eliminated(rounds, 1).tolist() == [pd.NA, 3, pd.NA, 1]
    # dropping two when the 2nd lowest ties with the 3rd: only the lowest drops
    assert eliminated(rounds[:1], 2).tolist() == [pd.NA, pd.NA, pd.NA, 1]


def test_an_elimination_board_counts_finished_rounds_only(tiny):
    elim = Contest("Elim", MAR1, date(2026, 3, 31), "individual", "elimination", WON_AND_BOOKED, eliminate=1, every_days=2)
    got = board(tiny, elim, MAR5)["out_in_round"]
    # rounds end 2 Mar (Rita 30, others 0: three tie at the cut, no one drops) and 4 Mar (the same); 6 Mar not yet
    assert got.isna().all()
    got = board(tiny, elim, date(2026, 3, 6))["out_in_round"]
    assert got[NINA] == 3 and got.drop(NINA).isna().all()  # round 3 ends 6 Mar: Nina (0) is last alone


def test_points_oracle():
    units = pd.DataFrame({"calls": [1, 0, 7], "bookings": [100.0, 0, 50]}, index=[1, 2, 3])
    targets = pd.DataFrame({"calls": [2.0, 4.0]}, index=[1, 3])
    got = points(units, (MetricRule("calls", 3, per_target=True), MetricRule("bookings", 0.5)), targets)
    assert got.tolist() == [3 * 50 + 50, 0, 3 * 175 + 25]


def test_a_managers_contest_draws_from_their_subtree_only(tiny):
    mine = save(tiny, MARCH, MANAGER, Scope.subtree(MANAGER))
    stored = next(c for c in load(tiny) if c.id == mine)
    assert set(participants(tiny, stored)["id"]) == {RITA, ROB, NINA}
    everyone = save(tiny, MARCH, 1, Scope.everyone())
    assert set(participants(tiny, next(c for c in load(tiny) if c.id == everyone))["id"]) == {RITA, ROB, NINA, SAM}
    with pytest.raises(ContestError, match="Only managers and admins"):
        save(tiny, MARCH, RITA, Scope.only(RITA))


def test_stored_contests_round_trip(tiny):
    full = Contest("Calls", MAR1, date(2026, 3, 31), "individual", "elimination", (MetricRule("calls", 2, per_target=True),),
                   teams=frozenset({1}), roles=frozenset({"rep", "manager"}), eliminate=1, every_days=7, prizes="A day off", recurring="weekly",
                   targets=((RITA, "calls", 10.0),))  # fmt: skip
    new_id = save(tiny, full, 1, Scope.everyone())
    (got,) = load(tiny)
    assert got == Contest(**{**full.__dict__, "id": new_id, "created_by": 1})


def test_who_sees_which_contest(tiny):
    save(tiny, MARCH, MANAGER, Scope.subtree(MANAGER))
    save(tiny, MARCH, OLGA, Scope.subtree(OLGA))
    contests = load(tiny)
    assert [c.scope_root for c in visible(tiny, contests, Scope.only(SAM), SAM, "rep")] == [OLGA]
    assert [c.scope_root for c in visible(tiny, contests, Scope.only(RITA), RITA, "rep")] == [MANAGER]
    assert [c.scope_root for c in visible(tiny, contests, Scope.subtree(MANAGER), MANAGER, "manager")] == [MANAGER]
    assert len(visible(tiny, contests, Scope.everyone(), None, "display")) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": " "}, "needs a name"),
        ({"ends": date(2026, 2, 1)}, "cannot end before"),
        ({"metrics": ()}, "at least one metric"),
        ({"metrics": (MetricRule("win_rate", 1),)}, "Each metric once"),
        ({"metrics": (MetricRule("calls", 0),)}, "more than 0"),
        ({"board": "race"}, "target score"),
        ({"board": "elimination", "eliminate": 1}, "how many drop"),
        ({"level": "team", "metrics": (MetricRule("calls", 1, per_target=True),)}, "individual contests"),
        ({"roles": frozenset({"admin"})}, "roles"),
        ({"recurring": "hourly"}, "recurs daily, weekly, monthly"),
    ],
)
def test_bad_contests_are_refused_with_a_reason(tiny, change, message):
    with pytest.raises(ContestError, match=message):
        save(tiny, Contest(**{**MARCH.__dict__, **change}), 1, Scope.everyone())


def test_badges_by_hand(tiny):
    got = board(tiny, MARCH, MAR5)["badges"]
    # Rita closed March's first won deal (1 Mar); Rob the biggest of the window (100; Sam's 999 was in February);
    # Sam won in the weeks of 16 Feb, 23 Feb and 2 Mar
    assert got.to_dict() == {RITA: (FIRST_OF_MONTH,), ROB: (BIGGEST,), SAM: (STREAK,), NINA: ()}
    teams = board(tiny, Contest("Teams", MAR1, date(2026, 3, 31), "team", "ranked", WON_AND_BOOKED), MAR5)
    assert teams.set_index("name")["badges"].to_dict() == {"Team One": (FIRST_OF_MONTH, BIGGEST), "Team Two": (STREAK,)}
    assert board(tiny, MARCH, date(2026, 2, 20))["badges"].map(len).sum() == 0  # before it starts: none
