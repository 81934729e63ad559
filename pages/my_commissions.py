"""My commissions (a rep or a manager, on their own pay): this period's statement with each line's
trace, past statements, the earnings estimator, and disputes on a line.

Everything is read through spm_core.comp with the viewer's scope and their own person id; ?person= for
anyone else gets a notice and nothing. The estimator runs the engine in a rolled-back transaction,
through ui.warehouse.writable() (the app's engine is read-only).
"""

from decimal import Decimal

import pandas as pd
import streamlit as st

from spm_core.comp.audit import CompError
from spm_core.comp.cycle import CLOSED
from spm_core.comp.disputes import raise_dispute
from spm_core.comp.estimator import estimate
from spm_core.comp.periods import period_label
from spm_core.comp.statements import gauges
from spm_core.comp.trace import money_text, rate_text
from spm_core.filters import Period
from ui import warehouse
from ui.comp import data
from ui.comp.common import actor, person_from_url, pick_period, reopened, require, show_notice, write
from ui.comp.statement_view import show_statement
from ui.context import context
from ui.text import md

ctx = context()
require(ctx, ("rep", "manager"), "My commissions")
engine, me = ctx.wh.engine, ctx.viewer_id
st.title("My commissions")
show_notice()
if me is None:
    st.info("Your sign-in is not linked to a person in the warehouse: there is no statement to show.")
    st.stop()
if "person" in st.query_params and person_from_url({me: ""}) is None:
    st.stop()  # someone else's statement: the notice, and nothing else

past = data.history(engine, ctx.wh.version, ctx.scope, me)
periods = [Period(a, b) for a, b in zip(past["period_start"], past["period_end"], strict=True)]
period = pick_period(periods, Period.quarter(ctx.wh.as_of), "my_comp_period")
s = data.statement(engine, ctx.wh.version, ctx.scope, me, period)
show_statement(s, "my")

st.header("Past statements")
if past.empty:
    st.info("No statements yet.")
else:
    st.dataframe(pd.DataFrame({"period": [period_label(p) for p in periods], "total": past["total"].map(money_text),
                               "lines": past["lines"]}), hide_index=True, key="my_past")

st.header("Earnings estimator")
if s.state in CLOSED:
    st.info(f"{period_label(period)} is {s.state}: pick an open period to estimate.")
else:
    deals = data.open_deals(engine, ctx.wh.version, ctx.scope, me)
    if deals.empty:
        st.info("You have no open deals.")
    else:
        labels = {int(i): f"{name or 'deal'} · {money_text(Decimal(str(amount)))} · {close}" for i, name, amount, close in
                  zip(deals["id"], deals["name"], deals["amount"], deals["close_date"], strict=True)}
        picked = st.multiselect("If these deals close this period", list(labels), format_func=lambda i: f"{i}: {labels[i]}",
                                key="my_estimate_deals")
        if st.button("Estimate", key="my_estimate", disabled=not picked):
            try:
                with warehouse.writable() as rw:
                    result = estimate(rw, ctx.scope, me, period, picked)
            except CompError as exc:
                st.error(md(str(exc)))
            else:
                st.metric("Projected payout", money_text(result.projected), delta=money_text(result.projected - result.now))
                for _, text in gauges(result.attainments):
                    st.caption(md(f"If they close: {text}"))
                st.dataframe(pd.DataFrame({
                    "deal": result.deal_lines["opportunity_id"], "band": [
                        f"{lo}–{hi} %" if not pd.isna(hi) else f"{lo} %+" for lo, hi in
                        zip(result.deal_lines["band_lower"], result.deal_lines["band_upper"], strict=True)],
                    "rate": [rate_text(m, r) for m, r in zip(result.deal_lines["measure"], result.deal_lines["rate"], strict=True)],
                    "amount": result.deal_lines["amount"].map(money_text),
                    "trace": result.deal_lines["formula"]}), hide_index=True, key="my_estimate_lines")
            finally:
                ctx = reopened(ctx)  # writable() closed the read-only engine the rest of the page reads with
                engine = ctx.wh.engine

st.header("Disputes")
mine = data.disputes(engine, ctx.wh.version, ctx.scope, person_id=me)  # a manager's team's disputes are not theirs
if not mine.empty:
    st.dataframe(mine[["id", "line_id", "status", "comment", "outcome", "adjustment"]].assign(
        adjustment=[None if pd.isna(a) else money_text(a) for a in mine["adjustment"]]), hide_index=True, key="my_disputes")
if not s.lines.empty:
    with st.form("my_dispute_form", clear_on_submit=True):
        line = st.selectbox("Line", list(s.lines["id"]), format_func=lambda i: f"line {i}", key="my_dispute_line")
        comment = st.text_area("What is wrong with this line?", max_chars=2000, key="my_dispute_comment")
        if st.form_submit_button("Raise a dispute"):
            who = actor(ctx)
            write(ctx, lambda conn: f"Dispute #{raise_dispute(conn, who, int(line), comment)} raised on line {line}.")
