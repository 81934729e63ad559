"""Leaderboards: rank reps or teams on a KPI, with rank changes, badges and the viewer's own rank."""

from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core import leaderboard as lb
from spm_core.filters import Filters, Scope
from spm_core.kpis import CATALOGUE
from spm_core.settings import load_settings, settings_file
from ui.context import context
from ui.downloads import csv_download
from ui.drilldown import view_deals
from ui.leaderboard_view import (
    LEVEL_LABELS,
    LEVEL_NOUNS,
    export_frame,
    metric_label,
    my_rank,
    styled_board,
    table_rows,
    top_chart,
)
from ui.vega import show_chart

RANKING_HELP = (
    'Competition ranking ("1224"): equal values share a rank and the next rank is skipped; ties are listed by '
    "name. Change is the rank in the previous period of the same length minus the rank now (▲ up, ▼ down, "
    '"new" when not ranked then).'
)
BADGE_HELP = "\n".join(f"- **{name}**: {text}" for name, text in lb.BADGE_HELP.items())
TABLE_ROWS = 12  # rows visible without scrolling: the table and the chart fit a 1366x768 laptop screen
TABLE_LIMIT = 100  # rows the table lists (plus the viewer's own); the deal selector below still finds everyone


@st.cache_data(show_spinner=False, max_entries=256)
def _board(
    _engine: Engine, version: str, metric: str, filters: Filters, scope: Scope, level: str, as_of: date, audience: lb.Audience
) -> pd.DataFrame:
    return lb.board(_engine, metric, filters, scope, level, as_of, audience=audience)


@st.cache_data(show_spinner=False, max_entries=64)
def _entries_in_scope(_engine: Engine, version: str, level: str, scope: Scope) -> frozenset[int] | None:
    return lb.entries_in_scope(_engine, level, scope)


@st.cache_data(show_spinner=False, max_entries=256)
def _viewer_entry(_engine: Engine, version: str, viewer_id: int | None, level: str) -> int | None:
    return lb.viewer_entry(_engine, viewer_id, level)


ctx = context()
# spm_core decides what a rep sees of the others; a context without a user gets a rep's view, not more.
audience = lb.Audience.of(ctx.user.role if ctx.user else "rep", ctx.viewer_id, load_settings(settings_file(ctx.wh.url)))
period, previous = ctx.filters.period, ctx.filters.period.previous()
st.title("Leaderboards")
st.caption(
    f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · changes vs {previous.start:%d %b %Y} – {previous.end:%d %b %Y}"
    f" · data as of {ctx.wh.as_of:%d %b %Y}"
)

with st.container(horizontal=True, vertical_alignment="bottom"):
    metric = st.segmented_control(
        "Rank by",
        lb.METRICS,
        format_func=metric_label,
        default="bookings",
        required=True,
        key="leaderboard_metric",
        help="\n\n".join([*(f"**{CATALOGUE[m].label}**: {CATALOGUE[m].help}" for m in lb.METRICS), lb.PEER_RULE]),
    )
    level = st.segmented_control(
        "Board",
        lb.LEVELS,
        format_func=LEVEL_LABELS.__getitem__,
        default="rep",
        required=True,
        key="leaderboard_level",
        help=f"{RANKING_HELP}\n\nBadges:\n{BADGE_HELP}",
    )

kpi = CATALOGUE[metric]
one, many = LEVEL_NOUNS[level]
# Ranks are computed over the leaderboard's scope (peers included); deal lists below keep the viewer's own scope.
board = _board(ctx.wh.engine, ctx.wh.version, metric, ctx.filters, ctx.leaderboard_scope, level, ctx.wh.as_of, audience)
hidden = board.attrs.get("peer_values_hidden")
unranked = board.attrs.get("unranked", ())
entry = _viewer_entry(ctx.wh.engine, ctx.wh.version, ctx.viewer_id, level)

if board.empty:
    if metric == "attainment" and not ctx.wh.has_quotas:
        st.info("No quota set: this warehouse has no quotas, so there is no attainment to rank.")
    elif metric == "attainment" and unranked:
        st.info(f"No quota set for the {many} in view in this period: attainment cannot be ranked.")
    else:
        st.info(f"No data for these filters: no {many} in view for this period.")
    st.stop()
if (board["value"] == 0).all():
    st.info(f"No {kpi.label.lower()} in this period for these filters: all {len(board):,} {many} are at zero.")
    st.stop()

table, side = st.columns([3, 2])
with side:
    mine = my_rank(board, metric, level, ctx.viewer_id, entry)
    moved = isinstance(mine.delta, int)
    st.metric(
        f"My rank · {kpi.label}",
        mine.value,
        delta=mine.delta,
        delta_color="normal" if moved else "off",
        delta_arrow="auto" if moved else "off",
        delta_description="places vs previous period" if moved else None,
        help=f"{kpi.help}\n\n{RANKING_HELP}",
        border=True,
    )
    st.caption(mine.note)
    if hidden:  # bars need the values
        st.info(f"{hidden} Ranks are still over everyone's numbers.", icon=":material/visibility_off:")
    else:
        show_chart(top_chart(board, metric, entry), width="stretch")
with table:
    rows = table_rows(board, entry, TABLE_LIMIT)
    st.dataframe(
        styled_board(rows, metric, entry),
        hide_index=True,
        height=35 * (min(len(rows), TABLE_ROWS) + 1) + 3,
        column_config={
            "Rank": st.column_config.NumberColumn("Rank", width="small", format="%d", help=RANKING_HELP),
            "Name": st.column_config.TextColumn("Name", width="medium"),
            kpi.label: st.column_config.Column(kpi.label, help=kpi.help),
            "Change": st.column_config.TextColumn("Change", width="small", help=RANKING_HELP),
            "Badges": st.column_config.TextColumn("Badges", width="medium", help=BADGE_HELP),
        },
        key="leaderboard_table",
    )
    notes = [f"{len(board):,} {many if len(board) != 1 else one} ranked"]
    if len(rows) < len(board):
        notes.append(
            f"the table lists the first {TABLE_LIMIT}{' and your row' if len(rows) > TABLE_LIMIT else ''}; the CSV holds all"
        )
    if unranked:
        notes.append(f"{len(unranked):,} without a quota in this period not ranked")
    if level == "rep":
        notes.append("individual boards list reps only")
    st.caption(" · ".join(notes) + ".")
    csv_download(
        "Download the whole board (CSV)", export_frame(board, metric), f"leaderboard-{level}-{metric}.csv", "leaderboard_csv"
    )

visible = _entries_in_scope(ctx.wh.engine, ctx.wh.version, level, ctx.scope)
ids = [i for i in board.index if visible is None or i in visible]
if metric == "activities":
    st.caption("Activities are not deals: there is no deal list behind this board.")
elif not ids:
    st.caption(f"Deal lists are limited to the people in your view, and none of the {many} on this board is within it.")
else:
    labels = {i: f"#{r} {n}" for i, r, n in zip(board.index, board["rank"], board["name"], strict=True)}
    picked = st.selectbox(
        f"Deals behind a {one}'s {kpi.label.lower()}",
        ids,
        index=ids.index(entry) if entry in ids else 0,
        format_func=labels.__getitem__,
        key="leaderboard_deals_of",
        help=None if visible is None else "Only the rows whose deals you may see are listed.",
    )
    narrowed = replace(ctx.filters, **({"reps": frozenset({picked})} if level == "rep" else {"teams": frozenset({picked})}))
    view_deals(ctx, metric, key="leaderboard_deals", filters=narrowed, label=f"{kpi.label} of {board.at[picked, 'name']}")
