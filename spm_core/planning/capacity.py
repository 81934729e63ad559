"""Capacity: can the reps in the plan make its target? Headcount × ramped productivity, per segment.

Productivity (from history) is a segment's monthly bookings per fully ramped rep: won bookings of the
12 whole months before today's month, over the rep-months in which the rep was past their ramp schedule
(their own in this plan, else the plan's). A rep's capacity for the plan is that productivity times the
ramp factor of each month of the period (0 before a future start date); a planned seat counts like a hire
starting in its start month, by its segment. A hire starting in the period's first month adds productivity × the sum of
the schedule's factors over the period; the hires to close a segment's gap are gap / that, rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Period, Scope
from ..portable import period_start
from ..schema import opportunity, segment
from .model import Ramp
from .ramp import monthly_quotas, months_of
from .scenarios import SEAT, allocation, load_spec
from .tree import people


def history_window(as_of: date) -> Period:
    """The 12 whole months before as_of's month."""
    first = as_of.replace(day=1)
    return Period(first.replace(year=first.year - 1), first - timedelta(days=1))


def productivity(engine: Engine | sa.Connection, as_of: date, ramp: Ramp, own: Mapping[int, Ramp] | None = None) -> pd.DataFrame:
    """Per segment_id: booked (by fully ramped reps), rep_months (fully ramped), monthly (booked / rep_months).
    `own`: the schedules of their own some reps have (by person id)."""
    own = own or {}
    window = history_window(as_of)
    o = opportunity.c
    month = period_start("month", o.close_date)
    stmt = (
        sa.select(o.owner_id.label("person_id"), month.label("month"), sa.func.sum(o.amount).label("booked"))
        .where(o.is_won, o.close_date.between(window.start, window.end))
        .group_by(o.owner_id, month)
    )
    booked = read_frame(engine, stmt)
    booked["month"] = pd.to_datetime(booked["month"]).dt.date
    reps = people(engine)
    reps = reps[reps["role"] == "rep"]
    grid = reps[["id", "segment_id", "hire_date"]].merge(
        pd.DataFrame({"month": months_of(window.start, window.end)}), how="cross"
    )
    hired = pd.to_datetime(grid["hire_date"])
    month = pd.to_datetime(grid["month"])
    tenure = (month.dt.year - hired.dt.year) * 12 + month.dt.month - hired.dt.month + 1  # NaN: no hire date, tenured
    steps = grid["id"].map(lambda i: len(own.get(int(i), ramp).factors))
    grid = grid[tenure.isna() | (tenure > steps)]
    grid = grid.merge(booked, left_on=["id", "month"], right_on=["person_id", "month"], how="left")
    grid["booked"] = grid["booked"].astype(float).fillna(0.0)
    out = grid.groupby("segment_id", dropna=False).agg(booked=("booked", "sum"), rep_months=("id", "size")).reset_index()
    out["monthly"] = out["booked"] / out["rep_months"]
    return out


def capacity(engine: Engine | sa.Connection, sid: int, as_of: date, scope: Scope) -> pd.DataFrame:
    """Per segment of the scenario's reps and planned seats in scope: reps, seats, target, capacity, gap
    (target − capacity), per_hire (what one hire starting in the first month adds), hires (to close the gap;
    NaN without history)."""
    spec = load_spec(engine, sid)
    months = months_of(spec.period.start, spec.period.end)
    own = spec.own_ramps()
    rows = allocation(engine, sid, scope)
    reps = rows[rows["kind"] != "team"].copy()
    rate = productivity(engine, as_of, spec.ramp, own).set_index("segment_id")["monthly"]
    ramped = monthly_quotas(reps[["person_id"]].assign(cents=0, hire_date=reps["start"]), months, spec.ramp, own)
    reps["factors"] = reps["person_id"].map(ramped.groupby("person_id")["factor"].sum())
    reps["capacity"] = reps["factors"] * reps["segment_id"].map(rate).astype(float).fillna(0.0)
    reps["seat"] = reps["kind"] == SEAT
    out = reps.groupby("segment_id", dropna=False).agg(
        reps=("seat", lambda x: int((~x).sum())), seats=("seat", "sum"), target=("amount", "sum"), capacity=("capacity", "sum")
    )
    out = out.reset_index()
    out["gap"] = out["target"] - out["capacity"]
    new_hire = float(sum(spec.ramp.factor(k) for k in range(1, len(months) + 1)))
    out["per_hire"] = out["segment_id"].map(rate).astype(float) * new_hire
    out["hires"] = [
        (math.ceil(round(g / p, 9)) if g > 0 else 0) if p and p > 0 else float("nan")
        for g, p in zip(out["gap"], out["per_hire"], strict=True)
    ]
    names = read_frame(engine, sa.select(segment.c.id, segment.c.name))
    return out.merge(names.rename(columns={"id": "segment_id", "name": "segment"}), on="segment_id", how="left")
