"""The quota planning page's planned seats and ramps of their own: the list every role with a team sees, and
the forms leaders and planners use (add, remove and fill a seat; give a rep or seat a schedule of their own).
Every rule is spm_core.planning.seats'; writes go through ui.planning_view.write."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.dimensions import filter_options
from spm_core.filters import Scope
from spm_core.planning.model import PlanError, Ramp, RampOverride
from spm_core.planning.rights import Planner
from spm_core.planning.seats import add_seat, candidates, fill_seat, remove_ramp, remove_seat, seat_list, set_ramp
from ui.planning_view import write
from ui.text import md

HELP = (
    "**Planned seats** (open headcount, TBH) are hires the plan counts on who are not people in the warehouse yet. "
    "A seat sits under a manager with a start month and a segment and takes a share of its manager's number like a "
    "rep: in a weighted or bucketing level it weighs as the average rep of its segment in this plan (it has no "
    "history), and a tied leftover cent goes to people before seats. Its quota ramps from its start month, and "
    "capacity counts it from then. Publishing writes quotas for people only: an open seat stays a seat, clearly "
    "labelled here, with no person, no sign-in and no quota in Quota attainment, until it is filled. **Filling** a "
    "seat with the hire: in a draft the person takes the seat's place, override and ramp; in a published plan the "
    "seat's amount becomes the person's monthly quotas, ramped from their hire date, with the history kept."
)
RAMP_HELP = (
    "Quota × the ramp factor of the month of tenure (month 1 = the hire month; nothing before it; 100 % after the "
    "schedule). A rep or seat may ramp by a schedule of their own, with a reason: e.g. 50 for an experienced hire "
    "(50 % in the hire month, then full); empty for no ramp. It is used for the quota after ramp, for capacity and "
    "when publishing."
)


def seats_tab(
    engine: Engine, sid: int, rows: pd.DataFrame, scope: Scope, editable: bool, draft: bool, by: Planner, as_of: date
) -> None:
    """The seats in view and, for whoever may edit the plan, the seat forms."""
    st.caption(HELP)
    seats = seat_list(engine, sid, scope)
    if seats.empty:
        st.info("No planned seat in your part of this plan.")
    else:
        st.dataframe(
            seats.drop(columns=["node"]),
            hide_index=True,
            width="stretch",
            column_config={
                "seat_id": "Seat",
                "start": st.column_config.DateColumn("Start month", format="MMM YYYY"),
                "amount": st.column_config.NumberColumn("Quota", format="%.2f"),
                "ramped": st.column_config.NumberColumn("Quota after ramp", format="%.2f"),
            },
        )
    if not editable:
        return
    if draft:
        _add_form(engine, sid, rows, scope, by, as_of)
    open_seats = seats[seats["status"] == "open"]
    if open_seats.empty:
        return
    names = dict(zip(open_seats["seat_id"].astype(int), open_seats["name"], strict=True))
    c1, c2 = st.columns(2)
    seat = c1.selectbox("Open seat", list(names), format_func=names.get, key="plan_seat_pick")
    hires = candidates(engine, sid, scope)
    who = dict(zip(hires["id"].astype(int), hires["name"], strict=True))
    hired = c2.selectbox("Hired rep", list(who), format_func=who.get, key="plan_seat_hire", index=None)
    b1, b2 = st.columns(2)
    if b1.button("Fill the seat with this rep", key="plan_seat_fill", disabled=hired is None):
        write(lambda e: fill_seat(e, sid, int(seat), int(hired), by, as_of), f"{who[hired]} fills {names[seat]}.")
    if draft and b2.button("Remove the seat", key="plan_seat_remove"):
        write(lambda e: remove_seat(e, sid, int(seat), by, as_of), f"{names[seat]} removed.")


def _add_form(engine: Engine, sid: int, rows: pd.DataFrame, scope: Scope, by: Planner, as_of: date) -> None:
    teams = rows[rows["kind"] == "team"]
    managers = dict(zip(teams["person_id"].astype(int), teams["name"], strict=True))
    segments = filter_options(engine, scope).segments
    st.subheader("Add a planned seat")
    c1, c2, c3, c4 = st.columns(4)
    name = c1.text_input("Name", placeholder="TBH (numbered)", key="plan_seat_name")
    manager = c2.selectbox("Manager", list(managers), format_func=managers.get, key="plan_seat_manager")
    start = c3.date_input("Start month", value=as_of.replace(day=1), key="plan_seat_start")
    segment = c4.selectbox(
        "Segment", [None, *segments], format_func=lambda s: "none" if s is None else segments[s], key="plan_seat_segment"
    )
    if st.button("Add the seat", key="plan_seat_add"):
        write(lambda e: add_seat(e, sid, name, int(manager), start, segment, by, as_of), "Planned seat added.")


def ramp_form(rows: pd.DataFrame, sid: int, by: Planner, as_of: date) -> None:
    """Give a rep or seat of a draft a ramp schedule of their own, or take it away."""
    carriers = rows[rows["kind"] != "team"]
    names = dict(zip(carriers["person_id"].astype(int), carriers["name"], strict=True))
    st.subheader("Ramp of their own", help=RAMP_HELP)
    c1, c2, c3 = st.columns([2, 1, 3])
    node = c1.selectbox("Rep or seat", list(names), format_func=names.get, key="plan_ramp_person")
    text = c2.text_input("Ramp %", value="50", key="plan_ramp_text", help="% by month of tenure, e.g. 50 or 50,75")
    reason = c3.text_input("Ramp reason (required)", key="plan_ramp_reason")
    b1, b2 = st.columns(2)
    if b1.button("Set this ramp", key="plan_ramp_set"):
        try:
            own = RampOverride(int(node), Ramp.parse(text), reason)
        except PlanError as exc:
            st.error(md(exc))
        else:
            write(lambda e: set_ramp(e, sid, own, by, as_of), f"{names[node]} ramps by {own.ramp.text() or 'no ramp'}.")
    if b2.button("Back to the plan's ramp", key="plan_ramp_remove"):
        write(lambda e: remove_ramp(e, sid, int(node), by, as_of), f"{names[node]} ramps by the plan's schedule.")
