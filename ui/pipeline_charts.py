"""Altair charts for the pipeline page. Each takes a small, already aggregated frame from
spm_core.pipeline (never raw deals: Altair refuses more than 5,000 rows) and carries tooltips."""

from __future__ import annotations

import altair as alt
import pandas as pd

from spm_core.kpis import CATALOGUE
from spm_core.pipeline import WATERFALL_KINDS

from . import format as fmt

OPEN_COLOR, WEIGHTED_COLOR = "#9ecae9", "#1f77b4"
KIND_COLORS = {"total": "#4c78a8", "increase": "#54a24b", "decrease": "#e45756"}
VEGA_FORMATS = {"currency": "$,.0f", "percent": ".1%", "count": ",d", "days": ",.0f", "ratio": ".2f", "currency_per_day": "$,.0f"}


def _money_axis(title: str | None) -> alt.Axis:
    return alt.Axis(format="$,.2s", title=title)


def kpi_tooltip(name: str) -> alt.Tooltip:
    k = CATALOGUE[name]
    return alt.Tooltip(f"{name}:Q", title=k.label, format=VEGA_FORMATS[k.unit])


def funnel_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """A centred funnel: open pipeline per stage, weighted pipeline drawn inside it."""
    data = frame.assign(label=frame["open_pipeline"].map(fmt.money), probability_share=frame["probability"] / 100)
    half = float(data["open_pipeline"].max()) / 2 or 1.0
    y = alt.Y("stage:N", sort=list(data["stage"]), title=None, axis=alt.Axis(labelLimit=160))
    x_scale = alt.Scale(domain=[-half * 1.35, half * 1.35])
    tooltip = [
        alt.Tooltip("stage:N", title="Stage"),
        alt.Tooltip("probability_share:Q", title="Stage probability", format=".0%"),
        kpi_tooltip("open_deals"),
        kpi_tooltip("open_pipeline"),
        kpi_tooltip("weighted_pipeline"),
        alt.Tooltip("share:Q", title="Share of open pipeline", format=".1%"),
    ]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    open_bar = (
        base.mark_bar(color=OPEN_COLOR)
        .encode(x=alt.X("open_left:Q", scale=x_scale, axis=None), x2="open_right:Q")
        .transform_calculate(open_left="-datum.open_pipeline / 2", open_right="datum.open_pipeline / 2")
    )
    weighted_bar = (
        base.mark_bar(color=WEIGHTED_COLOR, height={"band": 0.55})
        .encode(x=alt.X("w_left:Q", scale=x_scale, axis=None), x2="w_right:Q")
        .transform_calculate(w_left="-datum.weighted_pipeline / 2", w_right="datum.weighted_pipeline / 2")
    )
    labels = (
        base.mark_text(align="left", dx=6)
        .encode(x=alt.X("open_right:Q", scale=x_scale, axis=None), text="label:N")
        .transform_calculate(open_right="datum.open_pipeline / 2")
    )
    return (open_bar + weighted_bar + labels).properties(height=max(180, 42 * len(data)))


def conversion_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Share of deals entering each stage that went on to the next stage or Closed Won."""
    data = frame.assign(label=frame["conversion"].map(fmt.percent))
    tooltip = [
        alt.Tooltip("stage:N", title="Stage"),
        alt.Tooltip("reached:Q", title="Entered in the period", format=",d"),
        alt.Tooltip("advanced:Q", title="Later advanced or won", format=",d"),
        alt.Tooltip("conversion:Q", title="Conversion", format=".1%"),
    ]
    base = alt.Chart(data).encode(x=alt.X("stage:N", sort=list(data["stage"]), title=None, axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(color=WEIGHTED_COLOR).encode(
        y=alt.Y(
            "conversion:Q", title="Converted to next stage or won", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
        ),
        tooltip=tooltip,
    )
    labels = base.mark_text(dy=-8).encode(y="conversion:Q", text="label:N", tooltip=tooltip)
    return (bars + labels).properties(height=300)


def created_chart(frame: pd.DataFrame, grain: str) -> alt.Chart:
    """Pipeline created per week or month; partial buckets at the period's edges say so."""
    label_format = "%d %b" if grain == "week" else "%b %Y"
    data = frame.assign(
        label=[f.strftime(label_format) for f in frame["from"]],
        days=[
            f"{f:%d %b %Y} – {t:%d %b %Y}" + (" (partial)" if p else "")
            for f, t, p in zip(frame["from"], frame["to"], frame["partial"], strict=True)
        ],
    )
    return (
        alt.Chart(data)
        .mark_bar(color=WEIGHTED_COLOR)
        .encode(
            x=alt.X("label:N", sort=list(data["label"]), title=None, axis=alt.Axis(labelAngle=-45 if len(data) > 8 else 0)),
            y=alt.Y("pipeline_created:Q", title="Pipeline created", axis=_money_axis(None)),
            tooltip=[
                alt.Tooltip("days:N", title="Created"),
                kpi_tooltip("pipeline_created"),
                kpi_tooltip("deals_created"),
            ],
        )
        .properties(height=300)
    )


def waterfall_chart(bars: pd.DataFrame) -> alt.LayerChart:
    """Open pipeline at the start, each change floating from the running total, the end total."""
    data = bars.assign(
        label=[
            (fmt.money(a) if k == "total" or a < 0 else "+" + fmt.money(a))
            for k, a in zip(bars["kind"], bars["amount"], strict=True)
        ],
        label_at=bars[["base", "top"]].max(axis=1),
    )
    tooltip = [
        alt.Tooltip("step:N", title="Step"),
        alt.Tooltip("amount:Q", title="Amount", format="$,.0f"),
        alt.Tooltip("deals:Q", title="Deals", format=",d"),
        alt.Tooltip("top:Q", title="Open pipeline after this step", format="$,.0f"),
    ]
    x = alt.X("step:N", sort=list(data["step"]), title=None, axis=alt.Axis(labelAngle=0, labelLimit=120))
    base = alt.Chart(data).encode(x=x, tooltip=tooltip)
    bars_layer = base.mark_bar().encode(
        y=alt.Y("base:Q", title="Open pipeline", axis=_money_axis(None)),
        y2="top:Q",
        color=alt.Color(
            "kind:N", scale=alt.Scale(domain=list(WATERFALL_KINDS), range=[KIND_COLORS[k] for k in WATERFALL_KINDS]), legend=None
        ),
    )
    labels = base.mark_text(dy=-8).encode(y="label_at:Q", text="label:N")
    return (bars_layer + labels).properties(height=320)


def breakdown_chart(frame: pd.DataFrame, title: str, kpis: tuple[str, ...]) -> alt.LayerChart:
    """Open pipeline per group with its weighted part inside; every breakdown KPI in the tooltip."""
    tooltip = [alt.Tooltip("group:N", title=title), *(kpi_tooltip(n) for n in kpis)]
    base = alt.Chart(frame).encode(
        y=alt.Y("group:N", sort=list(frame["group"]), title=None, axis=alt.Axis(labelLimit=180)), tooltip=tooltip
    )
    open_bar = base.mark_bar(color=OPEN_COLOR).encode(x=alt.X("open_pipeline:Q", title="Open pipeline", axis=_money_axis(None)))
    weighted_bar = base.mark_bar(color=WEIGHTED_COLOR, height={"band": 0.55}).encode(x="weighted_pipeline:Q")
    return (open_bar + weighted_bar).properties(height=max(160, 26 * len(frame)))
