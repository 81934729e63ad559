"""Admin: app settings. For now what reps see of the others on leaderboards (spm_core.settings)."""

import streamlit as st

from spm_core import leaderboard as lb
from spm_core.kpis import CATALOGUE
from spm_core.settings import PEER_VISIBILITY, Settings, load_settings, save_settings, settings_file
from ui.context import context

VISIBILITY_LABELS = {"rank_only": "Rank and name only", "rank_and_metric": "Rank, name and one metric"}

ctx = context()
if ctx.user is None or ctx.user.role != "admin":  # navigation hides this page; this guards a direct link
    st.error("Only admins change settings.")
    st.stop()

path = settings_file(ctx.wh.url)
saved = load_settings(path)
st.title("Settings")
st.subheader("Leaderboards: what reps see of the others")
st.caption(lb.PEER_RULE)
with st.form("peer_visibility_form"):
    visibility = st.radio(
        "A rep sees of the others",
        PEER_VISIBILITY,
        index=PEER_VISIBILITY.index(saved.peer_visibility),
        format_func=VISIBILITY_LABELS.__getitem__,
        key="settings_peer_visibility",
    )
    metric = st.selectbox(
        "That one metric",
        lb.METRICS,
        index=lb.METRICS.index(saved.peer_metric),
        format_func=lambda m: CATALOGUE[m].label,
        key="settings_peer_metric",
        help="The only board on which reps see the others' numbers; on every other board they see ranks.",
    )
    if st.form_submit_button("Save"):
        save_settings(Settings(visibility, metric), path)
        st.success("Saved. Reps see it on their next page load.")
