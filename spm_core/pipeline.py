"""Shaping pipeline-health numbers for display: the stage funnel, created-pipeline buckets, the
pipeline-change waterfall and per-group breakdowns.

The numbers themselves come from the metrics layer and history.py; these functions only order,
complete and label them, so a chart never invents or drops a value (empty stages and weeks show as
zero, not as gaps, and the waterfall's bars are laid end to end from the same steps).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import read_frame
from .filters import Filters, Period
from .kpis import kpi
from .model import DIMENSIONS, MEASURES
from .schema import stage

GRAINS = ("week", "month")
# Breakdown dimension -> the Filters field that narrows to one of its groups.
BREAKDOWN_FILTERS = {"team": "teams", "segment": "segments", "region": "regions", "product": "products", "rep": "reps"}
WATERFALL_KINDS = ("total", "increase", "decrease")


def open_stages(engine: Engine | sa.Connection) -> pd.DataFrame:
    """The warehouse's open stages in pipeline order (name, position, probability)."""
    stmt = (
        sa.select(stage.c.name.label("stage"), stage.c.position, stage.c.probability)
        .where(sa.not_(stage.c.is_closed))
        .order_by(stage.c.position)
    )
    return read_frame(engine, stmt)


def funnel(by_stage: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Open and weighted pipeline per open stage, in stage order, with every open stage present
    (zero when it holds no deals) and each stage's share of the open pipeline.

    by_stage: metrics.query(..., ["open_pipeline", "weighted_pipeline", "open_deals"], by=["stage"]);
    stages: open_stages(). Closed stages are dropped because they hold no open pipeline by definition.
    """
    values = ["open_pipeline", "weighted_pipeline", "open_deals"]
    merged = stages[["stage", "position", "probability"]].merge(by_stage[["stage", *values]], on="stage", how="left")
    merged[values] = merged[values].fillna(0)
    merged["open_deals"] = merged["open_deals"].astype("int64")
    total = merged["open_pipeline"].sum()
    merged["share"] = merged["open_pipeline"] / total if total else 0.0
    return merged.sort_values("position", kind="stable").reset_index(drop=True)


def bucket_start(day: date, grain: str) -> date:
    """The first day of the week (Monday, as DuckDB's date_trunc) or month holding `day`."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"Unknown grain {grain!r}; expected one of {', '.join(GRAINS)}.")


def _next_bucket(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def created_buckets(created: pd.DataFrame, period: Period, grain: str) -> pd.DataFrame:
    """Pipeline created per week or month of the period, every bucket present (zero when nothing was
    created), each clipped to the period so a partial first or last week says which days it covers.

    created: metrics.query(..., ["pipeline_created", "deals_created"], by=[grain]).
    """
    rows = []
    start = bucket_start(period.start, grain)
    while start <= period.end:
        following = _next_bucket(start, grain)
        rows.append({grain: start, "from": max(start, period.start), "to": min(following - timedelta(days=1), period.end)})
        start = following
    buckets = pd.DataFrame(rows, columns=[grain, "from", "to"])
    values = created[[grain, "pipeline_created", "deals_created"]].copy()
    values[grain] = pd.to_datetime(values[grain]).dt.date
    merged = buckets.merge(values, on=grain, how="left")
    merged["pipeline_created"] = merged["pipeline_created"].fillna(0.0)
    merged["deals_created"] = merged["deals_created"].fillna(0).astype("int64")
    full_days = (merged[grain].map(lambda s: _next_bucket(s, grain)) - merged[grain]).map(lambda d: d.days)
    merged["partial"] = (merged["to"] - merged["from"]).map(lambda d: d.days + 1) < full_days
    return merged.rename(columns={grain: "bucket"})


def waterfall(steps: pd.DataFrame) -> pd.DataFrame:
    """Bars for a waterfall chart from history.pipeline_change's steps: the first and last steps are
    totals drawn from zero; every step between floats from the running total before it to the one
    after it (base -> top), so a decrease is a bar hanging down from the previous total.

    Adds kind (total / increase / decrease), base, top and order (the steps' order on the axis).
    """
    bars = steps[["step", "amount", "deals"]].reset_index(drop=True)
    if len(bars) < 2:
        raise ValueError("A waterfall needs a start and an end step.")
    last = len(bars) - 1
    amounts = bars["amount"].astype(float)
    after = amounts.iloc[0] + amounts.iloc[1:last].cumsum()
    bars["kind"] = ["total" if i in (0, last) else ("increase" if a >= 0 else "decrease") for i, a in enumerate(amounts)]
    bars["base"] = 0.0
    bars["top"] = amounts
    bars.loc[1 : last - 1, "base"] = (after - amounts.iloc[1:last]).to_numpy()
    bars.loc[1 : last - 1, "top"] = after.to_numpy()
    bars["order"] = bars.index
    return bars


def groupable_kpis(kpis: tuple[str, ...], dimension: str) -> tuple[str, ...]:
    """The KPIs that can be split by the dimension: e.g. quotas have no product, so coverage and
    quota remaining cannot be broken down by product."""
    dim = DIMENSIONS[dimension]
    return tuple(name for name in kpis if all(dim.key(MEASURES[m]) is not None for m in kpi(name).measures))


def breakdown(frame: pd.DataFrame, dimension: str, sort_by: str) -> pd.DataFrame:
    """metrics.query(..., by=[dimension]) ready to show: a `group` label (missing groups, e.g. deals
    of a rep with no segment, are named "(no <dimension>)"), its id, largest `sort_by` first."""
    out = frame.rename(columns={f"{dimension}_id": "group_id", dimension: "group"})
    out["group"] = out["group"].astype("object").where(out["group"].notna(), f"(no {dimension})")
    return out.sort_values([sort_by, "group"], ascending=[False, True], kind="stable", na_position="last").reset_index(drop=True)


def narrowed(filters: Filters, dimension: str, group_id: int) -> Filters:
    """The filters narrowed to one group of a breakdown (the group's deals): that dimension's filter
    is replaced by the group, the others stay, so the deals are those the group's row counted."""
    return replace(filters, **{BREAKDOWN_FILTERS[dimension]: frozenset({int(group_id)})})
