"""What a tile's change is measured against (SPEC "Comparisons"): like for like, never a period in
progress against a finished one, nor this quarter's open pipeline against last quarter's as of today
(all closed by then, so 0).

- A finished period: the whole previous period, both as the data stands today.
- A period in progress (or not yet started), against the previous period or the same period last year:
  that period as it stood at the same elapsed day. Flow KPIs count up to that day, snapshot KPIs (open,
  weighted, commit, best case pipeline, coverage) are rebuilt from opportunity history as of that day,
  quotas are the whole period's. Each KPI's time rule comes from its measures (model.py).
- "7 days ago": this period as it stood a week before today (what moved since last week).
Where the baseline needs a past state and the warehouse has no history, the KPI gets no change and a
note saying why, never a wrong one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.engine import Engine

from .filters import Filters, Period, Scope
from .history import has_history
from .kpis import KPI, kpi
from .metrics import query
from .model import FLOW, MEASURES, SNAPSHOT, TARGET

AGAINST = {"previous": "Previous period", "week": "7 days ago", "year": "Same period last year"}


@dataclass(frozen=True)
class Baseline:
    """The period compared with, and the day whose end it is taken at (None: as the data stands today)."""

    period: Period
    as_stood: date | None
    against: str


@dataclass(frozen=True)
class Comparison:
    baseline: Baseline
    values: dict[str, float | None]  # KPI -> its value in the baseline; None: no value, so no change
    notes: dict[str, str]  # KPI -> what its change is against, or why there is none


def baseline(period: Period, as_of: date, against: str = "previous") -> Baseline:
    """The like-for-like baseline of `period` seen on `as_of` (see the module's rules)."""
    if against not in AGAINST:
        raise ValueError(f"Unknown comparison {against!r}; expected one of {', '.join(AGAINST)}.")
    if against == "week":
        return Baseline(period, as_of - timedelta(days=7), against)
    other = period.previous() if against == "previous" else period.year_before()
    if as_of > period.end:
        return Baseline(other, None, against)
    return Baseline(other, min(other.start + (as_of - period.start), other.end), against)


def needs_history(k: KPI, b: Baseline) -> bool:
    return b.as_stood is not None and k.rule == SNAPSHOT


def _span(p: Period) -> str:
    return f"{p.start:%d %b %Y} – {p.end:%d %b %Y}"


def _moment(b: Baseline) -> str:
    day = f"{b.as_stood:%d %b %Y}"
    if b.against == "week":
        return f"{day}, 7 days ago"
    if b.as_stood < b.period.start:
        return f"{day}, {(b.period.start - b.as_stood).days} days before it started"
    return f"{day}, day {(b.as_stood - b.period.start).days + 1} of it"


def describe(k: KPI, b: Baseline, history_available: bool = True) -> str:
    """The sentence a tile's help ends with: what its change compares with, or why there is no change."""
    span = _span(b.period)
    if b.as_stood is None:
        return f"Change: against the whole of {span}, as the data stands today (this period is over)."
    if k.rule == TARGET:
        return f"Change: against the whole of {span}."
    quota = ", over the whole period's quota" if any(MEASURES[m].rule == TARGET for m in k.measures) else ""
    if k.rule == FLOW:
        return f"Change: against {span} counted up to {_moment(b)}{quota} (like for like)."
    if not history_available:
        return (
            f"No change shown: it would compare with {span} as it stood on {b.as_stood:%d %b %Y}, which needs opportunity "
            "history, and this warehouse has none."
        )
    flows = " (closed deals counted up to that day)" if any(MEASURES[m].rule == FLOW for m in k.measures) else ""
    return f"Change: against {span} as it stood at the end of {_moment(b)}{flows}{quota}, rebuilt from opportunity history."


def compare(
    engine: Engine, kpis: Sequence[str], filters: Filters, scope: Scope, as_of: date, against: str = "previous"
) -> Comparison:
    """Each KPI's value in its like-for-like baseline, in one query for all of them (plus one per
    reps-share KPI, as metrics.query), within the viewer's scope and the filters."""
    b = baseline(filters.period, as_of, against)
    history_available = has_history(engine)
    chosen = [kpi(n) for n in kpis]
    computable = [k.name for k in chosen if history_available or not needs_history(k, b)]
    values: dict[str, float | None] = dict.fromkeys(kpis)
    if computable:
        row = query(engine, computable, filters.with_period(b.period), scope, as_of=as_of, as_stood=b.as_stood).iloc[0]
        values |= {n: None if pd.isna(row[n]) else float(row[n]) for n in computable}
    return Comparison(b, values, {k.name: describe(k, b, history_available) for k in chosen})
