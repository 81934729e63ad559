"""Coaching flags and strongest performers: a hand-worked quarter half gone (every flag kind, with the
numbers in the reason), scope (a rep sees their own flags, a manager their subtree), no history, and
the stage win rates against a pandas oracle on the demo warehouse."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from coaching_support import (
    IN_Q1,
    LEADER,
    MANAGER,
    NINA,
    PEOPLE,
    RITA,
    ROB,
    SAM,
    STAGE_ROWS,
    TEAMS,
    activities,
    deal,
    history,
    quota,
)  # fmt: skip

from spm_core import schema
from spm_core.coaching.flags import ACTIVITY, COVERAGE, PACING, STAGE, STUCK, flags, strongest
from spm_core.coaching.stage_wins import stage_wins
from spm_core.db import read_frame
from spm_core.filters import Filters, Period, Scope

MID_Q1 = date(2026, 2, 14)  # day 45 of 90: half the quarter gone
JAN, FEB = date(2026, 1, 10), date(2026, 2, 10)


def _closed(did: int, owner: int, won: bool, amount: float) -> tuple[dict, list[dict]]:
    """A deal that reached Proposal on 10 Jan and closed on 25 Jan (won or lost)."""
    end, final = date(2026, 1, 25), "Closed Won" if won else "Closed Lost"
    return deal(did, owner, amount, final, date(2026, 1, 2), end), [
        history(did, "Proposal", JAN, end, end, amount),
        history(did, final, end, None, end, amount),
    ]


def _open(did: int, owner: int, amount: float, since: date, close: date) -> tuple[dict, list[dict]]:
    """An open deal in Negotiation since `since`."""
    return deal(did, owner, amount, "Negotiation", date(2025, 11, 1), close), [
        history(did, "Negotiation", since, None, close, amount)
    ]


DEALS = [
    _closed(1, RITA, True, 60),
    *(_closed(i, RITA, False, 10) for i in range(2, 6)),  # Rita: Proposal 1 of 5 won
    _open(6, RITA, 200, FEB, date(2026, 3, 10)),
    *(_closed(i, ROB, True, 40) for i in range(11, 16)),  # Rob: Proposal 5 of 5 won, 200 booked
    _open(16, ROB, 500, FEB, date(2026, 3, 20)),
    *(_open(i, ROB, 10, date(2025, 12, 1), date(2026, 3, 15)) for i in (17, 18, 19)),  # stalled: 75 days > 30
]
ACTS = [*activities(RITA, "call", FEB, 10, 1), *activities(ROB, "call", FEB, 10, 20), *activities(NINA, "email", FEB, 2, 40),
            *activities(SAM, "call", FEB, 3, 50)]  # fmt: skip


@pytest.fixture
def tiny(tiny_engine):
    return tiny_engine(
        person=PEOPLE, team=TEAMS, stage=STAGE_ROWS, activity=ACTS,
        opportunity=[d for d, _ in DEALS], opportunity_history=[h for _, rows in DEALS for h in rows],
        quota=[*quota(RITA, (1, 2, 3), 100, 1), *quota(ROB, (1, 2, 3), 100, 10)],
        warehouse_info=[{"key": "has_history", "value": "true"}],
    )  # fmt: skip


def reasons(frame: pd.DataFrame) -> dict[tuple[int, str], str]:
    return {(r, f): text for r, f, text in zip(frame["rep_id"], frame["flag"], frame["reason"], strict=True)}


def test_every_flag_by_hand(tiny):
    got = reasons(flags(tiny, IN_Q1, Scope.everyone(), MID_Q1))
    assert set(got) == {(NINA, ACTIVITY), (RITA, COVERAGE), (RITA, PACING), (RITA, STAGE), (ROB, STUCK)}
    # Nina: 2 activities; the team's are 10, 10, 2: median 10, flagged below 5
    assert got[NINA, ACTIVITY].startswith("2 activities against a team median of 10 ")
    # Rita: quota 300, booked 60, open 200: 200 / 240 = 0.8x; run rate 60 / 0.5 = 120 = 40 % of quota
    assert got[RITA, COVERAGE].startswith("Open pipeline $200 covers 0.8x the $240 of quota still to book")
    assert got[RITA, PACING].startswith("On pace for 40.0% of quota ($60 booked so far of $300;")
    # from Proposal Rita won 1 of 5, the team 6 of 10 (60 %): below half of it
    assert got[RITA, STAGE] == (
        "Wins 20.0% (1 of 5) of the deals closed this period that reached Proposal, against the team's 60.0% (6 of 10)."
    )
    # Rob: 3 of his 4 open deals in Negotiation since 1 Dec (more than the 30-day fallback); no slipped ones
    assert got[ROB, STUCK].startswith("3 stalled and 0 slipped deals, 75.0% of their 4 open deals of the period")


def test_a_rep_sees_their_own_flags_compared_with_the_whole_team(tiny):
    mine = flags(tiny, IN_Q1, Scope.only(RITA), MID_Q1)
    assert set(mine["rep_id"]) == {RITA}
    assert "against the team's 60.0% (6 of 10)" in reasons(mine)[RITA, STAGE]


def test_a_manager_sees_their_subtree_only(tiny):
    assert set(flags(tiny, IN_Q1, Scope.subtree(MANAGER), MID_Q1)["rep_id"]) == {RITA, ROB, NINA}
    assert flags(tiny, IN_Q1, Scope.subtree(SAM), MID_Q1).empty


def test_without_history_only_the_flags_that_need_none(tiny, tiny_engine):
    engine = tiny_engine(person=PEOPLE, team=TEAMS, stage=STAGE_ROWS, activity=ACTS, opportunity=[d for d, _ in DEALS],
                         quota=[*quota(RITA, (1, 2, 3), 100, 1)])  # fmt: skip
    got = flags(engine, IN_Q1, Scope.everyone(), MID_Q1)
    assert got.attrs["needs_history"] is True
    assert set(got["flag"]) == {ACTIVITY, COVERAGE, PACING}


def test_an_empty_team_has_no_flags(tiny_engine):
    assert flags(tiny_engine(person=PEOPLE[:2]), IN_Q1, Scope.everyone(), MID_Q1).empty


def test_strongest_are_ranked_by_attainment_with_what_they_do_more(tiny):
    got = strongest(tiny, IN_Q1, Scope.everyone(), MID_Q1, top=2)
    assert got["rep_id"].tolist() == [ROB, RITA]  # 200 / 300 ahead of 60 / 300
    # Rob's three biggest leads over the medians of the four reps: open pipeline 530 (200, 530, 0, 0 -> 100),
    # deals created 5 (5, 5, 0, 0 -> 2.5), win rate 100 % (Rita 20 %; Nina and Sam have none -> 60 %)
    assert got.at[0, "differences"] == (
        "Open pipeline $530 vs median $100 (+430%); Deals created 5 vs median 2.5 (+100%); Win rate 100.0% vs median 60.0% (+67%)"
    )
    assert LEADER not in set(got["rep_id"])


def test_stage_wins_against_a_pandas_oracle(demo_engine, demo_frames):
    period = Period.quarter(date(2026, 8, 1))
    got = stage_wins(demo_engine, Filters(period), Scope.everyone())
    opps = demo_frames["opportunity"]
    hist = read_frame(demo_engine, sa.select(schema.opportunity_history))
    close = pd.to_datetime(opps["close_date"])
    closed = opps[opps["is_closed"] & (close >= pd.Timestamp(period.start)) & (close <= pd.Timestamp(period.end))]
    reached = hist[["opportunity_id", "stage"]].drop_duplicates().merge(closed, left_on="opportunity_id", right_on="id")
    open_stages = {s["name"] for s in STAGE_ROWS if not s["is_closed"]}
    reached = reached[reached["stage_x"].isin(open_stages)]
    expected = reached.groupby(["owner_id", "stage_x"]).agg(closed=("id", "size"), won=("is_won", "sum"))
    mine = got.set_index(["owner_id", "stage"]).sort_index()[["closed", "won"]]
    assert mine.to_numpy().tolist() == expected.sort_index().to_numpy().tolist()
    assert mine.index.tolist() == expected.sort_index().index.tolist()
