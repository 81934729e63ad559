"""Compensation admin (comp admins and admins): run a period's calculation, the approval queue (after
the managers), lock and mark paid, the auto-approval threshold, manual adjustments, the disputes queue,
the payroll export and the audit log. Every change is spm_core.comp's, written with its audit entry."""

from decimal import Decimal, InvalidOperation

import pandas as pd
import streamlit as st

from spm_core.comp.adjustments import add_adjustment
from spm_core.comp.cycle import approve_many, lock, mark_paid, set_auto_approve_below
from spm_core.comp.disputes import reject, resolve
from spm_core.comp.engine import calculate_in
from spm_core.comp.payroll import PAYABLE
from spm_core.comp.periods import period_label
from spm_core.comp.trace import money_text
from spm_core.filters import Period
from ui.comp import data
from ui.comp.common import actor, pick_period, require, show_notice, write
from ui.context import context
from ui.downloads import csv_download, xlsx_download
from ui.text import md

AUTO_HELP = ("At each calculation, a statement whose total is under this amount (either sign: a −$30 correction too) is "
             "approved at both levels at once, by 'auto-approve' in the audit log; a later recalculation starts its "
             "approvals again. Leave it empty to have every statement approved by its manager and a comp admin.")

ctx = context()
require(ctx, ("comp_admin", "admin"), "Compensation admin")
engine, version, who = ctx.wh.engine, ctx.wh.version, actor(ctx)
st.title("Compensation admin")
show_notice()
current = Period.quarter(ctx.wh.as_of)
period = pick_period(data.periods_in_view(engine, version, ctx.scope), current, "admin_period")
label = period_label(period)
period_state, threshold = data.period_state(engine, version, period)
st.caption(md(f"{label} ({period.start} – {period.end}) is {period_state}."))


def money(text: str) -> Decimal | None:
    """An amount typed in, or None with a message (nothing is written)."""
    try:
        return Decimal(text.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        st.error(f"Not an amount: {md(text)}. Write it like 125.50 or -40.")
        return None


cycle, queue, payroll_tab, log_tab = st.tabs(["Calculate and approve", "Disputes", "Payroll", "Audit log"])
with cycle:
    if st.button(f"Calculate {label}", key="admin_calc"):
        write(ctx, lambda conn: f"Calculated {label}: {calculate_in(conn, period, run_by=who.username).lines} line(s).")
    frame = data.team(engine, version, ctx.scope, period)
    if frame.empty:
        st.info(f"No statements for {label} yet.")
    else:
        st.dataframe(pd.DataFrame({"person_id": frame["person_id"], "person": frame["person"], "total": frame["total"].map(money_text),
                                   "status": frame["status"], "comment": frame["comment"]}), hide_index=True, key="admin_queue")
        waiting = [int(p) for p, s in zip(frame["person_id"], frame["status"], strict=True) if s == "awaiting comp admin"]
        st.caption(f"{len(waiting)} statement(s) approved by their manager await you.")
        if st.button("Approve all awaiting me", key="admin_approve", disabled=not waiting):
            write(ctx, lambda conn: f"Approved {approve_many(conn, who, period, waiting)} statement(s).")
    left, right = st.columns(2)
    if left.button(f"Lock {label}", key="admin_lock", disabled=period_state != "approved"):
        write(ctx, lambda conn: lock(conn, who, period), f"{label} locked.")
    if right.button(f"Mark {label} paid", key="admin_paid", disabled=period_state != "locked"):
        write(ctx, lambda conn: mark_paid(conn, who, period), f"{label} marked paid.")
    with st.form("admin_threshold"):
        text = st.text_input("Auto-approve statements under (empty: never)", value="" if threshold is None else str(threshold),
                             help=AUTO_HELP)
        if st.form_submit_button("Save threshold") and (not text.strip() or (amount := money(text)) is not None):
            value = None if not text.strip() else amount
            write(ctx, lambda conn: set_auto_approve_below(conn, who, value), "Auto-approval threshold saved.")
    with st.form("admin_adjust", clear_on_submit=True):
        st.caption(f"A manual adjustment for {label} (posted in the next open period if {label} is closed).")
        person = st.number_input("Person id", min_value=1, step=1, key="admin_adjust_person")
        text = st.text_input("Amount", key="admin_adjust_amount")
        reason = st.text_input("Reason", max_chars=2000, key="admin_adjust_reason")
        if st.form_submit_button("Post adjustment") and (amount := money(text)) is not None:
            write(ctx, lambda conn: f"Adjustment line {add_adjustment(conn, who, int(person), period, amount, reason)} posted.")

with queue:
    open_ones = data.disputes(engine, version, ctx.scope, "open")
    everything = data.disputes(engine, version, ctx.scope)
    st.dataframe(everything[["id", "person", "line_id", "period_start", "comment", "status", "outcome", "adjustment"]],
                 hide_index=True, key="admin_disputes")
    if open_ones.empty:
        st.info("No open disputes.")
    else:
        with st.form("admin_dispute"):
            dispute = st.selectbox("Open dispute", list(open_ones["id"]), format_func=lambda i: f"#{i}", key="admin_dispute_pick")
            text = st.text_input("Adjustment amount (to resolve)", key="admin_dispute_amount")
            reason = st.text_input("Reason", max_chars=2000, key="admin_dispute_reason")
            resolve_it, reject_it = st.columns(2)
            if resolve_it.form_submit_button("Resolve with an adjustment") and (amount := money(text)) is not None:
                write(ctx, lambda conn: f"Dispute #{dispute} resolved: line {resolve(conn, who, int(dispute), amount, reason)}.")
            if reject_it.form_submit_button("Reject"):
                write(ctx, lambda conn: reject(conn, who, int(dispute), reason), f"Dispute #{dispute} rejected.")

with payroll_tab:
    if period_state not in PAYABLE:
        st.info(f"{label} is {period_state}: payroll is exported once the period is locked.")
    else:
        pay = data.payroll_of(engine, version, who, period)
        st.dataframe(pay.assign(amount=pay["amount"].map(money_text)), hide_index=True, key="admin_payroll")
        st.caption(md(f"{len(pay)} people, {money_text(sum(pay['amount'], Decimal('0')))} in total."))
        csv_download("Payroll (CSV)", pay, f"payroll_{label}.csv", "admin_payroll_csv")
        xlsx_download("Payroll (XLSX)", pay, f"payroll_{label}.xlsx", "admin_payroll_xlsx")

with log_tab:
    only = st.toggle(f"Only the entries about {label}", key="admin_audit_period")
    log = data.audit_log(engine, version, ctx.scope, period if only else None)
    st.dataframe(log, hide_index=True, key="admin_audit")
    name = f"comp_audit_log_{label}" if only else "comp_audit_log"
    csv_download("Audit log (CSV)", log, f"{name}.csv", "admin_audit_csv")
    xlsx_download("Audit log (XLSX)", log, f"{name}.xlsx", "admin_audit_xlsx")
