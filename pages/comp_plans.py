"""Admin: compensation plans as YAML. The saved versions, an editor that checks a draft and previews what
it would have paid per person in the last whole quarter, and saving it as a new version.

Plans are spm_core.comp (the same checks as `python -m spm_core comp plans import`). The preview runs the
engine in a transaction that is rolled back, through ui.warehouse.writable() because the app's own engine
is read-only; nothing is written until "Save". Problems are shown in a table, never as Markdown (a plan's
text is user input).
"""

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import streamlit as st

from spm_core.comp.periods import period_label
from spm_core.comp.plans import Plan, PlanError, plan_from_yaml, plan_to_yaml
from spm_core.comp.preview import preview
from spm_core.comp.store import load_plans, save_plan
from spm_core.filters import Period
from ui import format as fmt
from ui import warehouse
from ui.context import context, set_context

NEW = "A new plan"
TEMPLATE = """name: New plan
version: 1
effective_from: {start}
components:
- name: Commission
  kind: commission
  mode: marginal
  bands:
  - {{from: 0, to: 50, rate: 2}}
  - {{from: 50, to: 100, rate: 5}}
  - {{from: 100, to: 150, rate: 8}}
  - {{from: 150, rate: 12}}
assignments: []
"""

ctx = context()
if ctx.user is None or ctx.user.role not in ("admin", "comp_admin"):  # navigation hides this page; this guards a direct link
    st.error("Only admins and comp admins manage compensation plans.")
    st.stop()

st.title("Compensation plans")
if message := st.session_state.pop("comp_plans_saved", None):
    st.success(message, icon=":material/check:")
    st.caption("Recalculate a period with `python -m spm_core comp calc --period 2026-Q3` (statements come with part 2).")
period = Period.quarter(ctx.wh.as_of).previous()
plans = load_plans(ctx.wh.engine)
if plans:
    st.dataframe(
        pd.DataFrame(
            {
                "plan": [p.name for p in plans],
                "version": [p.version for p in plans],
                "from": [p.effective_from for p in plans],
                "to": [p.effective_to for p in plans],
                "components": [", ".join(f"{c.name} ({c.kind})" for c in p.components) for p in plans],
                "people assigned": [len({a.person_id for a in p.assignments}) for p in plans],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No plans saved yet: write one below, or import YAML with `python -m spm_core comp plans import FILE.yaml`.")

labels = {f"{p.name} v{p.version}": p for p in plans}
choice = st.selectbox(
    "Start from",
    [NEW, *labels],
    key="comp_plans_start",
    help="A saved version opens as the next version, from this quarter: saving it ends the current version the day "
    "before and moves its people to the new one.",
)


def starting_text(choice: str) -> str:
    if choice == NEW:
        return TEMPLATE.format(start=period.start.isoformat())
    plan: Plan = labels[choice]
    latest = max(p.version for p in plans if p.name == plan.name)
    start = max(Period.quarter(ctx.wh.as_of).start, plan.effective_from + timedelta(days=1))  # supersedes from there
    return plan_to_yaml(replace(plan, version=latest + 1, effective_from=start, effective_to=None, assignments=()))


text = st.text_area(
    "Plan (YAML)",
    value=starting_text(choice),
    height=420,
    key=f"comp_plans_yaml_{choice}",
    help="One version of one plan. Percentages are written as percents (rate: 8 is 8 %). Without assignments, "
    "the preview applies the draft to the people on the plan of the same name. A commission or SPIFF pays on a "
    "`measure`: won_amount (bookings by close date, the default), created_amount (pipeline created, by created date) "
    "or won_count (won deals; its bands pay an `amount` per deal and it needs a `target`). Attainment is the measure "
    "over the person's quota, or over the component's `target` per month when given. `deals` (product, segment, type, "
    "min_amount) limits a commission to matching deals. `capped: true` puts a bonus or SPIFF inside the commission's "
    "caps; `per: year` measures a bonus on the plan year so far (paid once); `year_start_month` starts the plan year "
    "(year cap, year to date) in another month than January.",
)
check, save = st.columns(2)
checked = check.button(f"Check and preview on {period_label(period)}", key="comp_plans_check", width="stretch")
saved = save.button("Save as a new version", key="comp_plans_save", type="primary", width="stretch")


def read_plan(text: str) -> Plan | None:
    try:
        return plan_from_yaml(text)
    except PlanError as exc:
        show_problems(exc.problems)
        return None


def cents(value: object) -> str:
    """$1,234.56 / −$5.00: payouts are shown to the cent (their lines are rounded to it)."""
    if value is None:
        return fmt.NO_VALUE
    return f"{'−' if value < 0 else ''}${abs(value):,.2f}"


def show_problems(problems: list[str]) -> None:
    st.error(f"{len(problems)} problem(s): nothing was saved.")
    st.dataframe(pd.DataFrame({"problem": problems}), hide_index=True, width="stretch")


if checked and (plan := read_plan(text)) is not None:
    with st.spinner("Running the draft on last quarter's deals (nothing is written)…"):
        with warehouse.writable() as engine:
            frame = preview(engine, plan, period, ctx.scope)
        set_context(replace(ctx, wh=warehouse.current()))  # writable() closed this session's read-only engine
    st.success("The plan is valid.")
    if frame.empty:
        st.info("Nobody to preview: the draft assigns no one, and no saved plan of that name had people in the quarter.")
    else:
        change = [draft - (now or 0) for now, draft in zip(frame["now"], frame["draft"], strict=True)]
        st.caption(
            f"What each person would have been paid for {period_label(period)} ({period.start} – {period.end}) under this "
            "draft, beside the period's calculated total (empty when the quarter was never calculated)."
        )
        st.dataframe(
            pd.DataFrame({"person": frame["person"], "calculated": frame["now"].map(cents),
                          "under the draft": frame["draft"].map(cents), "change": [cents(c) for c in change]}),
            hide_index=True,
            width="stretch",
        )

if saved and (plan := read_plan(text)) is not None:
    try:
        with warehouse.writable() as engine:
            save_plan(engine, plan, ctx.user.username)
    except PlanError as exc:
        show_problems(exc.problems)
    else:
        set_context(replace(ctx, wh=warehouse.current()))
        st.session_state["comp_plans_saved"] = "Saved as a new version: it is in the list above."
        st.rerun()  # the list of versions above now includes it
