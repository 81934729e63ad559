"""Quota attainment: by rep/team/manager/segment/region, the spread of reps by attainment, bookings
against quota day by day, and pace against the share of the period gone by.

Every number is a KPI of the metrics layer (metrics.query, definitions in kpis.py and SPEC.md); this
module only reshapes them (ranks groups, bands reps, spreads monthly quotas over days), so the
attainment page can never disagree with a tile or with another page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import metrics
from .db import read_frame
from .filters import Filters, Period, Scope
from .schema import person

LEVELS: dict[str, str] = {"rep": "Rep", "team": "Team", "manager": "Manager", "segment": "Segment", "region": "Region"}
LEVEL_KPIS = (
    "quota",
    "bookings",
    "attainment",
    "pacing",
    "pacing_attainment",
    "projected_attainment",
    "weighted_pipeline",
    "quota_remaining",
    "ramped_quota",
)
# A group of these levels is exactly one value of a Filters field; the manager level groups by the
# direct manager, which no filter expresses (Filters.managers is a whole subtree).
_FILTER_FIELD = {"team": "teams", "segment": "segments", "region": "regions"}
_PERSON_COLUMN = {"team": "team_id", "manager": "manager_id", "segment": "segment_id", "region": "region_id"}


def attainment_by(engine: Engine | sa.Connection, filters: Filters, scope: Scope, level: str, as_of: date) -> pd.DataFrame:
    """One row per group of `level` with LEVEL_KPIS, ranked by attainment (see rank_groups).

    Reps also get their team's name, which a leader needs to read a list of hundreds of reps."""
    if level not in LEVELS:
        raise ValueError(f"Unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    by = ["rep", "team"] if level == "rep" else [level]
    return rank_groups(metrics.query(engine, list(LEVEL_KPIS), filters, scope, by, as_of), level)


def rank_groups(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """Name the groups of a metrics.query(..., by=[level]) frame and rank them.

    Columns: id, name (unique: a duplicated name gets its id), LEVEL_KPIS, ramping (some of the
    quota is a ramped quota), at_quota (attainment >= 100 %). Highest attainment first; groups
    without a quota (no attainment) last, by bookings."""
    out = frame.rename(columns={f"{level}_id": "id", level: "name"})
    out["id"] = out["id"].astype("Int64")
    out["name"] = out["name"].fillna(f"No {LEVELS[level].lower()}")
    twins = out["name"].duplicated(keep=False)
    out.loc[twins, "name"] = out.loc[twins, "name"] + " (#" + out.loc[twins, "id"].astype(str) + ")"
    out["ramping"] = out["ramped_quota"] > 0
    out["at_quota"] = (out["quota"] > 0) & (out["attainment"] >= 1.0)
    ranked = out.sort_values(["attainment", "bookings", "name"], ascending=[False, False, True], na_position="last")
    return ranked.reset_index(drop=True)


def reps_at_quota(per_rep: pd.DataFrame) -> tuple[int, int]:
    """(reps at or above 100 %, reps with a quota) from attainment_by(level="rep"): the counts behind
    SPEC's "% of reps at quota" (a rep without a quota has no attainment and is not counted)."""
    rated = per_rep["quota"] > 0
    return int((rated & (per_rep["attainment"] >= 1.0)).sum()), int(rated.sum())


def attainment_distribution(per_rep: pd.DataFrame, band: float = 0.1, top: float = 2.0, names_shown: int = 8) -> pd.DataFrame:
    """Reps with a quota counted per attainment band [start, end); the last band is open (>= top).

    Every band from 0 to top is listed, empty ones too, so histograms of different filters share an
    axis. Columns: start, end, label, reps, share (of reps with a quota), at_quota (band at or above
    100 %), names (the band's reps, best first, for a tooltip)."""
    n_bands = round(top / band)
    rated = per_rep[per_rep["quota"] > 0].sort_values("attainment", ascending=False)
    # Rounding before flooring keeps exact edges (30 % is 0.3 / 0.1 = 2.9999...) in their own band.
    index = np.minimum(np.floor(np.round(rated["attainment"].clip(lower=0).to_numpy() / band, 9)), n_bands).astype(int)
    # Iterated, not get_group: with a single rep pandas may key the group by a 1-tuple and miss k.
    members_of = {int(k): names.tolist() for k, names in pd.Series(rated["name"].to_numpy()).groupby(index)}
    starts = np.arange(n_bands + 1) * band
    counts = np.array([len(members_of.get(k, [])) for k in range(n_bands + 1)])

    def names(k: int) -> str:
        members = members_of.get(k, [])
        more = len(members) - names_shown
        return ", ".join(members[:names_shown]) + (f" and {more} more" if more > 0 else "")

    return pd.DataFrame(
        {
            "start": starts,
            "end": starts + band,
            "label": [f"{s:.0%}–{s + band:.0%}" for s in starts[:-1]] + [f"≥ {top:.0%}"],
            "reps": counts,
            "share": counts / len(rated) if len(rated) else np.zeros(n_bands + 1),
            "at_quota": starts >= 1.0 - 1e-9,
            "names": [names(k) for k in range(n_bands + 1)],
        }
    )


def cumulative_bookings_vs_quota(engine: Engine | sa.Connection, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    """Day by day through the period: cumulative bookings and the cumulative quota line (see
    cumulative_series), from the bookings KPI by day and the quota KPI by month."""
    daily = metrics.query(engine, ["bookings"], filters, scope, ["day"], as_of)
    monthly = metrics.query(engine, ["quota"], filters, scope, ["month"], as_of)
    return cumulative_series(daily, monthly, filters.period, as_of)


def cumulative_series(daily: pd.DataFrame, monthly: pd.DataFrame, period: Period, as_of: date) -> pd.DataFrame:
    """One row per day of the period: day, bookings (that day), cumulative_bookings, cumulative_quota,
    run_rate.

    Each month's quota is spread evenly over its days inside the period, so the line ends exactly at
    the period's quota (SPEC: the quota of the months starting in the period; a month that starts
    before a custom period's first day is not part of it). Cumulative bookings stop at today (or at
    the last booking, should a won deal carry a later close date), so the line never claims days
    that have not happened. The run rate continues today's pacing to the period's end: bookings /
    elapsed fraction at today, times the elapsed fraction of each later day, ending at the pacing KPI."""
    days = pd.date_range(period.start, period.end, freq="D")
    booked = daily.set_index(pd.to_datetime(daily["day"]))["bookings"].groupby(level=0).sum()
    bookings = booked.reindex(days, fill_value=0.0).to_numpy(dtype=float)

    month_of_day = days.to_period("M").to_timestamp()
    quota_by_month = monthly.set_index(pd.to_datetime(monthly["month"]))["quota"].groupby(level=0).sum()
    month_quota = pd.Series(month_of_day).map(quota_by_month).fillna(0.0).to_numpy(dtype=float)
    days_in_period = pd.Series(month_of_day).map(pd.Series(month_of_day).value_counts()).to_numpy()
    cumulative_quota = np.cumsum(month_quota / days_in_period)

    cumulative = np.cumsum(bookings)
    last_booking = days[bookings > 0].max() if (bookings > 0).any() else None
    today = pd.Timestamp(min(as_of, period.end))
    through = max(today, last_booking) if last_booking is not None else today
    shown = days <= through if as_of >= period.start or last_booking is not None else np.zeros(len(days), dtype=bool)

    elapsed_now = period.elapsed_fraction(as_of)
    run_rate = np.full(len(days), np.nan)
    if 0 < elapsed_now < 1:
        elapsed_each = (np.arange(len(days)) + 1) / period.days
        ahead = days >= pd.Timestamp(as_of)
        run_rate[ahead] = cumulative[-1] / elapsed_now * elapsed_each[ahead]
    return pd.DataFrame(
        {
            "day": days,
            "bookings": bookings,
            "cumulative_bookings": np.where(shown, cumulative, np.nan),
            "cumulative_quota": cumulative_quota,
            "run_rate": run_rate,
        }
    )


def pace(totals: Mapping[str, float], period: Period, as_of: date) -> pd.DataFrame:
    """Attainment to date, pacing vs quota and projected attainment beside the share of the period
    gone by (Period.elapsed_fraction): one row per KPI with its value, its yardstick and the gap.

    On a straight-line pace, attainment to date equals the elapsed share; pacing and projected
    attainment are already end-of-period figures, so their yardstick is 100 %. Without a quota the
    values are NaN (the page says "no quota"), never infinite."""
    elapsed = period.elapsed_fraction(as_of)
    rows = pd.DataFrame(
        {
            "kpi": ["attainment", "pacing_attainment", "projected_attainment"],
            "measure": ["Attainment to date", "Pacing vs quota", "Projected attainment"],
            "yardstick": [elapsed, 1.0, 1.0],
        }
    )
    rows["value"] = pd.to_numeric(pd.Series([totals.get(k) for k in rows["kpi"]], dtype=object), errors="coerce").astype(float)
    rows["gap"] = rows["value"] - rows["yardstick"]
    rows["elapsed"] = elapsed
    return rows


def group_filters(engine: Engine | sa.Connection, filters: Filters, level: str, group_id: int | None) -> Filters:
    """The filters narrowed to one row of attainment_by(level), so the deals listed behind that row add
    up to its bookings: teams={id} for a team (likewise segment, region), reps={id} for a rep, and for
    a manager (grouped by direct manager) or a missing group (no team, ...) the people in it."""
    if level not in LEVELS:
        raise ValueError(f"Unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if level == "rep":
        if group_id is None:
            raise ValueError("Every deal and quota has an owner: a rep group always has an id.")
        return replace(filters, reps=frozenset({int(group_id)}))
    if group_id is not None and level in _FILTER_FIELD:
        return replace(filters, **{_FILTER_FIELD[level]: frozenset({int(group_id)})})
    column = person.c[_PERSON_COLUMN[level]]
    members = sa.select(person.c.id).where(column.is_(None) if group_id is None else column == int(group_id))
    ids = {int(i) for i in read_frame(engine, members)["id"]}
    if filters.reps:
        ids &= filters.reps
    if not ids:  # an empty set would mean "no rep filter" and list everyone's deals
        raise ValueError(f"No one in view belongs to that {LEVELS[level].lower()}.")
    return replace(filters, reps=frozenset(ids))
