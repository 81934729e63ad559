"""Rep scorecards: a weighted score per rep over activity and outcome measures, components visible."""

import streamlit as st

from spm_core.kpis import CATALOGUE
from ui.coaching import data
from ui.coaching.scorecard_admin import components_form, personal_target_form
from ui.coaching.writes import saved_notice
from ui.context import context

FORMULA = (
    "Score = Σ weight × min(actual / target, cap) × 100 over the components: 100 means every target met, "
    "overachievement counts up to each cap. Targets are monthly × the months the rep was present in the period "
    "(a mid-period joiner from their hire date); bookings may use the quota. A component without a target "
    "for a rep is left out and the other weights scaled up."
)
NUM = st.column_config.NumberColumn

ctx = context()
engine, version, as_of, period = ctx.wh.engine, ctx.wh.version, ctx.wh.as_of, ctx.filters.period
st.title("Rep scorecards")
st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · data as of {as_of:%d %b %Y}", help=FORMULA)
saved_notice()

components = data.components(engine, version)
cards = data.scorecard(engine, version, ctx.filters, ctx.scope, as_of)
if cards.empty:
    st.info("No reps in view for these filters and this period.")
else:
    st.caption(" · ".join(f"{c.label} {c.weight:.0%} (cap {c.cap:.0%})" for c in components))
    columns = {
        "rep": "Rep",
        "team": "Team",
        "score": st.column_config.ProgressColumn("Score", format="%.1f", min_value=0, max_value=100, help=FORMULA),
        "months_present": NUM("Months present", format="%.2f"),
    }
    for c in components:
        unit = CATALOGUE[c.kpi].unit
        fmt = "dollar" if unit == "currency" else "%.1f"
        columns |= {
            c.kpi: NUM(c.label, format=fmt),
            f"{c.kpi}_target": NUM(f"{c.label} target", format=fmt),
            f"{c.kpi}_points": NUM(
                f"{c.label} points", format="%.1f", help=f"Weight {c.weight:.0%} × min(actual / target, {c.cap:.0%}) × 100"
            ),
        }
    st.dataframe(cards[list(columns)], hide_index=True, column_config=columns, key="scorecard_table")

if ctx.user is not None and ctx.user.role == "admin":
    with st.expander("Scorecard settings (admin)"):
        components_form(components)
        if not cards.empty:
            st.divider()
            personal_target_form(cards, components)
