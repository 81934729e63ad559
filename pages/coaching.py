"""Coaching flags: who needs help and why (the numbers behind each flag), and what the strongest do
differently. A manager sees their subtree, a rep only themselves."""

import streamlit as st

from spm_core.coaching.flags import Thresholds
from spm_core.formatting import percent, ratio
from ui.coaching import data
from ui.context import context

T = Thresholds()
RULES = (
    f"- **Low coverage**: open pipeline below {ratio(T.coverage)} the quota still to book.\n"
    f"- **Pacing behind**: bookings at the run rate below {percent(T.pacing)} of quota.\n"
    f"- **Low activity**: activities below {percent(T.activity_share)} of the team median.\n"
    f"- **Stalled or slipped**: at least {T.min_stuck} such deals and {percent(T.stuck_share)} of the open deals of the period.\n"
    f"- **Stage win rate**: from a stage, at least {T.min_deals} deals closed and a win rate below "
    f"{percent(T.win_rate_share)} of the team's.\n\nThe team is the whole team, whoever is in view."
)

ctx = context()
engine, version, as_of, period = ctx.wh.engine, ctx.wh.version, ctx.wh.as_of, ctx.filters.period
st.title("Coaching")
st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · data as of {as_of:%d %b %Y}", help=RULES)

found = data.flags(engine, version, ctx.filters, ctx.scope, as_of)
if found.attrs.get("needs_history"):
    st.info("This warehouse has no opportunity history: stage win rates and stalled or slipped deals are not checked.")
st.subheader("Flags")
if found.empty:
    st.success("No flags for the reps in view in this period.")
else:
    with st.container(horizontal=True):
        for flag, n in found["flag"].value_counts().sort_index().items():
            st.metric(flag, n, border=True)
    st.dataframe(
        found[["rep", "team", "flag", "reason"]],
        hide_index=True,
        column_config={"rep": "Rep", "team": "Team", "flag": "Flag", "reason": st.column_config.TextColumn("Why", width="large")},
        key="coaching_flags",
    )

leaders = data.strongest(engine, version, ctx.filters, ctx.scope, as_of)
if len(leaders) >= 3:  # a rep alone in view has no one to learn from here
    st.subheader("Strongest performers")
    st.caption(
        "The top reps in view by attainment, and the measures where they are furthest above the median of the reps in view."
    )
    st.dataframe(
        leaders[["rep", "attainment", "bookings", "differences"]],
        hide_index=True,
        column_config={
            "rep": "Rep",
            "attainment": st.column_config.NumberColumn("Attainment", format="percent"),
            "bookings": st.column_config.NumberColumn("Bookings", format="dollar"),
            "differences": st.column_config.TextColumn("What they do differently", width="large"),
        },
        key="coaching_strongest",
    )
