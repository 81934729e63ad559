"""The scorecard an admin sets: which KPIs count, their weights, caps and monthly targets.

Stored in the warehouse (tables.py), so it travels with the data and every app process sees the same
one; until an admin saves one, DEFAULT_COMPONENTS apply. Per-person monthly targets override a
component's default for that person.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..kpis import CATALOGUE
from .tables import ensure_tables, exists, scorecard_component, scorecard_target

DEFAULT_CAP = 1.5
# KPIs that add up over days, so a target can be prorated by the days a person was present.
SCORABLE: tuple[str, ...] = (
    "calls", "emails", "meetings", "demos", "activities", "deals_created", "pipeline_created", "deals_won", "bookings",
)  # fmt: skip
QUOTA_TARGET = "bookings"  # the one KPI that may use the person's quota as its target


class ScorecardError(ValueError):
    """A scorecard setting that cannot be saved, with a message for the admin."""


@dataclass(frozen=True)
class Component:
    """One measure of the scorecard. monthly_target None: the person's quota for the period (bookings only)."""

    kpi: str
    weight: float
    monthly_target: float | None
    cap: float = DEFAULT_CAP

    @property
    def label(self) -> str:
        return CATALOGUE[self.kpi].label


DEFAULT_COMPONENTS: tuple[Component, ...] = (
    Component("calls", 0.15, 20.0),
    Component("meetings", 0.15, 5.0),
    Component("deals_created", 0.2, 5.0),
    Component("deals_won", 0.2, 1.0),
    Component("bookings", 0.3, None),
)


def validate(components: Sequence[Component]) -> tuple[Component, ...]:
    """The components if they make a scorecard, else ScorecardError saying what is wrong."""
    if not components:
        raise ScorecardError("A scorecard needs at least one component.")
    kpis = [c.kpi for c in components]
    if len(set(kpis)) != len(kpis):
        raise ScorecardError("Each KPI may appear once in the scorecard.")
    for c in components:
        if c.kpi not in SCORABLE:
            raise ScorecardError(f"{c.kpi!r} cannot be scored; one of {', '.join(SCORABLE)}.")
        if not (math.isfinite(c.weight) and c.weight >= 0):
            raise ScorecardError(f"The weight of {c.label} must be a number of 0 or more.")
        if not (math.isfinite(c.cap) and c.cap > 0):
            raise ScorecardError(f"The cap of {c.label} must be more than 0 (1.5 = 150 %).")
        if c.monthly_target is None and c.kpi != QUOTA_TARGET:
            raise ScorecardError(f"{c.label} needs a monthly target (only bookings can use the quota).")
        if c.monthly_target is not None and not (math.isfinite(c.monthly_target) and c.monthly_target > 0):
            raise ScorecardError(f"The monthly target of {c.label} must be more than 0.")
    total = sum(c.weight for c in components)
    if abs(total - 1.0) > 1e-6:
        raise ScorecardError(f"The weights must add up to 100 %; they add up to {total:.1%}.")
    return tuple(components)


def load_components(engine: Engine | sa.Connection) -> tuple[Component, ...]:
    """The saved scorecard, or DEFAULT_COMPONENTS when none is saved."""
    if not exists(engine, scorecard_component):
        return DEFAULT_COMPONENTS
    frame = read_frame(engine, sa.select(scorecard_component).order_by(scorecard_component.c.kpi))
    if frame.empty:
        return DEFAULT_COMPONENTS
    target = frame["monthly_target"].astype("float64")
    return tuple(
        Component(k, float(w), None if pd.isna(t) else float(t), float(c))
        for k, w, t, c in zip(frame["kpi"], frame["weight"], target, frame["cap"], strict=True)
    )


def save_components(engine: Engine, components: Sequence[Component]) -> None:
    """Replace the scorecard (validated first) in one transaction."""
    rows = [c.__dict__ for c in validate(components)]
    ensure_tables(engine)
    with engine.begin() as conn:
        conn.execute(scorecard_component.delete())
        conn.execute(scorecard_component.insert(), rows)


def load_targets(engine: Engine | sa.Connection) -> pd.DataFrame:
    """Per-person monthly targets: person_id, kpi, monthly_target (empty when none are saved)."""
    if not exists(engine, scorecard_target):
        return pd.DataFrame({"person_id": pd.Series(dtype="int64"), "kpi": pd.Series(dtype="str"),
                             "monthly_target": pd.Series(dtype="float64")})  # fmt: skip
    return read_frame(engine, sa.select(scorecard_target))


def set_target(engine: Engine, person_id: int, kpi: str, monthly_target: float | None) -> None:
    """Set one person's monthly target for a KPI; None goes back to the component's default."""
    if kpi not in SCORABLE:
        raise ScorecardError(f"{kpi!r} cannot be scored; one of {', '.join(SCORABLE)}.")
    if monthly_target is not None and not (math.isfinite(monthly_target) and monthly_target > 0):
        raise ScorecardError("A personal monthly target must be more than 0 (or none, for the default).")
    t = scorecard_target.c
    ensure_tables(engine)
    with engine.begin() as conn:
        conn.execute(scorecard_target.delete().where(t.person_id == person_id, t.kpi == kpi))
        if monthly_target is not None:
            conn.execute(scorecard_target.insert().values(person_id=person_id, kpi=kpi, monthly_target=float(monthly_target)))
