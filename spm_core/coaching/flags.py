"""Coaching flags: who needs help and why, each with the reason in words and the numbers behind it;
and the strongest performers with what they do differently.

    flags(engine, filters, scope, as_of)        # one row per flag
    strongest(engine, filters, scope, as_of)    # the top reps and the measures where they lead

Flags (thresholds in Thresholds, shown on the page):
- low coverage: open pipeline / quota still to book below `coverage` (SPEC coverage; none once covered
  or without a quota);
- stage win rate: from some stage, at least `min_deals` deals closed and a win rate below `win_rate_share`
  of the team's;
- stalled or slipped (SPEC definitions): at least `min_stuck` such deals and `stuck_share` of the rep's open deals of the period;
- activity: activities below `activity_share` of the team median;
- pacing: pacing vs quota (bookings at the run rate / quota) below `pacing`.
The stage win rate and stalled/slipped flags need opportunity history. Comparisons with "the team" are
over the whole team (peers); only the listed reps are the viewer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import metrics
from ..db import read_frame
from ..filters import Filters, Scope
from ..formatting import count, money, percent, ratio
from ..history import has_history, slipped_deals, stalled_per_owner
from ..kpis import CATALOGUE
from ..schema import opportunity
from .activities import rep_activity
from .roster import eligible
from .roster import reps as roster
from .stage_wins import compare_with_team, stage_wins

COVERAGE, STAGE, STUCK, ACTIVITY, PACING = "Low coverage", "Stage win rate", "Stalled or slipped", "Low activity", "Pacing behind"
FLAG_COLUMNS = ("rep_id", "rep", "team", "flag", "reason")


def _number(value: object) -> str:
    """A count or a median of counts (2.5 stays 2.5)."""
    return f"{float(value):,.1f}".removesuffix(".0")


# Measures compared for "what the strongest do differently": KPI -> how to show it.
DIFFERENCE_MEASURES: dict[str, Callable[[object], str]] = {
    "calls": _number, "emails": _number, "meetings": _number, "demos": _number, "deals_created": _number,
    "win_rate": percent, "avg_deal_size": money, "open_pipeline": money,
}  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    """Where a flag starts, in one place so the page can state the rules it applies."""

    coverage: float = 2.0
    win_rate_share: float = 0.5
    min_deals: int = 5
    min_stuck: int = 3
    stuck_share: float = 0.25
    activity_share: float = 0.5
    pacing: float = 0.8


def _frame(rows: pd.DataFrame, flag: str, reasons: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": rows["rep_id"].to_numpy(),
            "rep": rows["rep"].to_numpy(),
            "team": rows["team"].to_numpy(),
            "flag": flag,
            "reason": reasons,
        }
    )


def _pipeline_flags(reps: pd.DataFrame, t: Thresholds) -> list[pd.DataFrame]:
    low = reps[reps["coverage"].notna() & (reps["coverage"] < t.coverage)]
    cover = [
        f"Open pipeline {money(p)} covers {ratio(c)} the {money(r)} of quota still to book (below {ratio(t.coverage)})."
        for p, c, r in zip(low["open_pipeline"], low["coverage"], low["quota_remaining"], strict=True)
    ]
    behind = reps[reps["pacing_attainment"].notna() & (reps["pacing_attainment"] < t.pacing)]
    pace = [
        f"On pace for {percent(p)} of quota ({money(b)} booked so far of {money(q)}; flagged below {percent(t.pacing)})."
        for p, b, q in zip(behind["pacing_attainment"], behind["bookings"], behind["quota"], strict=True)
    ]
    quiet = reps[(reps["activities_median"] > 0) & (reps["activities"] < t.activity_share * reps["activities_median"])]
    activity = [
        f"{count(a)} activities against a team median of {m:g} (flagged below {percent(t.activity_share)} of it)."
        for a, m in zip(quiet["activities"], quiet["activities_median"], strict=True)
    ]
    return [_frame(low, COVERAGE, cover), _frame(behind, PACING, pace), _frame(quiet, ACTIVITY, activity)]


def _stage_flags(engine: Engine, filters: Filters, reps: pd.DataFrame, peers: Scope, t: Thresholds) -> pd.DataFrame:
    """The earliest stage from which a listed rep wins far less than their team (over the whole team)."""
    team_of = roster(engine, Filters(filters.period), peers)
    per_rep = stage_wins(engine, Filters(filters.period, products=filters.products), peers)
    compared = compare_with_team(per_rep, pd.Series(team_of["team_id"].to_numpy(), index=team_of["rep_id"]))
    compared = compared[compared["owner_id"].isin(reps["rep_id"])]
    far = compared[(compared["closed"] >= t.min_deals) & (compared["win_rate"] < t.win_rate_share * compared["team_win_rate"])]
    far = far.sort_values(["owner_id", "position"]).drop_duplicates("owner_id")
    rows = reps.set_index("rep_id").loc[far["owner_id"].astype("int64")].reset_index()
    reasons = [
        f"Wins {percent(w / c)} ({w} of {c}) of the deals closed this period that reached {s}, against the team's "
        f"{percent(tw / tc)} ({tw} of {tc})."
        for s, w, c, tw, tc in zip(far["stage"], far["won"], far["closed"], far["team_won"], far["team_closed"], strict=True)
    ]
    return _frame(rows, STAGE, reasons)


def _owners(engine: Engine, filters: Filters) -> pd.Series:
    """Deal id -> owner id for the deals still open with an expected close from the period's start on (every
    stalled or slipped deal is one): deal lists carry the owner's name, not their id. One scan."""
    o = opportunity.c
    found = read_frame(engine, sa.select(o.id, o.owner_id).where(sa.not_(o.is_closed), o.close_date >= filters.period.start))
    return pd.Series(found["owner_id"].to_numpy(), index=found["id"].to_numpy())


def _stuck_flags(engine: Engine, filters: Filters, scope: Scope, reps: pd.DataFrame, as_of: date, t: Thresholds) -> pd.DataFrame:
    """Reps with many stalled or slipped deals, in number and as a share of their open deals of the period."""
    owner = _owners(engine, filters)
    per_owner = stalled_per_owner(engine, filters, scope, as_of).dropna(subset=["owner_id"])
    stalled = pd.Series(per_owner["stalled"].to_numpy(), index=per_owner["owner_id"].astype("int64").to_numpy())
    slipped = slipped_deals(engine, filters, scope)["id"].map(owner).value_counts()
    ids = reps["rep_id"]
    n_stalled = ids.map(stalled).fillna(0).astype("int64")
    n_slipped = ids.map(slipped).fillna(0).astype("int64")
    stuck = n_stalled + n_slipped
    base = (reps["open_deals"] + n_slipped).where(lambda s: s > 0)  # slipped deals now close after the period
    many = (stuck >= t.min_stuck) & (stuck / base >= t.stuck_share)
    reasons = [
        f"{a} stalled and {b} slipped deals, {percent((a + b) / n)} of their {n} open deals of the period "
        f"(flagged from {t.min_stuck} and {percent(t.stuck_share)})."
        for a, b, n in zip(n_stalled[many], n_slipped[many], base[many].astype("int64"), strict=True)
    ]
    return _frame(reps[many], STUCK, reasons)


KPIS = ("coverage", "open_pipeline", "quota_remaining", "pacing_attainment", "bookings", "quota", "open_deals")


def _reps(engine: Engine, filters: Filters, scope: Scope, as_of: date, peers: Scope) -> pd.DataFrame:
    """The listed reps (activities' rows, with their team median) and the pipeline KPIs the flags read."""
    rows = rep_activity(engine, filters, scope, as_of, peers)
    values = metrics.query(engine, list(KPIS), filters, scope, by=["rep"], as_of=as_of)
    values = values.dropna(subset=["rep_id"]).astype({"rep_id": "int64"})[["rep_id", *KPIS]]
    rows = rows.merge(values, on="rep_id", how="left")
    rows["open_deals"] = rows["open_deals"].fillna(0).astype("int64")
    return rows


def flags(
    engine: Engine, filters: Filters, scope: Scope, as_of: date, peers: Scope | None = None, t: Thresholds = Thresholds()
) -> pd.DataFrame:
    """One row per flag (FLAG_COLUMNS), by rep name then flag. Without opportunity history the stage win
    rate and stalled/slipped flags cannot be computed and are left out (attrs["needs_history"] is True)."""
    peers = peers or Scope.everyone()
    reps = _reps(engine, filters, scope, as_of, peers)
    parts = _pipeline_flags(reps, t)
    history = has_history(engine)
    if history:
        parts += [_stuck_flags(engine, filters, scope, reps, as_of, t), _stage_flags(engine, filters, reps, peers, t)]
    out = pd.concat(parts, ignore_index=True).sort_values(["rep", "rep_id", "flag"], kind="stable").reset_index(drop=True)
    out.attrs["needs_history"] = not history
    return out


def strongest(engine: Engine, filters: Filters, scope: Scope, as_of: date, top: int = 3, measures: int = 3) -> pd.DataFrame:
    """The `top` reps in view by attainment (bookings when no one has a quota), ties by name, each with the
    `measures` measures where they are furthest above the median of the reps in view: rep_id, rep,
    attainment, bookings, differences (text)."""
    listed = roster(engine, filters, scope)
    kpis = ["attainment", "bookings", *DIFFERENCE_MEASURES]
    values = metrics.query(engine, kpis, filters, scope, by=["rep"], as_of=as_of)
    values = values.dropna(subset=["rep_id"]).astype({"rep_id": "int64"})[["rep_id", *kpis]]
    frame = listed.merge(values, on="rep_id", how="left")
    # a plain sum or count (one measure) is 0 for a rep with nothing in the period; a ratio stays unknown
    amounts = [m for m in kpis if CATALOGUE[m].unit in ("currency", "count") and len(CATALOGUE[m].measures) == 1]
    frame[amounts] = frame[amounts].fillna(0.0)
    frame = frame[eligible(frame, filters.period.end) | (frame[amounts].sum(axis=1) > 0)]
    key = "attainment" if frame["attainment"].notna().any() else "bookings"
    leaders = frame.assign(_k=frame[key].fillna(-1)).sort_values(["_k", "rep"], ascending=[False, True]).head(top)
    medians = frame[list(DIFFERENCE_MEASURES)].median()
    lift = leaders[list(DIFFERENCE_MEASURES)] / medians.where(medians > 0) - 1
    texts = []
    for i in leaders.index:  # a few leaders: a few sentences
        best = lift.loc[i].dropna().sort_values(ascending=False).head(measures)
        texts.append("; ".join(
            f"{CATALOGUE[m].label} {DIFFERENCE_MEASURES[m](leaders.at[i, m])} vs median {DIFFERENCE_MEASURES[m](medians[m])} (+{v:.0%})"
            for m, v in best.items() if v > 0
        ))  # fmt: skip
    return leaders.assign(differences=texts)[["rep_id", "rep", "attainment", "bookings", "differences"]].reset_index(drop=True)
