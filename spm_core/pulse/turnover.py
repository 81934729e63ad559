"""Turnover risk beside eNPS: which groups are likely to lose sellers soon.

SPEC.md is silent, so the rule is the one SPM and people-analytics tools use for sellers: sustained misses
predict resignations better than any single month. A rep is **at risk** when their attainment was below
AT_RISK_BELOW of quota in each of the last two complete calendar quarters (as of the period's end, or today
if earlier). Reps hired after the first of those quarters began are left out (a ramping rep misses by design),
and so are reps with no quota in either quarter (nothing to miss).

A group's level combines that share with its eNPS (eNPS is only known for groups of 5 or more responses,
so anonymity holds): **High** when at least a third of its reps are at risk or its eNPS is -20 or lower;
**Medium** when at least a sixth are at risk or its eNPS is below 0; **Low** otherwise. Individual survey
answers are never used: the only per-person signal is attainment, which a manager already sees.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import metrics
from ..db import read_frame
from ..filters import Filters, Period, Scope
from ..people import people_in_view
from ..schema import person, team
from .anonymity import OTHER

AT_RISK_BELOW = 0.70
HIGH_SHARE, MEDIUM_SHARE = 1 / 3, 1 / 6
HIGH_ENPS, MEDIUM_ENPS = -20.0, 0.0
LEVELS = ("Low", "Medium", "High")
TURNOVER_HELP = (
    f"A rep is at risk after two complete quarters in a row below {AT_RISK_BELOW:.0%} of quota (reps still "
    "ramping or without a quota are left out). Turnover risk is High when a third or more of a group's reps "
    "are at risk or its eNPS is −20 or lower, Medium when a sixth or more are at risk or its eNPS is below 0, "
    "Low otherwise. No individual survey answer is used."
)
manager = person.alias("manager")


def last_complete_quarters(day: date) -> tuple[Period, Period]:
    """The two calendar quarters that ended on or before `day`, older first."""
    current = Period.quarter(day)
    latest = current if day == current.end else Period.quarter(current.start - timedelta(days=1))
    return Period.quarter(latest.start - timedelta(days=1)), latest


def reps_at_risk(engine: Engine, period: Period, as_of: date, scope: Scope) -> pd.DataFrame:
    """One row per active rep in scope: person_id, name, team, manager, hired_in_window, attainment of each of
    the two quarters (older, latest) and at_risk."""
    older, latest = last_complete_quarters(min(period.end, as_of))
    people = people_in_view(None, scope)
    stmt = (
        sa.select(
            person.c.id.label("person_id"),
            person.c.name,
            sa.func.coalesce(team.c.name, "No team").label("team"),
            sa.func.coalesce(manager.c.name, "No manager").label("manager"),
            (sa.func.coalesce(person.c.hire_date, older.start) > older.start).label("hired_in_window"),
        )
        .select_from(person.outerjoin(team, team.c.id == person.c.team_id).outerjoin(manager, manager.c.id == person.c.manager_id))
        .where(person.c.active, person.c.role == "rep")
        .order_by(person.c.id)
    )
    if people is not None:
        stmt = stmt.where(person.c.id.in_(people))
    reps = read_frame(engine, stmt)
    for name, quarter in (("older_attainment", older), ("latest_attainment", latest)):
        found = metrics.query(engine, ["attainment"], Filters(quarter), scope, by=["rep"], as_of=as_of)
        attained = found.set_index(found["rep_id"].astype("int64"))["attainment"]
        reps[name] = reps["person_id"].map(attained).astype("float64")
    missed = (reps["older_attainment"] < AT_RISK_BELOW) & (reps["latest_attainment"] < AT_RISK_BELOW)
    reps["at_risk"] = missed & ~reps["hired_in_window"].astype(bool)
    return reps


def level(at_risk_share: float | None, enps: float | None) -> str:
    """High, Medium or Low by the rule in the module docstring; a missing share or eNPS counts as no signal."""
    share = -1.0 if at_risk_share is None or pd.isna(at_risk_share) else at_risk_share
    score = None if enps is None or pd.isna(enps) else enps
    if share >= HIGH_SHARE or (score is not None and score <= HIGH_ENPS):
        return "High"
    if share >= MEDIUM_SHARE or (score is not None and score < MEDIUM_ENPS):
        return "Medium"
    return "Low"


def beside_enps(pulse: pd.DataFrame, reps: pd.DataFrame, by: str) -> pd.DataFrame:
    """Add reps_counted, reps_at_risk, at_risk_share and turnover_risk to an eNPS frame by team or manager
    (pulse.enps.pulse). The "Other" row counts the reps of every group not shown on its own, so no rep is
    dropped and no hidden group gets its own figure."""
    if by not in ("team", "manager"):
        raise ValueError(f"Turnover risk is shown by team or manager, not {by!r}.")
    counted = reps[~reps["hired_in_window"].astype(bool) & reps[["older_attainment", "latest_attainment"]].notna().all(axis=1)]
    per_group = counted.groupby(by).agg(reps_counted=("person_id", "size"), reps_at_risk=("at_risk", "sum"))
    shown = [g for g in pulse["group"] if g != OTHER]
    hidden = per_group.loc[~per_group.index.isin(shown)].sum()
    rows = per_group.reindex(shown).fillna(0)
    if (pulse["group"] == OTHER).any():
        rows.loc[OTHER] = hidden
    out = pulse.merge(rows.astype("int64"), left_on="group", right_index=True, how="left")
    out[["reps_counted", "reps_at_risk"]] = out[["reps_counted", "reps_at_risk"]].fillna(0).astype("int64")
    out["at_risk_share"] = out["reps_at_risk"] / out["reps_counted"].where(out["reps_counted"] > 0)
    out["turnover_risk"] = [level(s, e) for s, e in zip(out["at_risk_share"], out["enps"], strict=True)]
    return out
