"""Territories: leaders, planners and admins see every territory's balance, propose and accept moves, carve
territories into new ones, publish the design from an effective date and keep the rules (check, key accounts,
apply); managers see their subtree's territories, accounts and history read-only; reps see their own accounts. Every number and rule is spm_core.planning.territories'; this page reads and draws.
Writes go through ui.planning_view.write (a short read-write engine), as quota planning's do."""

import streamlit as st

from spm_core.db import has_new_columns
from spm_core.planning.rights import BUILDERS, Planner
from spm_core.planning.territories import rules as tr
from spm_core.planning.territories.balance import propose
from spm_core.planning.territories.measures import CRITERIA, account_measures, spreads, territories, territory_summary
from spm_core.planning.territories.model import SIZE_BANDS, Rule, TerritoryError
from spm_core.planning.territories.moves import accept_moves
from ui import format as fmt
from ui.context import context
from ui.planning_view import show_notice, write
from ui.territory_tabs import carve_tab, history_tab, publish_tab
from ui.territory_view import accounts_tab, map_points, summary_table, territory_map
from ui.text import md
from ui.vega import show_chart

PROPOSAL = "territory_proposal"
ctx = context()
role = ctx.user.role if ctx.user is not None else "rep"
leads = role in BUILDERS
engine, as_of, scope = ctx.wh.engine, ctx.wh.as_of, ctx.scope
by = Planner(ctx.user.username if ctx.user else "?", role, scope)  # spm_core checks what this role may change

st.title("Territories")
show_notice()
if not has_new_columns(engine):
    st.info("This warehouse was created before accounts had a location and potential; an import adds them.")
    if leads and st.button("Add them now (changes no data)", key="terr_prepare"):
        write(tr.prepare, "Accounts can now hold a location and potential.")
    st.stop()
accounts = account_measures(engine, as_of, scope)
names = territories(engine, scope)
if accounts.empty:
    st.info("No accounts in your view.")
    st.stop()
summary = territory_summary(accounts, names)
spread = spreads(summary)
help_text = "Spread: standard deviation / mean over the territories shown (SPEC: coefficient of variation)."
for column, (criterion, label) in zip(st.columns(len(CRITERIA)), CRITERIA.items(), strict=True):
    column.metric(f"Spread of {label.split(' (')[0].lower()}", fmt.percent(spread[criterion]), help=help_text)
summary_table(summary)

tabs = st.tabs(["Map", "Accounts", "History", *(["Balance", "New territories", "Publish", "Rules"] if leads else [])])
with tabs[0]:
    show_chart(territory_map(map_points(accounts, summary)), width="stretch")
    st.caption("Drawn offline: no map tiles. Hover a point for its territory's totals.")
with tabs[1]:
    accounts_tab(accounts)
with tabs[2]:
    history_tab(engine, scope, ctx.filters.period, names, as_of)
if not leads:
    st.stop()


def proposal_tab() -> None:
    """Propose, then accept ticked moves or all of them; unticked moves are rejected when the others are accepted."""
    c1, c2, c3 = st.columns(3)
    criterion = c1.selectbox("Balance by", list(CRITERIA), format_func=CRITERIA.get, key="terr_criterion")
    target = c2.number_input("Target spread (%)", min_value=0.0, max_value=100.0, value=5.0, step=1.0, key="terr_target")
    most = c3.number_input("At most this many moves (0: no limit)", min_value=0, value=0, step=10, key="terr_max_moves")
    if st.button("Propose moves", key="terr_propose", type="primary"):
        try:
            st.session_state[PROPOSAL] = propose(
                accounts, names["territory_id"].tolist(), criterion, target / 100, int(most) or None
            )
        except TerritoryError as exc:
            st.error(md(exc))
    proposal = st.session_state.get(PROPOSAL)
    if proposal is None:
        st.caption("Moves go from the most loaded territory to the least loaded, fewest first, nearest the receiver.")
        return
    st.write(
        f"Spread of {proposal.criterion}: {fmt.percent(proposal.spread_before)} → {fmt.percent(proposal.spread_after)} "
        f"with {proposal.disruption} account(s) changing territory."
    )
    if proposal.moves.empty:
        st.info("Nothing to move: the territories are balanced (or no single move would even them out further).")
        return
    label = dict(zip(names["territory_id"], names["territory"], strict=True))
    moves = proposal.moves.assign(
        accept=False, from_territory=proposal.moves["from_id"].map(label), to_territory=proposal.moves["to_id"].map(label)
    )
    edited = st.data_editor(
        moves[["accept", "account_id", "name", "from_territory", "to_territory", "value", "km", "spread_after"]],
        key="terr_moves",
        hide_index=True,
        disabled=["account_id", "name", "from_territory", "to_territory", "value", "km", "spread_after"],
        column_config={
            "accept": st.column_config.CheckboxColumn("Accept"),
            "km": st.column_config.NumberColumn("km", format="%.0f"),
        },
    )
    c1, c2, c3 = st.columns(3)
    if c1.button("Accept the ticked moves", key="terr_accept"):
        chosen = moves[edited["accept"].to_numpy(dtype=bool)]
        st.session_state.pop(PROPOSAL)
        write(lambda e: accept_moves(e, chosen, proposal.criterion, by), f"{len(chosen)} move(s) accepted; the others rejected.")
    if c2.button("Accept all", key="terr_accept_all"):
        st.session_state.pop(PROPOSAL)
        write(lambda e: accept_moves(e, moves, proposal.criterion, by), f"All {len(moves)} move(s) accepted.")
    if c3.button("Reject all", key="terr_reject_all"):
        st.session_state.pop(PROPOSAL)
        st.rerun()


def rules_tab() -> None:
    """The rules, their check, a form for a new rule or a key account, and applying the rules."""
    label = dict(zip(names["territory_id"].astype(int), names["territory"], strict=True))
    listed = tr.rules(engine)
    if listed.empty:
        st.info("No rules yet: territories are as stored on the accounts. Add a rule to let rules decide.")
    else:
        st.dataframe(listed.drop(columns=["created_at"]), hide_index=True, width="stretch")
        found = tr.check(engine)
        st.write(f"Check: {len(found.gaps)} account(s) no rule covers, {len(found.overlaps)} claimed by two territories.")
        for title, frame in (
            ("Not covered", found.gaps),
            ("Claimed twice", found.overlaps),
            ("Rules that claim nothing", found.idle_rules),
        ):
            if not frame.empty:
                st.caption(title)
                st.dataframe(frame, hide_index=True, width="stretch")
        if st.button("Apply the rules", key="terr_apply", help="Gives every account its rule's or key-account territory."):
            write(tr.apply_rules, "Rules applied.")
    st.subheader("New rule")
    c = st.columns(4)
    tid = c[0].selectbox("Territory", list(label), format_func=label.get, key="terr_rule_territory")
    country = c[1].text_input("Country", key="terr_rule_country")
    state = c[2].text_input("State / region", key="terr_rule_state")
    industry = c[3].text_input("Industry", key="terr_rule_industry")
    c = st.columns(3)
    low = c[0].text_input("Postcodes from", key="terr_rule_from")
    high = c[1].text_input("Postcodes to", key="terr_rule_to")
    band = c[2].selectbox(
        "Size band", ["", *dict(SIZE_BANDS)], key="terr_rule_band", help="Small < 200 employees ≤ Medium < 2,000 ≤ Large"
    )
    if st.button("Add the rule", key="terr_rule_add"):
        try:
            rule = Rule(int(tid), country, state, low, high, industry, band)
        except TerritoryError as exc:
            st.error(md(exc))
        else:
            write(lambda e: tr.add_rule(e, rule, by), f"Rule added: {rule.describe()}.")
    st.subheader("Key account")
    c = st.columns(3)
    account_id = c[0].number_input("Account id", min_value=1, step=1, key="terr_key_account")
    key_tid = c[1].selectbox("Territory", list(label), format_func=label.get, key="terr_key_territory")
    reason = c[2].text_input("Reason", value="key account", key="terr_key_reason")
    if st.button("Name the account into the territory", key="terr_key_add"):
        assignment = tr.Assignment(int(account_id), int(key_tid), reason)
        write(lambda e: tr.assign(e, [assignment], by), f"Account {int(account_id)} named into {label[key_tid]}.")


with tabs[3]:
    proposal_tab()
with tabs[4]:
    carve_tab(engine, scope, accounts, names, by)
with tabs[5]:
    publish_tab(engine, scope, as_of, by)
with tabs[6]:
    rules_tab()
