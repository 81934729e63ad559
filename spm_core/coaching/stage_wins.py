"""Win rate from each stage, per rep: of the deals closed in the period that had reached a stage (per
opportunity history), the share won. Shows where in the funnel a rep loses deals the team wins."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Filters, Scope
from ..history import deals_in_view, require_history, use_facts
from ..schema import deal_stage, opportunity, opportunity_history, stage

o = opportunity.c
h = opportunity_history.c


def stage_wins(engine: Engine, filters: Filters, scope: Scope, *, facts: bool | None = None) -> pd.DataFrame:
    """owner_id, stage, position, closed (deals closed in the period that reached the stage), won.
    The stages each deal reached come from the history facts when complete (one row per deal and stage)."""
    require_history(engine)
    closed = sa.select(o.id).where(
        o.is_closed, o.close_date.between(filters.period.start, filters.period.end), *deals_in_view(filters, scope)
    )
    if use_facts(engine, facts):
        ds = deal_stage.c
        reached = sa.select(ds.opportunity_id, ds.stage).where(ds.opportunity_id.in_(closed)).subquery("reached")
    else:
        reached = sa.select(h.opportunity_id, h.stage).where(h.opportunity_id.in_(closed)).distinct().subquery("reached")
    stmt = (
        sa.select(
            o.owner_id,
            stage.c.name.label("stage"),
            stage.c.position,
            sa.func.count().label("closed"),
            sa.func.count(sa.case((o.is_won, 1))).label("won"),
        )
        .select_from(reached.join(opportunity, o.id == reached.c.opportunity_id).join(stage, stage.c.name == reached.c.stage))
        .where(sa.not_(stage.c.is_closed))
        .group_by(o.owner_id, stage.c.name, stage.c.position)
    )
    return read_frame(engine, stmt)


def compare_with_team(per_rep: pd.DataFrame, teams: pd.Series) -> pd.DataFrame:
    """Adds team_id, the team's closed and won per stage (sums over the team's reps) and both win rates.
    `teams`: rep id -> team id."""
    frame = per_rep.assign(team_id=per_rep["owner_id"].map(teams))
    team = frame.groupby(["team_id", "stage"], as_index=False)[["closed", "won"]].sum()
    frame = frame.merge(team.rename(columns={"closed": "team_closed", "won": "team_won"}), on=["team_id", "stage"])
    return frame.assign(
        win_rate=frame["won"] / frame["closed"],
        team_win_rate=frame["team_won"] / frame["team_closed"],
    )
