"""The KPI catalogue: every KPI of SPEC.md, declared once with its label, unit and definition.

A KPI is a formula over measures (model.py). The help text is what the screen shows when asked
"which definition is this?", so it quotes SPEC.md and states every choice made where SPEC is silent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from .model import FLOW, MEASURES, SNAPSHOT, TARGET

Column = Callable[[str], sa.ColumnElement]  # measure name -> its (NULL-safe) column


def ratio(numerator: sa.ColumnElement, denominator: sa.ColumnElement) -> sa.ColumnElement:
    """numerator / denominator as a float, NULL when the denominator is 0 (never infinity or NaN)."""
    return sa.cast(numerator, sa.Double) / sa.func.nullif(sa.cast(denominator, sa.Double), 0)


@dataclass(frozen=True)
class KPI:
    name: str
    label: str
    unit: str  # currency | percent | count | days | currency_per_day
    measures: tuple[str, ...]
    formula: Callable[[Column, sa.ColumnElement], sa.ColumnElement]  # (measure, elapsed fraction) -> value
    help: str
    reps_share: bool = False  # computed per rep, then the share of reps meeting it (see pct_reps_at_quota)
    higher_is_better: bool = True

    @property
    def rule(self) -> str:
        """The KPI's time rule, from its measures' (model.py): SNAPSHOT as soon as one measure is a state
        (coverage is open pipeline over what remains to book), else FLOW, else TARGET (quota alone)."""
        rules = {MEASURES[m].rule for m in self.measures}
        return SNAPSHOT if SNAPSHOT in rules else FLOW if FLOW in rules else TARGET


def _m(name: str) -> Callable[[Column, sa.ColumnElement], sa.ColumnElement]:
    return lambda m, elapsed: m(name)


def _win_rate(m: Column) -> sa.ColumnElement:
    return ratio(m("won_count"), m("won_count") + m("lost_count"))


def _velocity(m: Column, elapsed: sa.ColumnElement) -> sa.ColumnElement:
    avg_deal = ratio(m("won_amount"), m("won_count"))
    cycle = ratio(m("cycle_days_sum"), m("cycle_count"))
    return ratio(m("open_count") * _win_rate(m) * avg_deal, cycle)


CATALOGUE: dict[str, KPI] = {
    k.name: k
    for k in (
        KPI(
            "bookings",
            "Bookings",
            "currency",
            ("won_amount",),
            _m("won_amount"),
            "Closed-won revenue: sum of amount of won opportunities whose close date is in the period.",
        ),
        KPI(
            "quota",
            "Quota",
            "currency",
            ("quota_amount",),
            _m("quota_amount"),
            "Sum of the monthly quotas of the people in scope for the months starting in the period "
            "(quarters and years are sums of months). The product filter does not apply to quotas.",
        ),
        KPI(
            "ramped_quota",
            "Ramped quota",
            "currency",
            ("ramped_quota_amount",),
            _m("ramped_quota_amount"),
            "The part of the quota that is a new hire's ramped quota (reduced while the rep ramps up to full quota).",
        ),
        KPI(
            "attainment",
            "Quota attainment",
            "percent",
            ("won_amount", "quota_amount"),
            lambda m, e: ratio(m("won_amount"), m("quota_amount")),
            'Bookings / quota for the period. Shown as "no quota" when the quota is 0.',
        ),
        KPI(
            "pct_reps_at_quota",
            "% of reps at quota",
            "percent",
            ("won_amount", "quota_amount"),
            lambda m, e: ratio(m("won_amount"), m("quota_amount")),
            "Share of reps in scope with attainment >= 100 % in the period, among reps who have a quota "
            "in the period (a rep with no quota has no attainment and is not counted).",
            reps_share=True,
        ),
        KPI(
            "pacing",
            "Pacing (run rate)",
            "currency",
            ("won_amount",),
            lambda m, e: ratio(m("won_amount"), e),
            "Bookings / fraction of the period elapsed (today counts as elapsed; the whole period once it "
            "is over): the bookings the period ends with if the run rate holds.",
        ),
        KPI(
            "pacing_attainment",
            "Pacing vs quota",
            "percent",
            ("won_amount", "quota_amount"),
            lambda m, e: ratio(ratio(m("won_amount"), e), m("quota_amount")),
            "Pacing / quota: the attainment the period ends with if the run rate holds.",
        ),
        KPI(
            "projected_attainment",
            "Projected attainment",
            "percent",
            ("won_amount", "weighted_amount", "quota_amount"),
            lambda m, e: ratio(m("won_amount") + m("weighted_amount"), m("quota_amount")),
            "(Bookings + weighted open pipeline closing in the period) / quota.",
        ),
        KPI(
            "open_pipeline",
            "Open pipeline",
            "currency",
            ("open_amount",),
            _m("open_amount"),
            "Sum of amount of open opportunities whose expected close date is in the period.",
        ),
        KPI(
            "open_deals",
            "Open deals",
            "count",
            ("open_count",),
            _m("open_count"),
            "Number of open opportunities whose expected close date is in the period.",
        ),
        KPI(
            "weighted_pipeline",
            "Weighted pipeline",
            "currency",
            ("weighted_amount",),
            _m("weighted_amount"),
            "Sum of amount x stage probability (from the stage table, not the deal's own probability field) "
            "over open opportunities closing in the period.",
        ),
        KPI(
            "quota_remaining",
            "Quota remaining",
            "currency",
            ("won_amount", "quota_amount"),
            lambda m, e: sa.func.greatest(m("quota_amount") - m("won_amount"), 0),
            "max(quota - bookings, 0) for the period.",
            higher_is_better=False,
        ),
        KPI(
            "coverage",
            "Pipeline coverage",
            "ratio",
            ("open_amount", "won_amount", "quota_amount"),
            lambda m, e: ratio(m("open_amount"), sa.func.greatest(m("quota_amount") - m("won_amount"), 0)),
            'Open pipeline / max(quota - bookings, 0) for the period; "covered" when nothing remains '
            "(the value is then empty, never infinite).",
        ),
        KPI(
            "win_rate",
            "Win rate",
            "percent",
            ("won_count", "lost_count"),
            lambda m, e: _win_rate(m),
            "Won / (won + lost), counting opportunities closed in the period. The default win rate.",
        ),
        KPI(
            "win_rate_value",
            "Win rate (value)",
            "percent",
            ("won_amount", "lost_amount"),
            lambda m, e: ratio(m("won_amount"), m("won_amount") + m("lost_amount")),
            "Won amount / (won amount + lost amount), closed in the period; the lost amount is the amount at loss.",
        ),
        KPI(
            "avg_deal_size",
            "Average deal size",
            "currency",
            ("won_amount", "won_count"),
            lambda m, e: ratio(m("won_amount"), m("won_count")),
            "Bookings / number of won opportunities, closed in the period.",
        ),
        KPI(
            "sales_cycle_days",
            "Sales cycle (mean days)",
            "days",
            ("cycle_days_sum", "cycle_count"),
            lambda m, e: ratio(m("cycle_days_sum"), m("cycle_count")),
            "Mean of (close date - created date) in days over won opportunities closed in the period "
            "(deals with no created date are left out).",
            higher_is_better=False,
        ),
        KPI(
            "sales_cycle_median_days",
            "Sales cycle (median days)",
            "days",
            ("cycle_days_median",),
            _m("cycle_days_median"),
            "Median of (close date - created date) in days over won opportunities closed in the period.",
            higher_is_better=False,
        ),
        KPI(
            "sales_velocity",
            "Sales velocity",
            "currency_per_day",
            ("open_count", "won_count", "lost_count", "won_amount", "cycle_days_sum", "cycle_count"),
            _velocity,
            "(Open opportunities x win rate x average deal size) / mean sales cycle, per day; open "
            "opportunities are those closing in the period, the rest as defined for each KPI.",
        ),
        KPI(
            "deals_won",
            "Deals won",
            "count",
            ("won_count",),
            _m("won_count"),
            "Number of won opportunities closed in the period.",
        ),
        KPI(
            "deals_lost",
            "Deals lost",
            "count",
            ("lost_count",),
            _m("lost_count"),
            "Number of lost opportunities closed in the period.",
            higher_is_better=False,
        ),
        KPI(
            "pipeline_created",
            "Pipeline created",
            "currency",
            ("created_amount",),
            _m("created_amount"),
            "Sum of amount of opportunities created in the period (by created date, whatever their stage now).",
        ),
        KPI(
            "deals_created",
            "Deals created",
            "count",
            ("created_count",),
            _m("created_count"),
            "Number of opportunities created in the period.",
        ),
        KPI(
            "commit_pipeline",
            "Commit",
            "currency",
            ("commit_amount",),
            _m("commit_amount"),
            "Open opportunities in forecast category Commit closing in the period.",
        ),
        KPI(
            "best_case_pipeline",
            "Best case",
            "currency",
            ("best_case_amount",),
            _m("best_case_amount"),
            "Open opportunities in forecast category Best Case closing in the period.",
        ),
        KPI(
            "forecast_call",
            "Forecast (call)",
            "currency",
            ("won_amount", "commit_amount"),
            lambda m, e: m("won_amount") + m("commit_amount"),
            "Closed + commit: bookings in the period plus open Commit deals closing in it.",
        ),
        KPI(
            "forecast_upside",
            "Forecast upside",
            "currency",
            ("won_amount", "commit_amount", "best_case_amount"),
            lambda m, e: m("won_amount") + m("commit_amount") + m("best_case_amount"),
            "Closed + commit + best case.",
        ),
        KPI(
            "activities",
            "Activities",
            "count",
            ("activity_count",),
            _m("activity_count"),
            "Number of activities (calls, emails, meetings, demos) dated in the period.",
        ),
        KPI("calls", "Calls", "count", ("call_count",), _m("call_count"), "Calls dated in the period."),
        KPI("emails", "Emails", "count", ("email_count",), _m("email_count"), "Emails dated in the period."),
        KPI("meetings", "Meetings", "count", ("meeting_count",), _m("meeting_count"), "Meetings dated in the period."),
        KPI("demos", "Demos", "count", ("demo_count",), _m("demo_count"), "Demos dated in the period."),
    )
}

# KPIs computed from opportunity history (history.py); listed here so every definition lives in one place.
HISTORY_KPIS: dict[str, str] = {
    "stage_conversion": "Of opportunities that entered stage k in the period (per history), the share that later "
    "reached stage k+1 or Closed Won (at any time up to today).",
    "stalled": "Open, and no stage change for more than 2 x the median days spent in its stage (measured over "
    "all completed stage stints in scope), or 30 days when that median is unknown.",
    "overdue": "Open with an expected close date before today (deals whose expected close date is in the period).",
    "slipped": "Open in the period's pipeline at the period's start (expected close in the period), whose expected "
    "close date is now after the period's end.",
    "pipeline_change": "From the open pipeline at the period's start to the open pipeline now (or at the period's end "
    "once it is over): + created, + pulled in, - pushed out, - won, - lost, +/- amount changes. Created and pulled-in "
    "deals count at their amount at the end (or when they closed), won, lost and pushed-out deals at the amount they "
    "left with; amount changes are those of deals open at both ends, so the steps add up to the end.",
    "forecast_accuracy": "1 - |forecast at week N of the period - actual bookings| / actual bookings, per period, "
    "where the forecast at a date is closed + commit as recorded in opportunity history on that date.",
}


def kpi(name: str) -> KPI:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ValueError(f"Unknown KPI {name!r}; known: {', '.join(sorted(CATALOGUE))}") from None
