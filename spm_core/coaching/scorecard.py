"""Rep scorecards (SPEC "Coaching"): score = Σ weight × min(actual / target, cap) × 100.

    scorecard(engine, filters, scope, as_of)

Weights add up to 1, so 100 means every target met; overachievement counts up to the cap (1.5 unless
set: 150). Targets are monthly; a period's target is the monthly target × the months the person was
present in it, each month counted by the share of its days from the hire date on (a rep hired on
15 Feb has 14/28 of February), so a mid-period joiner is held to what they could do. Bookings may use
the person's quota for the period instead (quotas already follow hire date and ramp). A component
with no target for a person (no quota) is left out of their score and the other weights are scaled up
to 1, so the score stays on the same scale; a person with no target at all has no score.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import metrics
from ..filters import Filters, Period, Scope
from .roster import eligible, reps
from .scorecard_settings import Component, load_components, load_targets


def _months(period: Period) -> list[tuple[date, date, int]]:
    """(first day in the period, last day in the period, days in the whole month) per month it touches."""
    out, first = [], period.start.replace(day=1)
    while first <= period.end:
        following = (first + timedelta(days=32)).replace(day=1)
        out.append((max(first, period.start), min(following - timedelta(days=1), period.end), (following - first).days))
        first = following
    return out


def months_present(hire_dates: pd.Series, period: Period) -> pd.Series:
    """Months of the period each person was present: per month, days from the hire date on / days in the
    month (an unknown hire date counts as present throughout). A whole quarter is 3.0."""
    hired = pd.to_datetime(hire_dates)
    total = pd.Series(0.0, index=hire_dates.index)
    for start, end, month_days in _months(period):
        since = hired.where(hired > pd.Timestamp(start), pd.Timestamp(start))
        days = ((pd.Timestamp(end) - since).dt.days + 1).clip(lower=0)
        total = total + days / month_days
    return total


def score(actuals: pd.DataFrame, targets: pd.DataFrame, components: Sequence[Component]) -> pd.DataFrame:
    """Per row (a person): `<kpi>_ratio` (actual / target, capped; NaN without a target), `<kpi>_points`
    (the effective weight × ratio × 100) and `score`, their sum. `actuals` and `targets` have one
    column per component's KPI, same index."""
    kpis = [c.kpi for c in components]
    weights = pd.Series([c.weight for c in components], index=kpis)
    caps = pd.Series([c.cap for c in components], index=kpis)
    has_target = targets[kpis] > 0
    ratio = (actuals[kpis] / targets[kpis].where(has_target)).clip(upper=caps, axis=1)
    present_weight = has_target.mul(weights, axis=1)
    effective = present_weight.div(present_weight.sum(axis=1).where(lambda s: s > 0), axis=0)
    points = effective * ratio.fillna(0) * 100
    out = pd.concat([ratio.add_suffix("_ratio"), points.where(has_target).add_suffix("_points")], axis=1)
    out["score"] = points.sum(axis=1).where(has_target.any(axis=1))
    return out


def targets_for(
    roster: pd.DataFrame, quota: pd.Series, personal: pd.DataFrame, components: Sequence[Component], period: Period
) -> pd.DataFrame:
    """Each listed person's period target per component (index rep_id): the personal monthly target, else
    the component's, × months present; a component with no monthly target uses `quota` (by rep_id)."""
    months = pd.Series(months_present(roster["hire_date"], period).to_numpy(), index=roster["rep_id"])
    own = personal.pivot_table(index="person_id", columns="kpi", values="monthly_target", aggfunc="last")
    columns = {}
    for c in components:
        monthly = own[c.kpi].reindex(months.index) if c.kpi in own.columns else pd.Series(float("nan"), index=months.index)
        if c.monthly_target is None:
            columns[c.kpi] = (monthly * months).fillna(quota.reindex(months.index).fillna(0.0))
        else:
            columns[c.kpi] = monthly.fillna(c.monthly_target) * months
    return pd.DataFrame(columns, index=months.index).assign(months_present=months)


def scorecard(
    engine: Engine | sa.Connection,
    filters: Filters,
    scope: Scope,
    as_of: date,
    components: Sequence[Component] | None = None,
    personal: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per rep in view: rep_id, rep, team, months_present, score, and per component `<kpi>`
    (actual), `<kpi>_target`, `<kpi>_ratio`, `<kpi>_points`; best score first (no score last), then name."""
    components = tuple(components or load_components(engine))
    personal = load_targets(engine) if personal is None else personal
    kpis = [c.kpi for c in components]
    roster = reps(engine, filters, scope)
    values = metrics.query(engine, [*dict.fromkeys([*kpis, "quota"])], filters, scope, by=["rep"], as_of=as_of)
    values = values.dropna(subset=["rep_id"]).astype({"rep_id": "int64"}).set_index("rep_id")
    actuals = values[kpis].reindex(roster["rep_id"]).fillna(0.0)
    keep = eligible(roster, filters.period.end).to_numpy() | (actuals.sum(axis=1) > 0).to_numpy()
    roster, actuals = roster[keep], actuals[keep]
    targets = targets_for(roster, values["quota"], personal, components, filters.period)
    scored = score(actuals, targets, components)
    out = pd.concat(
        [roster.set_index("rep_id")[["rep", "team"]], targets[["months_present"]], scored[["score"]], actuals,
         targets[kpis].add_suffix("_target"), scored.drop(columns="score")],
        axis=1,
    )  # fmt: skip
    return out.reset_index().sort_values(["score", "rep"], ascending=[False, True], na_position="last", kind="stable")
