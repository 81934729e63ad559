"""Quota planning: leaders, planners and admins build scenarios (target, method per level, ramp), override with a
reason, plan seats for hires and fill them, give a rep a ramp of their own, compare, check capacity and publish;
managers see their subtree (its seats included), submit their numbers and approve; reps see their own quota.
?scenario=<id> opens a scenario the viewer may see. Every number and every rule is spm_core.planning's; this
page reads inputs, calls it and draws. Writes go through ui.planning_view.write (a short read-write engine)."""

import re
from datetime import date

import pandas as pd
import streamlit as st

from spm_core import metrics
from spm_core.filters import Filters, Period
from spm_core.planning import scenarios as sc
from spm_core.planning.bottom_up import gaps, submit
from spm_core.planning.capacity import capacity
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.files import import_plan, read_plan_file
from spm_core.planning.model import (
    BUCKETING,
    MEASURES,
    METHODS,
    LevelRule,
    Override,
    PlanError,
    PlanRules,
    Ramp,
    parse_tiers,
    to_cents,
)
from spm_core.planning.publish import approvals, approve, publish, quota_changes
from spm_core.planning.rights import BUILDERS, PUBLISHERS, Planner
from ui import format as fmt
from ui.context import context
from ui.planning_seats import RAMP_HELP, ramp_form, seats_tab
from ui.planning_view import allocation_table, downloads, show_notice, write
from ui.text import md

LEVELS = 4  # rule rows offered; the last applies to every deeper level
ctx = context()
role = ctx.user.role if ctx.user is not None else "rep"
leads = role in BUILDERS  # separation of duties (spm_core/planning/rights.py): planners build, leaders publish
PUBLISHER_HELP = "Planners build and prepare a plan; a leader publishes it (whoever builds the numbers does not make them live)."
engine, as_of, scope = ctx.wh.engine, ctx.wh.as_of, ctx.scope
by = Planner(ctx.user.username if ctx.user else "?", role, scope)  # spm_core checks what this role may change

st.title("Quota planning")
show_notice()


def new_scenario() -> None:
    """The form a leader fills to build a scenario; the allocation is computed and stored on Create."""
    year = as_of.year + 1
    name = st.text_input("Scenario name", value=f"Plan {year}", key="plan_new_name")
    c1, c2, c3 = st.columns(3)
    start = c1.date_input("First month", value=date(year, 1, 1), key="plan_new_start")
    end = c2.date_input("Last month", value=date(year, 12, 1), key="plan_new_end")
    target = c3.number_input("Company target", min_value=0.0, value=10_000_000.0, step=100_000.0, key="plan_new_target")
    rules = []
    for level in range(1, LEVELS + 1):
        m, s, t = st.columns([1, 2, 3])
        method = m.selectbox(f"Level {level}", METHODS, key=f"plan_method_{level}")
        measure = s.selectbox(f"Measure, level {level}", list(MEASURES), format_func=MEASURES.get, key=f"plan_measure_{level}")
        tiers = t.text_input(
            f"Tiers, level {level}",
            value="Top:500000:50; Core:0:50",
            key=f"plan_tiers_{level}",
            help="name : lowest measure : percent",
        )
        rules.append((method, measure, tiers))
    ramp = st.text_input(
        "Ramp for new hires (% of quota by month of tenure)", value="25,50,75", key="plan_new_ramp", help=RAMP_HELP
    )
    if st.button("Create the scenario", key="plan_create", type="primary"):
        try:
            levels = tuple(
                LevelRule(m, None if m == "even" else s, parse_tiers(t) if m == BUCKETING else ()) for m, s, t in rules
            )
            period = Period(start.replace(day=1), Period.month(end).end)
            spec = ScenarioSpec(name, period, PlanRules(to_cents(target), levels), ramp=Ramp.parse(ramp))
        except (PlanError, ValueError) as exc:
            st.error(md(exc))
            return
        write(lambda e: sc.create_scenario(e, spec, by, as_of), f"Scenario {name} created.")


listing = sc.scenario_list(engine)
if role == "rep":  # drafts are the planners' work; a rep sees what was published for them
    listing = listing[listing["status"] == "published"]
if leads:
    with st.expander("New scenario", expanded=listing.empty, icon=":material/add:"):
        new_scenario()
if listing.empty:
    st.info("No plan yet." if leads else "No quota plan has been published for you yet.")
    st.stop()

labels = {
    int(i): f"{n} ({s}, {p:%b %Y}–{q:%b %Y})"
    for i, n, s, p, q in listing[["id", "name", "status", "period_start", "period_end"]].itertuples(index=False)
}
wanted, first = st.query_params.get("scenario"), 0
if wanted is not None:
    if re.fullmatch(r"[0-9]{1,18}", wanted) and int(wanted) in labels:  # ASCII digits only: int() takes '²' and '٣'
        first = list(labels).index(int(wanted))
    else:
        shown = wanted[:40] + ("…" if len(wanted) > 40 else "")
        st.warning(f"Ignored scenario={md(shown)}: no scenario with that id that you may open.")
sid = st.selectbox("Scenario", list(labels), index=first, format_func=labels.get, key="plan_scenario")
row = sc.scenario_row(engine, sid)
draft = row["status"] == "draft"
period = Period(pd.Timestamp(row["period_start"]).date(), pd.Timestamp(row["period_end"]).date())
rows = sc.allocation(engine, sid, scope)

if role == "rep":
    st.subheader("Your quota")
    allocation_table(rows)
    monthly = metrics.query(engine, ["quota"], Filters(period), scope, ["month"], as_of)
    st.dataframe(
        monthly,
        hide_index=True,
        column_config={
            "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
            "quota": st.column_config.NumberColumn("Quota", format="%.2f"),
        },
    )
    downloads(engine, sid, scope)
    st.subheader("Changes to your quota")
    st.dataframe(quota_changes(engine, scope), hide_index=True)
    st.stop()

top = rows.loc[rows["depth"] == rows["depth"].min(), "amount"].sum() if len(rows) else 0.0
st.caption(
    f"{'Target' if leads else 'Your part of the plan'}: {fmt.money_exact(top)}; ramp {md(row['ramp'] or 'none')} % by month "
    "of tenure. Children always add up to their parent to the cent: floors, then the leftover cents to the largest remainders."
)
tabs = st.tabs(["Allocation", "Planned seats", "Bottom-up", "Approval", "Compare", "Capacity", "History"])

with tabs[0]:
    allocation_table(rows)
    downloads(engine, sid, scope)
    if leads and draft:
        st.subheader("Override")
        people = rows[rows["depth"] > 0]
        names = dict(zip(people["person_id"].astype(int), people["name"], strict=True))
        c1, c2, c3 = st.columns([2, 1, 3])
        who = c1.selectbox("Person", list(names), format_func=names.get, key="plan_override_person")
        amount = c2.number_input("Quota", min_value=0.0, step=1000.0, key="plan_override_amount")
        reason = c3.text_input("Reason (required)", key="plan_override_reason")
        if st.button("Override and reallocate the rest", key="plan_override"):
            try:
                override = Override(int(who), to_cents(amount), reason)
            except PlanError as exc:
                st.error(md(exc))
            else:
                write(lambda e: sc.set_override(e, sid, override, by, as_of), f"{names[who]} set to {amount:,.2f}.")
        ramp_form(rows, sid, by, as_of)
        upload = st.file_uploader("Import a plan (CSV or XLSX, as downloaded)", type=["csv", "xlsx"], key="plan_import")
        if upload is not None and st.button("Import", key="plan_import_go"):
            try:
                frame = read_plan_file(upload.name, upload.getvalue())
            except PlanError as exc:
                st.error(md(exc))
            else:
                write(lambda e: import_plan(e, sid, frame, by, as_of), f"{upload.name} imported.")
    if leads:
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        copy_name = c1.text_input("Name of the copy", value=f"{row['name']} (copy)", key="plan_copy_name")
        if c2.button("Copy", key="plan_copy"):
            write(lambda e: sc.copy_scenario(e, sid, copy_name, by), f"Copied as {copy_name}.")
        if draft and c3.button("Delete", key="plan_delete"):
            write(lambda e: sc.delete_scenario(e, sid), f"Scenario {row['name']} deleted.")

with tabs[1]:
    # Filling a published seat writes quotas, so it is a publisher's act; in a draft every plan builder fills seats.
    seats_tab(engine, sid, rows, scope, leads if draft else role in PUBLISHERS, draft, by, as_of)

with tabs[2]:
    gap = gaps(engine, sid, scope)
    st.dataframe(gap[["name", "kind", "depth", "top_down", "bottom_up", "gap", "source"]], hide_index=True, width="stretch")
    if role == "manager" and draft and ctx.viewer_id is not None:
        mine = gap[["person_id", "name", "top_down"]].assign(your_number=gap["bottom_up"])
        edited = st.data_editor(mine, key="plan_submit_editor", hide_index=True, disabled=["person_id", "name", "top_down"])
        if st.button("Submit my numbers", key="plan_submit"):
            numbers = {
                int(p): to_cents(v) for p, v in zip(edited["person_id"], edited["your_number"], strict=True) if pd.notna(v)
            }
            write(lambda e: submit(e, sid, ctx.viewer_id, numbers, by), "Your numbers are submitted.")

with tabs[3]:
    st.dataframe(approvals(engine, sid, scope), hide_index=True, width="stretch")
    if role == "manager" and draft and ctx.viewer_id is not None and st.button("Approve my part of the plan", key="plan_approve"):
        write(lambda e: approve(e, sid, ctx.viewer_id, by), "Approved.")
    if leads and draft and role == "planner":
        st.caption(PUBLISHER_HELP)
    if (
        role in PUBLISHERS
        and draft
        and st.button(
            "Publish",
            key="plan_publish",
            type="primary",
            help=f"Writes the monthly quotas; the previous ones are kept in the history. {PUBLISHER_HELP}",
        )
    ):
        write(lambda e: publish(e, sid, by, as_of), f"Published: Quota attainment now uses {row['name']}'s quotas.")

with tabs[4]:
    others = {k: v for k, v in labels.items() if k != sid}
    if others:
        other = st.selectbox("Compare with", list(others), format_func=others.get, key="plan_compare")
        st.dataframe(sc.compare(engine, sid, other, scope), hide_index=True, width="stretch")
    else:
        st.info("One scenario only: copy it to compare.")

with tabs[5]:
    st.dataframe(capacity(engine, sid, as_of, scope), hide_index=True, width="stretch")
    st.caption(
        "Capacity = Σ reps and planned seats × monthly bookings per fully ramped rep (12 whole months of history, by "
        "segment) × the ramp factor of each month (their own schedule where they have one; a seat from its start month)."
    )

with tabs[6]:
    st.dataframe(quota_changes(engine, scope), hide_index=True, width="stretch")
