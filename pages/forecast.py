"""Forecast: the categories rolled up the manager tree, the call against quota, what people
submitted, a statistical forecast for the rest of the period with its range, and how accurate past
forecasts were. Numbers come from spm_core.forecast (SPEC.md definitions)."""

import pandas as pd
import streamlit as st

from spm_core.forecast import CATEGORIES, LOOKBACK_PERIODS, compare_submissions, current_week, submission_quarter, weeks_in
from spm_core.history import NeedsHistory
from spm_core.kpis import CATALOGUE
from ui import forecast_charts as charts
from ui import forecast_data as data
from ui import format as fmt
from ui.context import context
from ui.drilldown import deal_table
from ui.text import md
from ui.tiles import kpi_tiles
from ui.vega import show_chart

TILES = (
    "bookings",
    "commit_pipeline",
    "best_case_pipeline",
    "forecast_call",
    "forecast_upside",
    "weighted_pipeline",
    "quota",
    "open_pipeline",
)
CATEGORY_HELP = (
    "Closed is bookings (won in the period). Commit, Best Case and Pipeline are open deals closing in the period "
    "by their forecast category; Omitted deals are in no category. Call = closed + commit; upside = call + best case. "
    "A manager's row sums their whole subtree, any depth."
)
METHOD = (
    "**Method: historical win rates by stage and deal age.** For each of the last "
    f"{LOOKBACK_PERIODS} periods of the same length, the deals that were open at the same number of days before "
    "its end (from opportunity history) are grouped by stage and age; the share of them won before that period "
    "ended is the win probability of today's open deals in the same stage and age (sparse cells lean on the stage's "
    "own probability). Expected = booked so far + Σ p × amount over open deals closing in the period + the average "
    "amount past periods won in their remaining days from deals that were not in their pipeline yet. The range is "
    "the 10th–90th percentile, from the variance of those outcomes. Why this method: it learns this team's own "
    "conversion and end-of-period timing from its history, which stage probabilities or a time series of bookings "
    "alone cannot see."
)
NO_HISTORY = (
    "**History not available.** This warehouse has no opportunity history (snapshots of stage, amount and close "
    "date over time), so the {what} cannot be computed. Import an opportunity history export to enable it."
)


def definitions(*names: str) -> str:
    return "\n\n".join(f"**{CATALOGUE[n].label}**: {CATALOGUE[n].help}" for n in names)


def rollup_table(tree: pd.DataFrame) -> None:
    """The whole tree, indented by depth: each row is the person's subtree."""
    shown = tree.assign(name=[("\u2003" * int(d)) + str(n) for d, n in zip(tree["depth"], tree["name"], strict=True)])
    money = {c: st.column_config.NumberColumn(label, format="dollar") for c, label in (
        ("closed", "Closed"), ("commit", "Commit"), ("best_case", "Best case"), ("pipeline", "Pipeline"),
        ("omitted", "Omitted"), ("call", "Call"), ("upside", "Upside"), ("weighted", "Weighted"), ("quota", "Quota"),
    )}  # fmt: skip
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_order=[
            "name",
            "role",
            "reps",
            "closed",
            "commit",
            "best_case",
            "pipeline",
            "call",
            "upside",
            "quota",
            "call_vs_quota",
            "weighted",
            "omitted",
        ],
        placeholder="no quota",
        column_config={
            "name": "Person (and their team)",
            "role": "Role",
            "reps": st.column_config.NumberColumn("Reps", format="%d"),
            "call_vs_quota": st.column_config.NumberColumn("Call vs quota", format="percent", help="Call ÷ quota."),
            **money,
        },
    )


def rollup_section(ctx, tree: pd.DataFrame) -> None:
    st.subheader("Forecast by manager", help=CATEGORY_HELP)
    if tree.empty:
        st.info("Nobody in view owns deals or quota for these filters.")
        return
    managers = tree[tree["direct_reports"] > 0]
    labels = {None: "Top of my view", **{int(p): str(n) for p, n in zip(managers["person_id"], managers["name"], strict=True)}}
    roots = tree[tree["manager_id"].isna().to_numpy(bool)]
    # One person at the top (a leader, a manager, a rep): start one level below, where the comparison is.
    start = int(roots["person_id"].iloc[0]) if len(roots) == 1 and int(roots["person_id"].iloc[0]) in labels else None
    parent = st.selectbox(
        "Roll up below", list(labels), index=list(labels).index(start), format_func=labels.get, key="forecast_parent"
    )
    rows = roots if parent is None else tree[tree["manager_id"].eq(parent).fillna(False).to_numpy(bool)]
    show_chart(charts.category_bars(rows), width="stretch")
    with st.expander(f"The whole tree ({len(tree):,} people)"):
        rollup_table(tree)
    category_drilldown(ctx, tree)


def category_drilldown(ctx, tree: pd.DataFrame) -> None:
    """'View deals' for one category of one person's subtree (scope applies: only deals in view)."""
    if not st.toggle("View deals: forecast categories", key="forecast_category_deals"):
        return
    left, right = st.columns(2)
    category = left.selectbox("Category", CATEGORIES, index=1, key="forecast_category")
    people = {
        int(p): ("\u2003" * int(d)) + str(n) for p, n, d in zip(tree["person_id"], tree["name"], tree["depth"], strict=True)
    }
    root = right.selectbox(
        "Whose", [None, *people], format_func=lambda p: "Everyone in view" if p is None else people[p], key="forecast_root"
    )
    frame = data.category_deals(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope, category, root)
    total = frame["amount"].sum() if not frame.empty else 0
    st.caption(f"{len(frame):,} deals, ${total:,.0f} in {category}.")
    deal_table(frame, f"forecast_{category.lower().replace(' ', '_')}_{ctx.filters.period.start}.csv", "forecast_category_deals")


def submissions_section(ctx, tree: pd.DataFrame) -> None:
    quarter = submission_quarter(ctx.filters.period, ctx.wh.as_of)
    st.subheader(
        "Submitted forecasts",
        help=f"Each person's latest forecast submission for {quarter.start:%d %b} – {quarter.end:%d %b %Y} made by "
        "today, beside the system's numbers for their subtree. A submitted commit includes what has closed, so it is "
        "compared with the call (closed + commit).",
    )
    subs = data.submissions(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope, quarter, ctx.wh.as_of)
    if subs.empty:
        st.info("No forecast submissions for this quarter from anyone in view.")
        return
    if quarter != ctx.filters.period:
        st.caption(
            f"Submissions are per quarter: these are for {quarter.start:%d %b} – {quarter.end:%d %b %Y}, compared with the filtered period's numbers."
        )
    frame = compare_submissions(subs, tree)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_order=[
            "name",
            "role",
            "kind",
            "submitted_at",
            "submitted_commit",
            "system_call",
            "difference",
            "submitted_best_case",
            "system_upside",
            "quota",
            "note",
        ],
        column_config={
            "name": "Person",
            "role": "Role",
            "kind": "Kind",
            "submitted_at": st.column_config.DatetimeColumn("Submitted", format="D MMM YYYY"),
            "submitted_commit": st.column_config.NumberColumn("Submitted commit", format="dollar"),
            "system_call": st.column_config.NumberColumn("System call", format="dollar"),
            "difference": st.column_config.NumberColumn("Difference", format="dollar"),
            "submitted_best_case": st.column_config.NumberColumn("Submitted best case", format="dollar"),
            "system_upside": st.column_config.NumberColumn("System upside", format="dollar"),
            "quota": st.column_config.NumberColumn("Quota", format="dollar"),
            "note": "Note",
        },
    )


def statistical_section(ctx, totals: pd.Series) -> None:
    st.subheader("Statistical forecast", help=METHOD)
    if not ctx.wh.has_history:
        st.info(NO_HISTORY.format(what="statistical forecast"), icon=":material/history:")
        return
    try:
        sf = data.statistical(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope, ctx.wh.as_of)
    except NeedsHistory:
        st.info(NO_HISTORY.format(what="statistical forecast"), icon=":material/history:")
        return
    if sf.is_final:
        st.info(f"The period is over: it booked **{fmt.money(sf.bookings)}**; there is nothing left to forecast.")
        return
    quota = float(totals["quota"] or 0)
    cols = st.columns(4)
    cols[0].metric("Expected bookings", fmt.money(sf.expected), help=METHOD, border=True)
    # A metric value is Markdown: md keeps the two amounts' "$" from making KaTeX math.
    cols[1].metric("Range (10th–90th pct.)", md(f"{fmt.money(sf.low)} – {fmt.money(sf.high)}"), border=True)
    cols[2].metric("Expected vs quota", fmt.percent(sf.expected / quota) if quota > 0 else "no quota", border=True)
    cols[3].metric("Forecast call", fmt.money(totals["forecast_call"]), help=CATALOGUE["forecast_call"].help, border=True)
    st.caption(
        f"{sf.remaining_days} days left · learned from {len(sf.periods)} past period(s)"
        + (
            f" ({sf.periods[-1].start:%d %b %Y} – {sf.periods[0].end:%d %b %Y})"
            if sf.periods
            else ": none with history yet, so stage probabilities are used"
        )
    )
    show_chart(charts.statistical_chart(sf, quota, float(totals["forecast_call"] or 0)), width="stretch")
    with st.expander("Win probabilities by stage and age"):
        st.dataframe(
            sf.cells,
            hide_index=True,
            width="stretch",
            column_order=["stage", "age", "history_deals", "history_won", "p", "open_deals", "open_amount", "expected"],
            column_config={
                "stage": "Stage",
                "age": "Age",
                "history_deals": st.column_config.NumberColumn("Past deals", format="%d"),
                "history_won": st.column_config.NumberColumn("Past won", format="%d"),
                "p": st.column_config.NumberColumn("Win probability", format="percent"),
                "open_deals": st.column_config.NumberColumn("Open deals now", format="%d"),
                "open_amount": st.column_config.NumberColumn("Open amount", format="dollar"),
                "expected": st.column_config.NumberColumn("Expected", format="dollar"),
            },
        )
    if st.toggle("View deals: statistical forecast", key="forecast_statistical_deals"):
        deals = data.statistical_deals(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope, ctx.wh.as_of)
        st.caption(f"{len(deals):,} open deals closing in the period, largest expected amount first.")
        if deals.empty:
            st.info("No open deals close in this period.")
            return
        extra = {
            "age_days": st.column_config.NumberColumn("Age (days)", format="%d"),
            "win_probability": st.column_config.NumberColumn("Win probability", format="percent"),
            "expected_amount": st.column_config.NumberColumn("Expected", format="dollar"),
        }
        deal_table(deals, f"statistical_forecast_{ctx.filters.period.start}.csv", "forecast_statistical_deals", extra)


def accuracy_section(ctx) -> None:
    period = ctx.filters.period
    st.subheader(
        "Forecast accuracy",
        help="For each past period: the forecast (closed + commit) as opportunity history stood at week N of the period, "
        "against what was actually booked. Accuracy = 1 − |forecast − actual| ÷ actual.",
    )
    if not ctx.wh.has_history:
        st.info(NO_HISTORY.format(what="forecast accuracy"), icon=":material/history:")
        return
    weeks = weeks_in(period)
    week = st.select_slider(
        "Forecast as of week",
        options=list(range(weeks)),
        value=current_week(period, ctx.wh.as_of),
        key="forecast_week",
        help="Week 0 is the period's first day. It starts at the week the current period is in: the fair comparison for today's call.",
    )
    try:
        frame = data.accuracy(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope, int(week), ctx.wh.as_of)
    except NeedsHistory:
        st.info(NO_HISTORY.format(what="forecast accuracy"), icon=":material/history:")
        return
    if frame.empty:
        st.info("No past period in the history has a forecast or bookings for these filters.")
        return
    scored = frame["accuracy"].dropna()
    if not scored.empty:
        st.caption(f"Mean accuracy over {len(scored)} period(s): **{fmt.percent(scored.mean())}**.")
    show_chart(charts.accuracy_chart(frame), width="stretch")


ctx = context()
period = ctx.filters.period
st.title("Forecast")
st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · data as of {ctx.wh.as_of:%d %b %Y}")
totals = kpi_tiles(ctx, TILES)
tree = data.rollup(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope, ctx.wh.as_of)
rollup_section(ctx, tree)
submissions_section(ctx, tree)
statistical_section(ctx, totals)
accuracy_section(ctx)
