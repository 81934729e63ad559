"""Activities per rep against their team's median and their own trend, and activity-to-outcome ratios.

    rep_activity(engine, filters, scope, as_of, peers=Scope.everyone())

Counts are the metrics layer's activity KPIs (activities dated in the period); outcomes are deals won
(closed in the period) and deals created (created in the period). The team median of each count is the
median over the team's listed reps (zeros included, so a quiet rep pulls it down as they should), taken
over `peers` with only the period and product filters: filtering to one rep must not make them their
own team. The trend compares the period with the previous one up to the same elapsed day (SPEC
"Comparisons": activities are a flow).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import metrics
from ..comparison import baseline
from ..db import read_frame
from ..filters import Filters, Scope
from ..people import people_in_view
from ..schema import account, activity, opportunity, person
from .roster import eligible, reps

ACTIVITY_TYPES: tuple[str, ...] = ("calls", "emails", "meetings", "demos")
COUNTS: tuple[str, ...] = (*ACTIVITY_TYPES, "activities")
OUTCOMES: tuple[str, ...] = ("deals_won", "deals_created")
# ratio -> (numerator, denominator); no value (NaN) when the denominator is 0
RATIOS: dict[str, tuple[str, str]] = {
    "meetings_per_won": ("meetings", "deals_won"),
    "calls_per_created": ("calls", "deals_created"),
}
RATIO_HELP = {
    "meetings_per_won": "Meetings dated in the period / deals won (closed) in the period; none without a won deal.",
    "calls_per_created": "Calls dated in the period / opportunities created in the period; none without one created.",
}
TREND_HELP = (
    "Activities in the period against the previous period of the same length counted up to the same elapsed "
    "day (the whole previous period once this one is over)."
)
MEDIAN_HELP = "Median over the reps of the same team (reps with no activity count as 0), whatever the people filters."


def _per_rep(engine: Engine | sa.Connection, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    """Counts and outcomes per listed rep (roster columns + COUNTS + OUTCOMES), zeros filled."""
    roster = reps(engine, filters, scope)
    values = metrics.query(engine, [*COUNTS, *OUTCOMES], filters, scope, by=["rep"], as_of=as_of)
    values = values.dropna(subset=["rep_id"]).astype({"rep_id": "int64"})[["rep_id", *COUNTS, *OUTCOMES]]
    frame = roster.merge(values, on="rep_id", how="left")
    frame[[*COUNTS, *OUTCOMES]] = frame[[*COUNTS, *OUTCOMES]].fillna(0).astype("int64")
    keep = eligible(frame, filters.period.end) | (frame[[*COUNTS, *OUTCOMES]].sum(axis=1) > 0)
    return frame[keep].reset_index(drop=True)


def with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds each RATIOS column: numerator / denominator, NaN when the denominator is 0."""
    out = frame.copy()
    for name, (num, den) in RATIOS.items():
        out[name] = out[num].astype("float64") / out[den].where(out[den] > 0).astype("float64")
    return out


def team_medians(per_rep: pd.DataFrame) -> pd.DataFrame:
    """team_id and `<count>_median` for each count, over the reps of each team (no team: one group)."""
    medians = per_rep.groupby("team_id", dropna=False)[list(COUNTS)].median()
    return medians.add_suffix("_median").reset_index()


def _peer_filters(filters: Filters) -> Filters:
    return Filters(filters.period, products=filters.products)


def rep_activity(
    engine: Engine | sa.Connection, filters: Filters, scope: Scope, as_of: date, peers: Scope | None = None
) -> pd.DataFrame:
    """One row per rep in view: rep_id, rep, team_id, team, COUNTS, `<count>_median`, OUTCOMES, RATIOS,
    activities_before (the trend baseline) and activities_change (relative; NaN when the baseline is 0)."""
    rows = _per_rep(engine, filters, scope, as_of)
    medians = team_medians(_per_rep(engine, _peer_filters(filters), peers or Scope.everyone(), as_of))
    rows = rows.merge(medians, on="team_id", how="left")
    b = baseline(filters.period, as_of)
    before = metrics.query(
        engine, ["activities"], filters.with_period(b.period), scope, by=["rep"], as_of=as_of, as_stood=b.as_stood
    )
    before = before.dropna(subset=["rep_id"]).astype({"rep_id": "int64"})
    rows = rows.merge(
        before[["rep_id", "activities"]].rename(columns={"activities": "activities_before"}), on="rep_id", how="left"
    )
    rows["activities_before"] = rows["activities_before"].fillna(0).astype("int64")
    base = rows["activities_before"].where(rows["activities_before"] > 0).astype("float64")
    rows["activities_change"] = (rows["activities"] - rows["activities_before"]) / base
    return with_ratios(rows)


def team_ratios(
    engine: Engine | sa.Connection, filters: Filters, team_ids: set[int], as_of: date, peers: Scope | None = None
) -> pd.DataFrame:
    """Per team among team_ids (whole teams, over `peers`): team_id, team, the ratios' inputs and RATIOS."""
    needed = sorted({c for pair in RATIOS.values() for c in pair})
    frame = metrics.query(engine, needed, _peer_filters(filters), peers or Scope.everyone(), by=["team"], as_of=as_of)
    frame = frame.dropna(subset=["team_id"]).astype({"team_id": "int64"})
    frame = frame[frame["team_id"].isin(team_ids)].sort_values("team").reset_index(drop=True)
    return with_ratios(frame)


def weekly(engine: Engine | sa.Connection, filters: Filters, scope: Scope, rep_id: int, as_of: date) -> pd.DataFrame:
    """One rep's activities per week and type (week, type, count; long form for a chart), within scope."""
    narrowed = replace(filters, reps=frozenset({rep_id}))
    frame = metrics.query(engine, list(ACTIVITY_TYPES), narrowed, scope, by=["week"], as_of=as_of)
    return frame.melt(id_vars="week", value_vars=list(ACTIVITY_TYPES), var_name="type", value_name="count")


def activity_list(engine: Engine | sa.Connection, filters: Filters, scope: Scope, rep_id: int) -> pd.DataFrame:
    """The activities behind one rep's counts: id, date, type, outcome, rep, account, opportunity; newest
    first. Empty when the rep is out of the viewer's scope."""
    a = activity.c
    stmt = (
        sa.select(
            a.id,
            a.activity_date.label("date"),
            a.activity_type.label("type"),
            a.outcome,
            person.c.name.label("rep"),
            account.c.name.label("account"),
            opportunity.c.name.label("opportunity"),
        )
        .select_from(
            activity.join(person, person.c.id == a.person_id)
            .outerjoin(account, account.c.id == a.account_id)
            .outerjoin(opportunity, opportunity.c.id == a.opportunity_id)
        )
        .where(a.person_id == rep_id, a.activity_date.between(filters.period.start, filters.period.end))
        .order_by(a.activity_date.desc(), a.id.desc())
    )
    ids = people_in_view(None, scope)
    if ids is not None:
        stmt = stmt.where(a.person_id.in_(ids))
    return read_frame(engine, stmt)
