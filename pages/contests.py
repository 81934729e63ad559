"""Contests: the boards of the contests the viewer may see (ranked, race, elimination), the winners once
one is over, and for managers and admins a form to create one. ?contest=<id> opens one contest."""

import sqlalchemy as sa
import streamlit as st

from spm_core.contests.model import load, visible
from spm_core.db import read_frame
from spm_core.schema import segment, team
from ui.coaching.writes import saved_notice
from ui.contests.boards import board, column_config, describe, table, winners
from ui.contests.create import create_form
from ui.context import context
from ui.text import md

ctx = context()
engine, role = ctx.wh.engine, ctx.user.role if ctx.user else "rep"
st.title("Contests")
saved_notice()

contests = visible(engine, load(engine), ctx.scope, ctx.viewer_id, role)
by_id = {c.id: c for c in contests}
wanted = st.query_params.get("contest")
chosen = None
if wanted is not None:
    if wanted.isdigit() and int(wanted) in by_id:
        chosen = int(wanted)
    else:
        st.warning(f"Ignored contest={md(wanted)}: no contest with that id that you may see.")

if not contests:
    st.info("No contests for you yet.")
else:
    ids = list(by_id)
    picked = st.selectbox(
        "Contest", ids, index=ids.index(chosen) if chosen else 0, format_func=lambda i: by_id[i].name, key="contest_pick"
    )
    c = by_id[picked]
    st.subheader(md(c.name))
    st.caption(describe(c, ctx.wh.as_of))
    frame = board(engine, ctx.wh.version, c, ctx.wh.as_of)
    if ctx.wh.as_of > c.ends and not frame.empty:
        winners(c, frame)
    if ctx.wh.as_of < c.starts:
        st.info(f"Starts on {c.starts:%d %b %Y}: everyone is at 0 until then.")
    if frame.empty:
        st.info("No one takes part: no active person matches this contest's teams, segments and roles.")
    else:
        st.dataframe(table(c, frame), hide_index=True, column_config=column_config(c), key="contest_board")

if role in ("admin", "manager"):
    with st.expander("Create a contest", expanded=not contests):
        teams = read_frame(engine, sa.select(team.c.id, team.c.name).order_by(team.c.name))
        segments = read_frame(engine, sa.select(segment.c.id, segment.c.name).order_by(segment.c.name))
        create_form(ctx.viewer_id, ctx.scope, teams, segments, ctx.wh.as_of)
