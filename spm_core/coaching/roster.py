"""The reps a coaching view lists: reps in the viewer's scope and the people filters, with their team."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Filters, Scope
from ..people import people_in_view
from ..schema import person, team


def reps(engine: Engine | sa.Connection, filters: Filters | None, scope: Scope) -> pd.DataFrame:
    """rep_id, rep, team_id, team, hire_date, active for the reps in view, ordered by name.

    Active reps hired by the period's end (an unknown hire date counts as hired); a caller that has
    values adds back reps who have since left but did something in the period."""
    p = person.c
    stmt = (
        sa.select(p.id.label("rep_id"), p.name.label("rep"), p.team_id, team.c.name.label("team"), p.hire_date, p.active)
        .select_from(person.outerjoin(team, team.c.id == p.team_id))
        .where(p.role == "rep")
        .order_by(p.name, p.id)
    )
    ids = people_in_view(filters, scope)
    if ids is not None:
        stmt = stmt.where(p.id.in_(ids))
    frame = read_frame(engine, stmt)
    return frame.assign(rep_id=frame["rep_id"].astype("int64"))


def eligible(roster: pd.DataFrame, end: object) -> pd.Series:
    """Active reps hired by `end` (an unknown hire date counts as hired)."""
    hired = pd.to_datetime(roster["hire_date"])
    return roster["active"].astype(bool) & (hired.isna() | (hired <= pd.Timestamp(end)))
