"""Activities: each rep's calls, emails, meetings and demos against their team's median and their own
trend, activity-to-outcome ratios by rep and team, and the activities behind one rep's numbers."""

import altair as alt
import streamlit as st

from spm_core.coaching.activities import ACTIVITY_TYPES, MEDIAN_HELP, RATIO_HELP, TREND_HELP
from ui.coaching import data
from ui.context import context
from ui.downloads import csv_download
from ui.vega import show_chart

NUM = st.column_config.NumberColumn
RATIO_COLUMNS = {
    "meetings_per_won": NUM("Meetings / won deal", format="%.2f", help=RATIO_HELP["meetings_per_won"]),
    "calls_per_created": NUM("Calls / opp. created", format="%.2f", help=RATIO_HELP["calls_per_created"]),
}

ctx = context()
engine, version, as_of, period = ctx.wh.engine, ctx.wh.version, ctx.wh.as_of, ctx.filters.period
st.title("Activities")
st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · data as of {as_of:%d %b %Y}")

per_rep = data.rep_activity(engine, version, ctx.filters, ctx.scope, as_of)
if per_rep.empty:
    st.info("No reps in view for these filters and this period.")
    st.stop()

st.subheader("Per rep against the team median")
table = per_rep.assign(**{f"{c}_vs_median": per_rep[c] - per_rep[f"{c}_median"] for c in ("activities", *ACTIVITY_TYPES)})
st.dataframe(
    table[
        [
            "rep",
            "team",
            "activities",
            "activities_median",
            "activities_vs_median",
            "activities_change",
            *[c for t in ACTIVITY_TYPES for c in (t, f"{t}_vs_median")],
            "deals_won",
            "deals_created",
            *RATIO_COLUMNS,
        ]
    ],
    hide_index=True,
    column_config={
        "rep": "Rep",
        "team": "Team",
        "activities": NUM("Activities", format="%d"),
        "activities_median": NUM("Team median", format="%.1f", help=MEDIAN_HELP),
        "activities_vs_median": NUM("vs median", format="%+.1f", help=MEDIAN_HELP),
        "activities_change": NUM("Trend", format="percent", help=TREND_HELP),
        **{t: NUM(t.title(), format="%d") for t in ACTIVITY_TYPES},
        **{f"{t}_vs_median": NUM(f"{t.title()} vs median", format="%+.1f", help=MEDIAN_HELP) for t in ACTIVITY_TYPES},
        "deals_won": NUM("Deals won", format="%d"),
        "deals_created": NUM("Opps created", format="%d"),
        **RATIO_COLUMNS,
    },
    key="activities_table",
)

st.subheader("Activity to outcome, by team")
teams = data.team_ratios(engine, version, ctx.filters, frozenset(per_rep["team_id"].dropna().astype(int)), as_of)
st.dataframe(
    teams[["team", "meetings", "deals_won", "calls", "deals_created", *RATIO_COLUMNS]],
    hide_index=True,
    column_config={"team": "Team", **RATIO_COLUMNS},
    key="activities_teams",
)
st.caption("Team ratios are over the whole team, whatever the people filters.")

st.subheader("One rep: trend and activities")
names = dict(zip(per_rep["rep_id"], per_rep["rep"], strict=True))
ids = list(names)
rep_id = st.selectbox(
    "Rep",
    ids,
    index=ids.index(ctx.viewer_id) if ctx.viewer_id in names else 0,
    format_func=names.__getitem__,
    key="activities_rep",
)
trend = data.weekly(engine, version, ctx.filters, ctx.scope, rep_id, as_of)
if trend.empty or trend["count"].sum() == 0:
    st.info("No activities for this rep in the period.")
    st.stop()
chart = (
    alt.Chart(trend)
    .mark_bar()
    .encode(
        x=alt.X("week:T", title="Week of", axis=alt.Axis(format="%d %b")),
        y=alt.Y("count:Q", title="Activities"),
        color=alt.Color("type:N", title="Type"),
        tooltip=[alt.Tooltip("week:T", title="Week of"), "type:N", "count:Q"],
    )
)
show_chart(chart, width="stretch")
listed = data.activity_list(engine, version, ctx.filters, ctx.scope, rep_id)
st.dataframe(listed, hide_index=True, key="activities_list")
csv_download(
    f"Download {len(listed):,} activities (CSV)", listed, f"activities_{rep_id}_{period.start}_{period.end}.csv", "activities_csv"
)
