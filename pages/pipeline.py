"""Pipeline health: how much open pipeline the period holds, how it moved, where deals convert or
stall, and which groups carry it. Numbers come from the metrics layer and history.py (SPEC.md)."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from spm_core import history
from spm_core.kpis import CATALOGUE, HISTORY_KPIS
from spm_core.pipeline import GRAINS, breakdown, created_buckets, funnel, groupable_kpis, narrowed, waterfall
from ui import format as fmt
from ui import pipeline_charts as charts
from ui import pipeline_data as data
from ui import warehouse
from ui.context import context
from ui.drilldown import deal_table, view_deals
from ui.tiles import kpi_tiles
from ui.undated import undated_bucket
from ui.vega import show_chart

TILES = (
    "open_pipeline",
    "weighted_pipeline",
    "quota_remaining",
    "coverage",
    "sales_velocity",
    "win_rate",
    "win_rate_value",
    "avg_deal_size",
    "sales_cycle_days",
    "sales_cycle_median_days",
)
FUNNEL_KPIS = ("open_pipeline", "weighted_pipeline", "open_deals")
BREAKDOWN_KPIS = (
    "open_pipeline",
    "weighted_pipeline",
    "open_deals",
    "quota_remaining",
    "coverage",
    "win_rate",
    "win_rate_value",
    "avg_deal_size",
    "sales_cycle_days",
    "sales_velocity",
)
BREAKDOWNS = {"team": "Team", "segment": "Segment", "region": "Region", "product": "Product", "rep": "Rep"}
CHART_GROUPS = 25  # bars in the breakdown chart; the table lists every group
COLUMN_FORMATS = {
    "currency": "dollar",
    "percent": "percent",
    "count": "localized",
    "days": "%.0f",
    "ratio": "%.2fx",
    "currency_per_day": "dollar",
}


def definitions(*names: str) -> str:
    """SPEC definitions of the KPIs a section shows, for its help tooltip."""
    return "\n\n".join(f"**{CATALOGUE[n].label}**: {CATALOGUE[n].help}" for n in names)


def needs_history(exc: history.NeedsHistory) -> None:
    st.info(f"**Needs opportunity history.** {exc}", icon=":material/history:")


def deal_list(load: Callable[[], pd.DataFrame], what: str, help_text: str, key: str, file_name: str) -> None:
    """One list of deals needing attention, with its definition, total and CSV download."""
    st.caption(help_text)
    try:
        frame = load()
    except history.NeedsHistory as exc:
        needs_history(exc)
        return
    if frame.empty:
        st.info(f"No {what} deals for these filters.")
        return
    st.markdown(f"**{len(frame):,} {what} deals**, {fmt.money(frame['amount'].sum())} in amount")
    deal_table(frame, file_name, key)


ctx = context()
wh, filters, scope, period = ctx.wh, ctx.filters, ctx.scope, ctx.filters.period
end_day = min(wh.as_of, period.end)  # the waterfall's last bar: today, or the period's end once it is over
st.title("Pipeline health")
st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · data as of {wh.as_of:%d %b %Y}")

now = kpi_tiles(ctx, TILES, per_row=5, against=("previous", "week", "year"), key="pipeline")
undated_bucket(ctx, key="pipeline_undated_deals")
if now["quota"] == 0:
    st.info("No quota set for these filters, so coverage and quota remaining have nothing to compare with.")
with st.expander("Deals behind these numbers", icon=":material/list:"):
    view_deals(ctx, "open_pipeline", key="pipeline_open_deals")
    view_deals(ctx, "bookings", key="pipeline_won_deals", label="Won (closed in the period)")
    view_deals(ctx, "deals_lost", key="pipeline_lost_deals", label="Lost (closed in the period)")

left, right = st.columns(2)
with left:
    st.subheader("Open pipeline by stage", help=definitions(*FUNNEL_KPIS))
    by_stage = warehouse.kpis(wh.engine, wh.version, FUNNEL_KPIS, filters, scope, ("stage",), wh.as_of)
    stages = funnel(by_stage, data.stages(wh.engine, wh.version))
    if stages["open_deals"].sum() == 0:
        st.info("No open pipeline closing in this period for these filters.")
    else:
        show_chart(charts.funnel_chart(stages), width="stretch")
        st.caption("Light bars: open pipeline; dark bars: weighted by the stage's probability. Closed stages are left out.")
with right:
    st.subheader("Stage conversion", help=HISTORY_KPIS["stage_conversion"])
    try:
        conversion = data.stage_conversion(wh.engine, wh.version, filters, scope)
    except history.NeedsHistory as exc:
        needs_history(exc)
    else:
        if conversion["reached"].sum() == 0:
            st.info("No deal entered an open stage in this period for these filters.")
        else:
            show_chart(charts.conversion_chart(conversion), width="stretch")
            st.caption("Of the deals that entered each stage in the period, the share that later reached the next stage or won.")

left, right = st.columns(2)
with left:
    st.subheader("Pipeline change", help=HISTORY_KPIS["pipeline_change"])
    try:
        steps = data.pipeline_change(wh.engine, wh.version, filters, scope, wh.as_of)
    except history.NeedsHistory as exc:
        needs_history(exc)
    else:
        if (steps["deals"] == 0).all():
            st.info("No pipeline was open, created or closed in this period for these filters.")
        else:
            show_chart(charts.waterfall_chart(waterfall(steps)), width="stretch")
            over = period.end < wh.as_of
            note = (
                " The Open pipeline tile counts the deals still open today; the last bar is the pipeline as it stood then."
                if over
                else ""
            )
            st.caption(f"Open pipeline closing in the period, from {period.start:%d %b %Y} to {end_day:%d %b %Y}.{note}")
            with st.expander("Steps as a table"):
                st.dataframe(
                    steps,
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "step": "Step",
                        "amount": st.column_config.NumberColumn("Amount", format="dollar"),
                        "deals": st.column_config.NumberColumn("Deals", format="localized"),
                    },
                )
with right:
    st.subheader("Pipeline created", help=definitions("pipeline_created", "deals_created"))
    grain = st.radio("Per", GRAINS, format_func=str.capitalize, horizontal=True, key="pipeline_created_grain")
    created = warehouse.kpis(wh.engine, wh.version, ("pipeline_created", "deals_created"), filters, scope, (grain,), wh.as_of)
    buckets = created_buckets(created, period, grain)
    if buckets["deals_created"].sum() == 0:
        st.info("No pipeline created in this period for these filters.")
    else:
        show_chart(charts.created_chart(buckets, grain), width="stretch")
        st.caption(
            f"{fmt.money(buckets['pipeline_created'].sum())} in {int(buckets['deals_created'].sum()):,} deals created in the "
            f"period, by created date whatever their stage now."
        )
    view_deals(ctx, "pipeline_created", key="pipeline_created_deals")

st.subheader("Deals needing attention")
# One list at a time: stalled deals need every deal's time in stage from history (the page's costliest
# query at scale), so it runs only when asked for.
ATTENTION = {
    "overdue": (lambda: data.overdue_deals(wh.engine, wh.version, filters, scope, wh.as_of), HISTORY_KPIS["overdue"]),
    "stalled": (lambda: data.stalled_deals(wh.engine, wh.version, filters, scope, wh.as_of), HISTORY_KPIS["stalled"]),
    "slipped": (lambda: data.slipped_deals(wh.engine, wh.version, filters, scope), HISTORY_KPIS["slipped"]),
}
shown = st.radio("Show", list(ATTENTION), format_func=str.capitalize, horizontal=True, key="pipeline_attention")
load, help_text = ATTENTION[shown]
deal_list(load, shown, help_text, f"pipeline_{shown}", f"{shown}_deals_{period.start}_{period.end}.csv")

st.subheader("Breakdown", help=definitions(*BREAKDOWN_KPIS))
dimension = st.radio(
    "Break down by", list(BREAKDOWNS), format_func=BREAKDOWNS.__getitem__, horizontal=True, key="pipeline_breakdown_by"
)
names = groupable_kpis(BREAKDOWN_KPIS, dimension)
groups = breakdown(
    warehouse.kpis(wh.engine, wh.version, names, filters, scope, (dimension,), wh.as_of), dimension, "open_pipeline"
)
if groups.empty:
    st.info("No data for these filters.")
else:
    if len(names) < len(BREAKDOWN_KPIS):
        st.caption(f"Quotas are not set per {dimension}, so quota remaining and coverage are not split by it.")
    show_chart(charts.breakdown_chart(groups.head(CHART_GROUPS), BREAKDOWNS[dimension], names), width="stretch")
    if len(groups) > CHART_GROUPS:
        st.caption(f"The chart shows the {CHART_GROUPS} groups with the most open pipeline; the table lists all {len(groups):,}.")
    st.dataframe(
        groups[["group", *names]],
        hide_index=True,
        width="stretch",
        column_config={
            "group": BREAKDOWNS[dimension],
            **{
                n: st.column_config.NumberColumn(
                    CATALOGUE[n].label, format=COLUMN_FORMATS[CATALOGUE[n].unit], help=CATALOGUE[n].help
                )
                for n in names
            },
        },
    )
    labels = {int(i): g for i, g in zip(groups["group_id"], groups["group"], strict=True) if pd.notna(i)}
    if labels:
        chosen = st.selectbox(
            f"{BREAKDOWNS[dimension]} to list the open deals of",
            list(labels),
            format_func=labels.__getitem__,
            key=f"pipeline_breakdown_{dimension}_group",
        )
        view_deals(
            ctx,
            "open_pipeline",
            key="pipeline_breakdown_deals",
            filters=narrowed(filters, dimension, chosen),
            label=f"open pipeline of {labels[chosen]}",
        )
