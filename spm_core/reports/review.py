"""The period review: what went right and wrong in a month or quarter, for any scope a viewer has.

    review = build_review(engine, filters, scope, as_of)   # filters.period: a calendar month or quarter

A review is a list of sections, each a DataFrame computed through the metrics layer (metrics.query,
deals, history, comparison), so every figure agrees with the dashboards and stays inside the viewer's
scope. A section that needs opportunity history on a warehouse without it has no frame and says so
("needs history"), never a table of zeros. The writers (xlsx.py, pdf.py) only lay sections out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import comparison, history, metrics
from ..db import has_column, read_frame
from ..deals import deals, deals_statement
from ..filters import Filters, Period, Scope
from ..kpis import HISTORY_KPIS, kpi
from ..leaderboard import rank_entries
from ..schema import opportunity, opportunity_history
from .periods import accuracy_window, check_reviewable, next_period

HEADLINE_KPIS = (
    "bookings",
    "quota",
    "attainment",
    "deals_won",
    "deals_lost",
    "win_rate",
    "avg_deal_size",
    "pipeline_created",
    "open_pipeline",
    "coverage",
)
PLAN = {"bookings": "quota", "attainment": None}  # KPI -> the KPI that is its plan (None: 100 %)
TOP = 10

SUCCESS, FAILURE, OUTLOOK, SUMMARY = "Successes", "Failures", "Outlook", "Headline"
DEAL_COLUMNS = ["name", "account", "owner", "team", "product", "type", "stage", "amount", "created_date", "close_date"]


@dataclass(frozen=True)
class Section:
    """One table of the review. `frame` None: the section cannot be computed here, and `note` says why.
    `units` maps numeric columns to a unit (currency, percent, count, ratio, days) for the writers;
    a frame with a `unit` column carries it per row instead (the headline, whose rows are KPIs)."""

    key: str
    title: str
    group: str
    frame: pd.DataFrame | None
    note: str
    units: Mapping[str, str] = field(default_factory=dict)

    @property
    def needs_history(self) -> bool:
        return self.frame is None


@dataclass(frozen=True)
class Review:
    period: Period
    next_period: Period
    filters: Filters
    scope: Scope
    as_of: date
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def _with_history(
    key: str, title: str, group: str, note: str, units: Mapping[str, str], build: Callable[[], pd.DataFrame]
) -> Section:
    """A history-based section, or the same section with no frame and the reason when there is no history."""
    try:
        return Section(key, title, group, build(), note, units)
    except history.NeedsHistory as exc:
        return Section(key, title, group, None, f"Needs history: {exc}", units)


def headline(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> Section:
    """Each headline KPI with its like-for-like previous-period value (comparison.py) and its plan."""
    now = metrics.query(engine, list(HEADLINE_KPIS), filters, scope, as_of=as_of).iloc[0]
    before = comparison.compare(engine, list(HEADLINE_KPIS), filters, scope, as_of)
    rows = []
    for name in HEADLINE_KPIS:
        value = None if pd.isna(now[name]) else float(now[name])
        previous = before.values[name]
        plan = (float(now[PLAN[name]]) if PLAN[name] else 1.0) if name in PLAN else None
        rows.append(
            {
                "kpi": kpi(name).label,
                "unit": kpi(name).unit,
                "value": value,
                "previous": previous,
                "change": None if value is None or previous is None else value - previous,
                "plan": plan,
                "vs_plan": None if value is None or plan is None else value - plan,
                "compared_with": before.notes[name],
            }
        )
    frame = pd.DataFrame(rows).astype({c: "Float64" for c in ("value", "previous", "change", "plan", "vs_plan")})
    note = "Change: against the previous period, like for like (each row says how). Plan: the quota."
    return Section("headline", "Headline KPIs", SUMMARY, frame, note)


def top_performers(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> Section:
    """The reps with the most bookings in the period (competition ranking, ties by name)."""
    values = metrics.query(
        engine, ["bookings", "quota", "attainment", "deals_won"], filters, scope, by=["team", "rep"], as_of=as_of
    )
    values = values[values["bookings"] > 0]
    ranked = rank_entries(values.rename(columns={"rep_id": "id", "rep": "name"}).assign(value=values["bookings"]))
    frame = ranked.head(TOP).rename(columns={"name": "rep"})[
        ["rank", "rep", "team", "bookings", "quota", "attainment", "deals_won"]
    ]
    units = {"bookings": "currency", "quota": "currency", "attainment": "percent", "deals_won": "count", "rank": "count"}
    return Section("top_performers", "Top performers", SUCCESS, frame.reset_index(drop=True), f"Top {TOP} by bookings.", units)


def _deal_list(engine: Engine, kpi_name: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    return deals(engine, kpi_name, filters, scope, limit=TOP)[["id", *DEAL_COLUMNS]]


def biggest_wins(engine: Engine, filters: Filters, scope: Scope) -> Section:
    frame = _deal_list(engine, "deals_won", filters, scope).drop(columns="id")
    return Section(
        "biggest_wins", "Biggest wins", SUCCESS, frame, f"The {TOP} largest deals won in the period.", {"amount": "currency"}
    )


def _team_pace(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    """Teams with a quota: bookings, quota, attainment, pacing and projected attainment."""
    names = ["bookings", "quota", "attainment", "pacing_attainment", "projected_attainment"]
    frame = metrics.query(engine, names, filters, scope, by=["team"], as_of=as_of)
    return frame[frame["team_id"].notna() & (frame["quota"] > 0)].drop(columns="team_id")


TEAM_UNITS = {
    "bookings": "currency",
    "quota": "currency",
    "attainment": "percent",
    "pacing_attainment": "percent",
    "projected_attainment": "percent",
}
PACE_NOTE = (
    "Pace: bookings / the share of the period elapsed, over the quota (at the period's end: attainment). "
    "Only the part of each team in view is counted."
)


def teams_by_pace(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> tuple[Section, Section]:
    """Teams on pace for their quota (pacing >= 100 %) and those behind it."""
    teams = _team_pace(engine, filters, scope, as_of)
    ahead = teams[teams["pacing_attainment"] >= 1].sort_values(["pacing_attainment", "team"], ascending=[False, True])
    behind = teams[teams["pacing_attainment"] < 1].sort_values(["pacing_attainment", "team"])
    return (
        Section("teams_ahead", "Teams ahead of pace", SUCCESS, ahead.reset_index(drop=True), PACE_NOTE, TEAM_UNITS),
        Section("teams_behind", "Teams behind pace", FAILURE, behind.reset_index(drop=True), PACE_NOTE, TEAM_UNITS),
    )


FLAG_BELOW = 0.5


def flagged_reps(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> Section:
    """Reps with a quota on pace for less than half of it: the ones a manager should talk to first."""
    names = ["bookings", "quota", "attainment", "pacing_attainment", "deals_won", "open_pipeline"]
    reps = metrics.query(engine, names, filters, scope, by=["team", "rep"], as_of=as_of)
    reps = reps[reps["rep_id"].notna() & (reps["quota"] > 0) & (reps["pacing_attainment"] < FLAG_BELOW)]
    frame = reps.sort_values(["pacing_attainment", "rep"]).drop(columns=["team_id", "rep_id"])[["rep", "team", *names]]
    units = TEAM_UNITS | {"deals_won": "count", "open_pipeline": "currency"}
    note = f"Reps with a quota whose pace (as for teams) is below {FLAG_BELOW:.0%} of it, lowest first."
    return Section("flagged_reps", "Flagged reps", FAILURE, frame.reset_index(drop=True), note, units)


def forecast_accuracy(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> Section:
    week, periods = accuracy_window(filters.period)
    note = f"{HISTORY_KPIS['forecast_accuracy']} Read at week {week}."
    units = {"forecast": "currency", "actual": "currency", "accuracy": "percent"}
    return _with_history(
        "forecast_accuracy",
        "Forecast accuracy",
        SUCCESS,
        note,
        units,
        lambda: history.forecast_accuracy(engine, filters, periods, week, scope, as_of),
    )


def _stage_at_loss(engine: Engine, ids: list[int]) -> pd.Series:
    """The last open stage of each lost deal before it closed, from history (empty without history)."""
    h = opportunity_history.c
    latest = sa.func.row_number().over(partition_by=h.opportunity_id, order_by=(h.changed_at.desc(), h.id.desc()))
    rows = (
        sa.select(h.opportunity_id, h.stage, latest.label("n")).where(sa.not_(h.is_closed), h.opportunity_id.in_(ids)).subquery()
    )
    found = read_frame(engine, sa.select(rows.c.opportunity_id, rows.c.stage).where(rows.c.n == 1))
    return pd.Series(found["stage"].to_numpy(), index=found["opportunity_id"].astype("int64"), dtype="str")


NOT_RECORDED = "Not recorded"


def _loss_reason(engine: Engine) -> sa.ColumnElement:
    """The deal's loss reason, "Not recorded" when the CRM left it empty or the warehouse predates the column."""
    if not has_column(engine, opportunity.c.loss_reason):
        return sa.literal(NOT_RECORDED)
    return sa.func.coalesce(sa.func.nullif(sa.func.trim(opportunity.c.loss_reason), ""), NOT_RECORDED)


def largest_losses(engine: Engine, filters: Filters, scope: Scope) -> Section:
    """The largest deals lost in the period, with their loss reason and the stage each was lost from (from
    history; empty without it)."""
    frame = _deal_list(engine, "deals_lost", filters, scope)
    ids = frame["id"].astype("int64")
    at_loss = ids.map(_stage_at_loss(engine, ids.tolist()))
    found = read_frame(
        engine, sa.select(opportunity.c.id, _loss_reason(engine).label("reason")).where(opportunity.c.id.in_(ids.tolist()))
    )
    reasons = ids.map(pd.Series(found["reason"].to_numpy(), index=found["id"].astype("int64")))
    frame = frame.drop(columns=["id", "stage"]).assign(
        loss_reason=reasons.astype("str"), lost_at_stage=at_loss.astype("str").where(at_loss.notna(), None)
    )
    note = (
        f"The {TOP} largest deals lost in the period, at their amount at loss, with the reason the CRM recorded; "
        "the stage is the last open stage before the loss, from opportunity history (empty without it)."
    )
    return Section("largest_losses", "Largest losses", FAILURE, frame, note, {"amount": "currency"})


def losses_by_reason(engine: Engine, filters: Filters, scope: Scope) -> Section:
    """Every deal lost in the period grouped by loss reason: deals, amount and share of the lost amount."""
    lost = deals_statement("deals_lost", filters, scope).order_by(None).subquery("lost")
    reason = _loss_reason(engine)
    stmt = sa.select(
        reason.label("loss_reason"), sa.func.count().label("deals"), sa.func.sum(opportunity.c.amount).label("amount")
    )
    stmt = stmt.select_from(opportunity.join(lost, lost.c.id == opportunity.c.id))
    if not isinstance(reason, sa.sql.elements.BindParameter):  # a constant in GROUP BY is an error on DuckDB and PostgreSQL
        stmt = stmt.group_by(reason)
    frame = read_frame(engine, stmt).astype({"deals": "int64", "amount": "float64"})
    frame = frame[frame["deals"] > 0]  # without GROUP BY an empty period still gives one row
    total = frame["amount"].sum()
    frame["share"] = frame["amount"] / total if total else 0.0
    frame = frame.sort_values(["amount", "loss_reason"], ascending=[False, True], kind="stable").reset_index(drop=True)
    note = (
        'Every deal lost in the period by the reason the CRM recorded ("Not recorded" when it has none); '
        "share: of the amount lost. The deal counts add up to Deals lost in the headline."
    )
    units = {"deals": "count", "amount": "currency", "share": "percent"}
    return Section("losses_by_reason", "Losses by reason", FAILURE, frame, note, units)


def slipped(engine: Engine, filters: Filters, scope: Scope) -> Section:
    columns = ["name", "account", "owner", "team", "stage", "amount", "close_date_at_start", "close_date"]
    return _with_history(
        "slipped_deals",
        "Slipped deals",
        FAILURE,
        HISTORY_KPIS["slipped"],
        {"amount": "currency"},
        lambda: history.slipped_deals(engine, filters, scope)[columns],
    )


def waterfall(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> Section:
    return _with_history(
        "pipeline_change",
        "Pipeline change",
        OUTLOOK,
        HISTORY_KPIS["pipeline_change"],
        {"amount": "currency", "deals": "count"},
        lambda: history.pipeline_change(engine, filters, scope, as_of),
    )


COVERAGE_KPIS = ["quota", "bookings", "open_pipeline", "weighted_pipeline", "coverage"]


def next_coverage(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> Section:
    """Next period's pipeline against its quota: everyone in view first, then each team."""
    later = filters.with_period(next_period(filters.period))
    total = metrics.query(engine, COVERAGE_KPIS, later, scope, as_of=as_of).assign(team="All in view")
    teams = metrics.query(engine, COVERAGE_KPIS, later, scope, by=["team"], as_of=as_of)
    teams = teams[teams["team_id"].notna()].drop(columns="team_id")
    frame = pd.concat([total[["team", *COVERAGE_KPIS]], teams[["team", *COVERAGE_KPIS]]], ignore_index=True)
    units = dict.fromkeys(COVERAGE_KPIS[:-1], "currency") | {"coverage": "ratio"}
    note = f"{kpi('coverage').help} Empty coverage: nothing remains to book, or no quota."
    return Section("next_coverage", "Next period's coverage", OUTLOOK, frame, note, units)


def build_review(engine: Engine, filters: Filters, scope: Scope, as_of: date) -> Review:
    """Every section of the review of filters.period (a calendar month or quarter) as seen on as_of."""
    check_reviewable(filters.period)
    ahead, behind = teams_by_pace(engine, filters, scope, as_of)
    sections = (
        headline(engine, filters, scope, as_of),
        top_performers(engine, filters, scope, as_of),
        biggest_wins(engine, filters, scope),
        ahead,
        forecast_accuracy(engine, filters, scope, as_of),
        largest_losses(engine, filters, scope),
        losses_by_reason(engine, filters, scope),
        slipped(engine, filters, scope),
        behind,
        flagged_reps(engine, filters, scope, as_of),
        waterfall(engine, filters, scope, as_of),
        next_coverage(engine, filters, scope, as_of),
    )
    return Review(filters.period, next_period(filters.period), filters, scope, as_of, sections)
