"""TV mode: full-screen contest boards in large type, rotating every N seconds and refreshing their data
(st.fragment(run_every=...)). The display role sees only this page; ?boards=1,2&every=20 choose."""

import streamlit as st

from spm_core.contests.model import load, visible
from ui import warehouse
from ui.contests.boards import board, describe
from ui.contests.tv import LARGE_TYPE, board_markdown, parse
from ui.context import context
from ui.text import md

ctx = context()
role = ctx.user.role if ctx.user else "rep"
st.markdown(LARGE_TYPE, unsafe_allow_html=True)
params = dict(st.query_params)


def shown(wh: warehouse.Warehouse) -> tuple[list, int, list[str]]:
    """The boards this screen may show now (contests added or changed since the page opened included)."""
    return parse(params, visible(wh.engine, load(wh.engine), ctx.scope, ctx.viewer_id, role))


_, every, notices = shown(ctx.wh)
for notice in notices:
    st.warning(notice)


@st.fragment(run_every=every)
def rotate() -> None:
    """The next board in turn, with fresh data: current() reopens the warehouse after a load."""
    wh = warehouse.current()
    chosen = shown(wh)[0]
    if not chosen:
        st.info("No contest to show yet: an admin or a manager creates one on the Contests page.")
        return
    turn = st.session_state.get("tv_turn", 0)
    st.session_state["tv_turn"] = turn + 1
    c = chosen[turn % len(chosen)]
    frame = board(wh.engine, wh.version, c, wh.as_of)
    st.markdown(f"# {md(c.name)}")
    st.caption(describe(c, wh.as_of))
    if frame.empty:
        st.info("No one takes part in this contest.")
    else:
        st.markdown(board_markdown(c, frame))
    st.caption(f"Board {turn % len(chosen) + 1} of {len(chosen)} · next in {every} s · data as of {wh.as_of:%d %b %Y}")


rotate()
