"""Overview: the headline numbers for the filtered period, each with its definition and deals."""

import altair as alt
import streamlit as st

from ui import warehouse
from ui.context import context
from ui.drilldown import view_deals
from ui.tiles import kpi_tiles
from ui.undated import undated_bucket
from ui.vega import show_chart

TOP_REPS = 15


def bookings_by_team(ctx) -> None:
    """Bookings per team, with reps outside any team as their own bar; by rep (the top ones) when the
    warehouse has no teams at all, so the chart never says "no bookings" beside a Bookings tile that
    shows some."""
    teams = warehouse.kpis(
        ctx.wh.engine, ctx.wh.version, ("bookings", "attainment"), ctx.filters, ctx.scope, ("team",), ctx.wh.as_of
    )
    if teams.empty or teams["bookings"].sum() == 0:
        st.subheader("Bookings by team")
        st.info("No bookings in this period for these filters.")
        return
    if teams["team"].notna().any():
        st.subheader("Bookings by team")
        shown = teams.assign(team=teams["team"].fillna("(no team)"))
        bar_chart(shown, "team", "Team")
        return
    st.subheader("Bookings by rep")
    reps = warehouse.kpis(
        ctx.wh.engine, ctx.wh.version, ("bookings", "attainment"), ctx.filters, ctx.scope, ("rep",), ctx.wh.as_of
    )
    top = reps[reps["bookings"] > 0].nlargest(TOP_REPS, "bookings")
    bar_chart(top, "rep", "Rep")
    more = f", the top {TOP_REPS} of {int((reps['bookings'] > 0).sum())}" if len(top) < (reps["bookings"] > 0).sum() else ""
    st.caption(f"No teams in this warehouse, so bookings are shown by rep{more}.")


def bar_chart(frame, field: str, title: str) -> None:
    """Horizontal bars, largest first, with bookings and attainment on hover."""
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{field}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("bookings:Q", title="Bookings", axis=alt.Axis(format="$,.2s")),
            tooltip=[
                alt.Tooltip(f"{field}:N", title=title),
                alt.Tooltip("bookings:Q", format="$,.0f"),
                alt.Tooltip("attainment:Q", format=".1%"),
            ],
        )
    )
    show_chart(chart, width="stretch")


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
        show_chart(bars + line, width="stretch")
        st.caption("Bars: bookings; red line: quota.")
with right:
    bookings_by_team(ctx)
view_deals(ctx, "bookings", key="overview_bookings_deals")
