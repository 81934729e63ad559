"""The territories page's planning tabs beyond balancing: carving accounts into new territories, publishing the
design from an effective date, and the history of who held each account when. Every rule and number is
spm_core.planning.territories'; these functions read the widgets, call it and draw."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.db import read_frame
from spm_core.filters import Period, Scope
from spm_core.people import visible_people
from spm_core.planning.rights import Planner
from spm_core.planning.territories.carve import carve
from spm_core.planning.territories.history import account_history, assignments_as_of, credited_bookings
from spm_core.planning.territories.measures import CRITERIA
from spm_core.planning.territories.model import TerritoryError
from spm_core.planning.territories.moves import NewTerritory, accept_carving
from spm_core.planning.territories.publish import OPEN_DEALS, apply_due, planned_changes, publications, publish
from ui import format as fmt
from ui.downloads import csv_download
from ui.planning_view import write
from ui.territory_view import map_points, territory_map
from ui.text import md
from ui.vega import show_chart

CARVING = "territory_carving"
PUBLISH_HELP = (
    "Publishing makes the planned territories (as the rules, key accounts and accepted moves left them) the "
    "assignment in force from the effective date; the previous assignment is kept as history, never overwritten. "
    "A moved account keeps its owner when they own the new territory or work under its owner; otherwise it goes "
    "to the territory's owner (a territory without an owner leaves the owner as it is). Won and lost deals never "
    "change owner, so past bookings stay credited where they were; open deals follow the new owner if chosen "
    "(only those owned by the previous owner: overlays keep theirs). A future date takes effect once it comes. "
    "Refused: a date in a closed (approved, locked or paid) pay period, or on or before an account's last "
    "published change."
)
CARVE_HELP = (
    "Carving cuts the chosen territories' accounts into compact blocks of the map with about equal totals of the "
    "criterion, then evens them out with the fewest moves. Key accounts (named) are not carved. Disruption: the "
    "accounts whose territory changes; keeping one territory leaves its largest block where it is."
)


def history_tab(engine: Engine, scope: Scope, period: Period, names: pd.DataFrame, as_of: date) -> None:
    """Every account's territory and owner over time, for the accounts in view, with who published each change,
    who held them on a chosen day, and the period's bookings credited to the territory in force on each deal's
    close date."""
    rows = account_history(engine, scope)
    if rows.empty:
        st.info("Nothing published yet: each account's territory and owner are as stored.")
    else:
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption("In force from valid_from (blank: before history began) until the day before valid_to (blank: still).")
        csv_download("Download the history (CSV)", rows, "territory_history.csv", "territory_history_csv")
    day = st.date_input("Who held the accounts on", value=as_of, key="terr_history_day")
    held = assignments_as_of(engine, day, scope).merge(names[["territory_id", "territory"]], on="territory_id", how="left")
    counts = held.groupby(held["territory"].fillna("(none)")).size().rename("accounts").reset_index()
    st.dataframe(counts, hide_index=True, width="stretch")
    st.subheader(f"Bookings credited, {period.start} to {period.end}")
    st.dataframe(credited_bookings(engine, period, scope), hide_index=True, width="stretch")
    st.caption("Each won deal counts in the territory its account was in on the deal's close date.")


def _owners(engine: Engine, scope: Scope) -> dict[int | None, str]:
    people = read_frame(engine, visible_people(None, scope))
    return {None: "(no owner yet)", **dict(zip(people["id"].astype(int), people["name"], strict=True))}


def carve_tab(engine: Engine, scope: Scope, accounts: pd.DataFrame, names: pd.DataFrame, by: Planner) -> None:
    """Carve the chosen territories into N new balanced ones, preview them on the map, name them and create them."""
    label = dict(zip(names["territory_id"].astype(int), names["territory"], strict=True))
    c1, c2, c3 = st.columns(3)
    sources = c1.multiselect("Territories to carve", list(label), format_func=label.get, key="terr_carve_from")
    n = int(c2.number_input("Into how many territories", min_value=2, max_value=20, value=2, key="terr_carve_n"))
    criterion = c3.selectbox("Balance by", list(CRITERIA), format_func=CRITERIA.get, key="terr_carve_criterion")
    keep = st.checkbox(
        "The territory keeps one block (fewer accounts move)", key="terr_carve_keep", disabled=len(sources) != 1, help=CARVE_HELP
    )
    if st.button("Carve", key="terr_carve", type="primary", disabled=not sources):
        chosen = accounts[accounts["territory_id"].isin(sources)]
        try:
            st.session_state[CARVING] = carve(chosen, n, criterion, keep=sources[0] if keep and len(sources) == 1 else None)
        except TerritoryError as exc:
            st.error(md(exc))
    carving = st.session_state.get(CARVING)
    if carving is None:
        st.caption(CARVE_HELP)
        return
    pieces = len(carving.loads)
    st.write(
        f"Spread of {carving.criterion} over the {pieces} new territories: {fmt.percent(carving.spread)}; "
        f"{carving.disruption} account(s) change territory."
    )
    kept = carving.kept_piece
    title = {p: (label.get(carving.keep, "kept") if p == kept else f"New {p + 1}") for p in range(pieces)}
    preview = carving.accounts.assign(territory=carving.accounts["piece"].map(title)).merge(
        accounts[["account_id", "potential"]], on="account_id"
    )
    summary = preview.groupby("territory", as_index=False).agg(accounts=("account_id", "size"), potential=("potential", "sum"))
    show_chart(territory_map(map_points(preview, summary)), width="stretch")
    owners = _owners(engine, scope)
    new = []
    for p in (p for p in range(pieces) if p != kept):
        c1, c2, c3 = st.columns([2, 2, 1])
        name = c1.text_input(f"Name of {title[p]}", key=f"terr_carve_name_{p}")
        owner = c2.selectbox(f"Owner of {title[p]}", list(owners), format_func=owners.get, key=f"terr_carve_owner_{p}")
        load = carving.loads[p]
        c3.metric(carving.criterion.capitalize(), fmt.money(load) if carving.criterion == "potential" else f"{load:,.0f}")
        new.append(NewTerritory(name, owner))
    c1, c2 = st.columns(2)
    if c1.button("Create the territories and move their accounts", key="terr_carve_accept"):
        st.session_state.pop(CARVING)
        write(lambda e: accept_carving(e, carving, new, by), f"{len(new)} territor(ies) created; publish to make them effective.")
    if c2.button("Discard", key="terr_carve_discard"):
        st.session_state.pop(CARVING)
        st.rerun()


def publish_tab(engine: Engine, scope: Scope, as_of: date, by: Planner) -> None:
    """What publishing would change, the publish form, due publications to apply, and the audit of publishing."""
    changes = planned_changes(engine, scope)
    st.markdown(f"{len(changes)} account(s) would change territory or owner.", help=PUBLISH_HELP)
    if not changes.empty:
        st.dataframe(changes, hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    effective = c1.date_input("Effective from", value=as_of, key="terr_publish_date")
    deals = c2.radio("Open deals of moved accounts", list(OPEN_DEALS), format_func=OPEN_DEALS.get, key="terr_publish_deals")
    note = st.text_input("Note (optional)", key="terr_publish_note")
    if st.button("Publish", key="terr_publish", type="primary", disabled=changes.empty):
        write(lambda e: publish(e, effective, deals, by, as_of, note), f"Published {len(changes)} account(s) from {effective}.")
    done = publications(engine, scope)
    due = done[done["applied_at"].isna() & (pd.to_datetime(done["effective_date"]).dt.date <= as_of)]
    if not due.empty and st.button(f"Apply the {len(due)} publication(s) whose date has come", key="terr_apply_due"):
        write(lambda e: apply_due(e, as_of), "Owners and open deals moved for the publications due.")
    if not done.empty:
        st.subheader("Published")
        st.dataframe(done, hide_index=True, width="stretch")
