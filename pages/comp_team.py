"""Team commissions: the statements of everyone in the viewer's scope for a period (a manager's
subtree; leaders and comp admins everyone), one opened in full, and the first approval level (a
manager for their subtree, a leader for anyone): approve, or send back with a comment. ?person= and ?period= open one statement when the viewer may see it."""

import pandas as pd
import streamlit as st

from spm_core.comp.cycle import approve_many, decide
from spm_core.comp.periods import period_label
from spm_core.comp.trace import money_text
from spm_core.filters import Period
from ui.comp import data
from ui.comp.common import actor, person_from_url, pick_period, require, show_notice, write
from ui.comp.statement_view import show_statement
from ui.context import context
from ui.text import md

APPROVERS = ("manager", "leader")
ROLES = ("manager", "leader", "comp_admin", "admin")  # not planners: pay stays with payees, managers and comp

ctx = context()
require(ctx, ROLES, "Team commissions")
engine, version = ctx.wh.engine, ctx.wh.version
st.title("Team commissions")
show_notice()
current = Period.quarter(ctx.wh.as_of)
period = pick_period(data.periods_in_view(engine, version, ctx.scope), current, "team_period")
frame = data.team(engine, version, ctx.scope, period)
if frame.empty:
    st.info(f"No statements for {period_label(period)} in your view.")
    st.stop()
st.dataframe(pd.DataFrame({"person": frame["person"], "total": frame["total"].map(money_text), "lines": frame["lines"],
                           "status": frame["status"], "comment": frame["comment"]}), hide_index=True, key="team_table")
names = dict(zip(frame["person_id"].astype(int), frame["person"], strict=True))
wanted = person_from_url(names)
ids = list(names)
chosen = st.selectbox("Open a statement", ids, index=ids.index(wanted) if wanted else 0, format_func=lambda i: names[i],
                      key="team_person")
s = data.statement(engine, version, ctx.scope, chosen, period)
show_statement(s, "team")

if ctx.user.role in APPROVERS:
    who = actor(ctx)
    waiting = [int(p) for p, status in zip(frame["person_id"], frame["status"], strict=True)
               if status in ("awaiting manager", "sent back") and int(p) != ctx.viewer_id]
    st.header("Approve")
    if not waiting:
        st.info("Nothing awaits your approval in this period.")
    else:
        picked = st.multiselect("Statements awaiting you", waiting, default=waiting, format_func=lambda i: names[i],
                                key="team_approve_pick")
        if st.button("Approve selected", key="team_approve", disabled=not picked):
            write(ctx, lambda conn: f"Approved {approve_many(conn, who, period, picked)} statement(s).")
        comment = st.text_input("Comment (required to send back)", max_chars=2000, key="team_comment")
        if st.button(f"Send {md(names[chosen])}'s statement back", key="team_send_back", disabled=chosen not in waiting):
            write(ctx, lambda conn: f"Sent back: {decide(conn, who, period, chosen, approve=False, comment=comment)}.")
