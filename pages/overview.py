"""Overview: the headline numbers for the filtered period, each with its definition and deals."""

import altair as alt
import streamlit as st

from ui import warehouse
from ui.context import context
from ui.drilldown import view_deals
from ui.tiles import kpi_tiles
from ui.undated import undated_bucket

HEADLINE = ("bookings", "quota", "attainment", "forecast_call", "open_pipeline", "coverage", "win_rate", "avg_deal_size")

ctx = context()
period = ctx.filters.period
st.title("Overview")
st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · data as of {ctx.wh.as_of:%d %b %Y}")
kpi_tiles(ctx, HEADLINE, against=("previous", "year"), key="overview")
undated_bucket(ctx, key="overview_undated_deals")
if not ctx.wh.has_quotas:
    st.info("This warehouse has no quotas, so attainment and coverage show as “no quota”.")

left, right = st.columns(2)
with left:
    st.subheader("Bookings by month")
    trend_filters = ctx.filters.with_period(period.with_year_before())
    trend = warehouse.kpis(
        ctx.wh.engine, ctx.wh.version, ("bookings", "quota"), trend_filters, ctx.scope, ("month",), ctx.wh.as_of
    )
    if trend.empty or trend["bookings"].sum() == 0:
        st.info("No bookings in the last twelve months for these filters.")
    else:
        base = alt.Chart(trend).encode(x=alt.X("yearmonth(month):T", title=None))
        bars = base.mark_bar().encode(
            y=alt.Y("bookings:Q", title="Bookings", axis=alt.Axis(format="$,.2s")),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="Month"),
                alt.Tooltip("bookings:Q", format="$,.0f"),
                alt.Tooltip("quota:Q", format="$,.0f"),
            ],
        )
        line = base.mark_line(color="#d62728", point=True).encode(y="quota:Q")
        st.altair_chart(bars + line, width="stretch")
        st.caption("Bars: bookings; red line: quota.")
with right:
    st.subheader("Bookings by team")
    teams = warehouse.kpis(
        ctx.wh.engine, ctx.wh.version, ("bookings", "attainment"), ctx.filters, ctx.scope, ("team",), ctx.wh.as_of
    )
    teams = teams.dropna(subset=["team"])
    if teams.empty or teams["bookings"].sum() == 0:
        st.info("No bookings in this period for these filters.")
    else:
        chart = (
            alt.Chart(teams)
            .mark_bar()
            .encode(
                y=alt.Y("team:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
                x=alt.X("bookings:Q", title="Bookings", axis=alt.Axis(format="$,.2s")),
                tooltip=["team", alt.Tooltip("bookings:Q", format="$,.0f"), alt.Tooltip("attainment:Q", format=".1%")],
            )
        )
        st.altair_chart(chart, width="stretch")
view_deals(ctx, "bookings", key="overview_bookings_deals")
