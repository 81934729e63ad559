"""A contest's board as a table (names as data, never Markdown) and the winners once it is over."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.contests import scoring
from spm_core.contests.badges import BIGGEST, FIRST_OF_MONTH, ICONS, STREAK, STREAK_WEEKS
from spm_core.contests.model import Contest, label, occurrence
from ui.text import md

BOARD_LABELS = {"ranked": "Ranked table", "race": "Race to a target", "elimination": "Elimination"}
MEDALS = ("🥇", "🥈", "🥉")
BADGE_HELP = (
    f"{ICONS[FIRST_OF_MONTH]} First deal of the month: the month's earliest won deal among the participants. "
    f"{ICONS[BIGGEST]} Biggest deal: the largest won deal of the contest so far. "
    f"{ICONS[STREAK]} Streak: a won deal in each of the last {STREAK_WEEKS} weeks, this one included."
)
RANK_HELP = 'Ties share a rank ("1224"). Change: the rank yesterday minus the rank now (▲ up, ▼ down).'


@st.cache_data(show_spinner=False, max_entries=128)
def board(_engine: Engine, version: str, contest: Contest, as_of: date) -> pd.DataFrame:
    return scoring.board(_engine, contest, as_of)


def change_text(change: object) -> str:
    if pd.isna(change):
        return "—"
    return "=" if change == 0 else f"▲ {change}" if change > 0 else f"▼ {-change}"


def badge_text(badges: tuple[str, ...]) -> str:
    return ", ".join(f"{ICONS[b]} {b}" for b in badges)


def describe(c: Contest, today: date) -> str:
    """The contest's rules in one line of Markdown (its prizes escaped), with the current round of a recurring one."""
    rules = " + ".join(
        f"{m.points:g} pt per % of target in {label(m.kpi).lower()}"
        if m.per_target
        else f"{m.points:g} pt per {label(m.kpi).lower()}"
        for m in c.metrics
    )
    extra = ""
    if c.board == "race":
        extra = f" · first to {c.target:g} points"
    elif c.board == "elimination":
        extra = f" · bottom {c.eliminate} out every {c.every_days} days"
    if c.recurring:
        now = occurrence(c, today)
        extra += f" · repeats {c.recurring}, this round {now.start:%d %b} – {now.end:%d %b}"
    text = f"{c.starts:%d %b} – {c.ends:%d %b %Y} · {c.level} · {BOARD_LABELS[c.board]}{extra} · {md(rules)}"
    return text + (f" · Prizes: {md(c.prizes)}" if c.prizes else "")


def table(c: Contest, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows shown: rank, name, score, change, each metric's units, progress or status."""
    shown = frame.assign(change=frame["change"].map(change_text), badges=frame["badges"].map(badge_text))
    columns = ["rank", "name", "score", "change", "badges", *(m.kpi for m in c.metrics)]
    if c.board == "race":
        columns.append("progress")
    if c.board == "elimination":
        shown = shown.assign(status=frame["out_in_round"].map(lambda r: "in" if pd.isna(r) else f"out in round {r}"))
        shown = shown.sort_values("out_in_round", na_position="first", kind="stable")
        columns.append("status")
    return shown[columns]


def column_config(c: Contest) -> dict:
    config = {
        "rank": st.column_config.NumberColumn("Rank", format="%d", help=RANK_HELP),
        "name": "Name",
        "score": st.column_config.NumberColumn("Points", format="%.1f"),
        "change": st.column_config.TextColumn("Since yesterday", help=RANK_HELP),
        "progress": st.column_config.ProgressColumn("To target", format="percent", min_value=0, max_value=1),
        "status": "Status",
        "badges": st.column_config.TextColumn("Badges", help=BADGE_HELP),
    }
    return config | {m.kpi: st.column_config.NumberColumn(label(m.kpi), format="%.0f") for m in c.metrics}


def winners(c: Contest, frame: pd.DataFrame) -> None:
    """The podium once a contest is over: everyone ranked 1 to 3 (ties share a step)."""
    podium = frame[frame["rank"] <= 3]
    st.success(f"Final result of {md(c.name)}" + (f" · Prizes: {md(c.prizes)}" if c.prizes else ""))
    cols = st.columns(max(len(podium), 1))
    for col, (_, row) in zip(cols, podium.iterrows(), strict=False):  # three or so winners
        col.metric(f"{MEDALS[int(row['rank']) - 1]} {md(row['name'])}", f"{row['score']:.1f} points", border=True)
