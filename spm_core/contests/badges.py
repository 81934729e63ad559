"""Badges on contest boards, awarded by rules over won deals (close date up to the day shown):

- First deal of the month: closed the earliest won deal of the current month among the participants
  (ties: all of them);
- Biggest deal: closed the largest won deal of the contest's window (its current round) so far (ties: all);
- Streak: won a deal in each of the last STREAK_WEEKS calendar weeks (Monday to Sunday), this one included.
On team boards a team has a badge when one of its participants has it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..portable import period_start
from ..schema import opportunity
from .model import Contest

FIRST_OF_MONTH, BIGGEST, STREAK = "First deal of the month", "Biggest deal", "Streak"
BADGES = (FIRST_OF_MONTH, BIGGEST, STREAK)
STREAK_WEEKS = 3
ICONS = {FIRST_OF_MONTH: "🥇", BIGGEST: "🐋", STREAK: "🔥"}


def _facts(engine: Engine | sa.Connection, start: date, people: pd.DataFrame, day: date) -> pd.DataFrame:
    """Per participant with a won deal: first won close date this month, biggest won amount in the window,
    and the number of the last STREAK_WEEKS weeks with a win. One grouped scan."""
    o = opportunity.c
    month_start = day.replace(day=1)
    streak_start = day - timedelta(days=day.weekday() + 7 * (STREAK_WEEKS - 1))
    earliest = min(month_start, start, streak_start)
    stmt = (
        sa.select(
            o.owner_id,
            sa.func.min(sa.case((o.close_date >= month_start, o.close_date))).label("first_in_month"),
            sa.func.max(sa.case((o.close_date >= start, o.amount))).label("biggest"),
            sa.func.count(sa.distinct(sa.case((o.close_date >= streak_start, period_start("week", o.close_date))))).label(
                "weeks"
            ),
        )
        .where(o.is_won, o.close_date.between(earliest, day), o.owner_id.in_(sorted(int(i) for i in people["id"])))
        .group_by(o.owner_id)
    )
    return read_frame(engine, stmt)


def badges(
    engine: Engine | sa.Connection, c: Contest, people: pd.DataFrame, start: date, day: date
) -> dict[int, tuple[str, ...]]:
    """Entry id (person, or team on team boards) -> its badges in BADGES order, for the round that began on
    `start`, on `day`; entries without any are left out."""
    if day < start or people.empty:
        return {}
    facts = _facts(engine, start, people, day)
    first = pd.to_datetime(facts["first_in_month"])
    biggest = facts["biggest"].astype("float64")
    won = {
        FIRST_OF_MONTH: set(facts.loc[first.notna() & (first == first.min()), "owner_id"]),
        BIGGEST: set(facts.loc[biggest.notna() & (biggest == biggest.max()), "owner_id"]),
        STREAK: set(facts.loc[facts["weeks"] >= STREAK_WEEKS, "owner_id"]),
    }
    if c.level == "team":
        team_of = dict(zip(people["id"], people["team_id"], strict=True))
        won = {b: {int(team_of[i]) for i in ids if pd.notna(team_of.get(i))} for b, ids in won.items()}
    holders = set().union(*won.values())
    return {int(i): tuple(b for b in BADGES if i in won[b]) for i in holders}
