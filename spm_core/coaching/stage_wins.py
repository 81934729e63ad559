"""Win rate from each stage, per rep: of the deals closed in the period that had reached a stage (per
opportunity history), the share won. Shows where in the funnel a rep loses deals the team wins.

For the standard periods the counts are stored per owner and product (schema.stage_win_fact, built by
period_facts.py): which deals a view holds is a condition on their owner and product, so any view is an
exact sum of stored rows, instead of a pass over every closed deal's stage facts on each cold view."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Filters, Period, Scope
from ..history import deals_in_view, require_history, use_facts
from ..history_facts import period_facts_hold
from ..people import people_in_view
from ..schema import deal_stage, opportunity, opportunity_history, stage, stage_win_fact

o = opportunity.c
h = opportunity_history.c


def stage_wins_select(period: Period, in_view: list[sa.ColumnElement], facts: bool, per_product: bool = False) -> sa.Select:
    """owner_id (and product_id with per_product: what period_facts stores), stage, position, closed, won.
    The stages each deal reached come from the history facts when complete (one row per deal and stage)."""
    closed = sa.select(o.id).where(o.is_closed, o.close_date.between(period.start, period.end), *in_view)
    if facts:
        ds = deal_stage.c
        reached = sa.select(ds.opportunity_id, ds.stage).where(ds.opportunity_id.in_(closed)).subquery("reached")
    else:
        reached = sa.select(h.opportunity_id, h.stage).where(h.opportunity_id.in_(closed)).distinct().subquery("reached")
    keys = [o.owner_id, *([o.product_id] if per_product else []), stage.c.name.label("stage"), stage.c.position]
    return (
        sa.select(*keys, sa.func.count().label("closed"), sa.func.count(sa.case((o.is_won, 1))).label("won"))
        .select_from(reached.join(opportunity, o.id == reached.c.opportunity_id).join(stage, stage.c.name == reached.c.stage))
        .where(sa.not_(stage.c.is_closed))
        .group_by(*(k.element if isinstance(k, sa.Label) else k for k in keys))
    )


def _stored_select(filters: Filters, scope: Scope) -> sa.Select:
    """The view's counts summed from stage_win_fact (the columns of stage_wins_select)."""
    f = stage_win_fact.c
    conditions = [f.period_start == filters.period.start, f.period_end == filters.period.end]
    people = people_in_view(filters, scope)
    if people is not None:
        conditions.append(f.owner_id.in_(people))
    if filters.products:
        conditions.append(f.product_id.in_(sorted(filters.products)))
    total = [sa.cast(sa.func.sum(c), sa.BigInteger).label(c.name) for c in (f.closed, f.won)]
    return sa.select(f.owner_id, f.stage, f.position, *total).where(*conditions).group_by(f.owner_id, f.stage, f.position)


def stage_wins(engine: Engine, filters: Filters, scope: Scope, *, facts: bool | None = None) -> pd.DataFrame:
    """owner_id, stage, position, closed (deals closed in the period that reached the stage), won.
    Stored for the standard periods (closed deals do not depend on as_of); other periods are computed."""
    require_history(engine)
    if facts is not False and period_facts_hold(engine, filters.period):
        return read_frame(engine, _stored_select(filters, scope))
    return read_frame(engine, stage_wins_select(filters.period, deals_in_view(filters, scope), use_facts(engine, facts)))


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
