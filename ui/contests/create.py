"""The create-contest form, for managers (their subtree) and admins (everyone)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from spm_core.contests.model import BOARDS, LEVELS, METRICS, PARTICIPANT_ROLES, RECURRENCES, Contest, MetricRule, label, save
from spm_core.filters import Scope
from ui.coaching.writes import write

from .boards import BOARD_LABELS


def create_form(creator_id: int | None, scope: Scope, teams: pd.DataFrame, segments: pd.DataFrame, today: date) -> None:
    """Widgets for a new contest; nothing is saved until the button."""
    team_names = dict(zip(teams["id"], teams["name"], strict=True))
    segment_names = dict(zip(segments["id"], segments["name"], strict=True))
    name = st.text_input("Name", key="contest_name", max_chars=100)
    start_col, end_col = st.columns(2)
    starts = start_col.date_input("Starts", today, key="contest_starts")
    ends = end_col.date_input("Ends", today + timedelta(days=13), key="contest_ends")
    repeats = st.selectbox(
        "Repeats", [None, *RECURRENCES], format_func=lambda r: "No: one round" if r is None else r, key="contest_recurring"
    )
    level = st.segmented_control("For", LEVELS, default="individual", required=True, key="contest_level")
    kind = st.segmented_control(
        "Board", BOARDS, format_func=BOARD_LABELS.__getitem__, default="ranked", required=True, key="contest_board"
    )
    target = st.number_input("Target points (race)", 0.0, value=100.0, key="contest_target") if kind == "race" else None
    eliminate = every = None
    if kind == "elimination":
        drop_col, every_col = st.columns(2)
        eliminate = int(drop_col.number_input("Drop the bottom", 1, 100, 1, key="contest_eliminate"))
        every = int(every_col.number_input("Every (days)", 1, 90, 7, key="contest_every"))
    kpis = st.multiselect("Metrics", METRICS, default=["deals_won"], format_func=label, key="contest_metrics")
    rules = tuple(
        MetricRule(k, st.number_input(f"Points per unit: {label(k)}", 0.0, value=1.0, key=f"contest_points_{k}")) for k in kpis
    )
    chosen_teams = st.multiselect(
        "Teams (none: all in your view)", list(team_names), format_func=team_names.__getitem__, key="contest_teams"
    )
    chosen_segments = st.multiselect(
        "Segments (none: all)", list(segment_names), format_func=segment_names.__getitem__, key="contest_segments"
    )
    roles = st.multiselect("Roles taking part", PARTICIPANT_ROLES, default=["rep"], key="contest_roles")
    prizes = st.text_area("Prizes", key="contest_prizes", max_chars=1000)
    if st.button("Create contest", key="contest_create"):
        contest = Contest(
            name, starts, ends, level, kind, rules, frozenset(chosen_teams), frozenset(chosen_segments), frozenset(roles),
            target, eliminate, every, prizes, repeats,
        )  # fmt: skip
        write(lambda engine: save(engine, contest, creator_id, scope), f"Contest {name.strip()} created.")
